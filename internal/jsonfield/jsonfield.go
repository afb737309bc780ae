// Package jsonfield decodes single JSON values of API responses tolerantly:
// a field may be missing, null, or of a neighbouring type (a number sent as a
// string), as the vendor's documents and SDKs show. Every service decoder
// uses it, so the rules and the error wording are the same everywhere.
package jsonfield

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// IsNull reports whether raw is the JSON literal null.
func IsNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// absent reports whether raw is missing or null.
func absent(raw json.RawMessage) bool { return len(raw) == 0 || IsNull(raw) }

// Kind names the kind of a JSON value for error messages: "missing", "null",
// "an object", "an array", "a string", "a boolean" or "a number".
func Kind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "missing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// String accepts a JSON string, null or nothing ("").
func String(raw json.RawMessage) (string, error) {
	if absent(raw) {
		return "", nil
	}
	return StringOr(raw, "a string")
}

// StringOr decodes a JSON string; the error says it wanted want.
func StringOr(raw json.RawMessage, want string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("is %s, want %s", Kind(raw), want)
	}
	return s, nil
}

// Code accepts a JSON string, a number (kept as its literal text), null or
// nothing ("").
func Code(raw json.RawMessage) (string, error) {
	if absent(raw) {
		return "", nil
	}
	if Kind(raw) == "a number" {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", fmt.Errorf("is %s, want a string or a number", Kind(raw))
		}
		return n.String(), nil
	}
	return StringOr(raw, "a string or a number")
}

// Int accepts an integral JSON number, a string holding one (surrounding
// spaces allowed, "" is 0), null or nothing (0) that fits in bitSize bits; a
// number written with a fraction or an exponent must be integral and, for 64
// bits, within the 2^53 that a float holds exactly.
func Int(raw json.RawMessage, bitSize int) (int64, error) {
	var text string
	switch Kind(raw) {
	case "missing", "null":
		return 0, nil
	case "a number":
		text = string(bytes.TrimSpace(raw))
	case "a string":
		s, _ := String(raw)
		text = strings.TrimSpace(s)
		if text == "" {
			return 0, nil
		}
	default:
		return 0, fmt.Errorf("is %s, want an integer", Kind(raw))
	}
	if n, err := strconv.ParseInt(text, 10, bitSize); err == nil {
		return n, nil
	}
	limit := float64(int64(1)<<(bitSize-1) - 1)
	if bitSize > 53 {
		limit = 1 << 53
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > limit {
		return 0, fmt.Errorf("cannot use %q as an integer", hwcloud.Truncate(text, 40))
	}
	return int64(f), nil
}

// Flag accepts a JSON string (true when it equals truth, ignoring case and
// surrounding spaces), a boolean, null or nothing (false).
func Flag(raw json.RawMessage, truth string) (bool, error) {
	if absent(raw) {
		return false, nil
	}
	switch Kind(raw) {
	case "a boolean":
		var b bool
		err := json.Unmarshal(raw, &b)
		return b, err
	case "a string":
		s, _ := String(raw)
		return strings.EqualFold(strings.TrimSpace(s), truth), nil
	}
	return false, fmt.Errorf("is %s, want a string", Kind(raw))
}

// StringList accepts an array of strings, one comma-separated string, null or
// nothing.
func StringList(raw json.RawMessage) ([]string, error) {
	if absent(raw) {
		return nil, nil
	}
	switch Kind(raw) {
	case "a string":
		s, _ := String(raw)
		return strings.Split(s, ","), nil
	case "an array":
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, errors.New("want an array of strings")
		}
		return list, nil
	}
	return nil, fmt.Errorf("is %s, want an array of strings", Kind(raw))
}
