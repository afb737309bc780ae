package evs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DecodeVolumes decodes a volume list page: {"volumes": [...], "count": N}.
// It is tolerant where the data allows: "volumes" null or absent is an empty
// page; an item that is not an object, or has no usable "id" (a non-empty
// string, or a number), is skipped; a "name" that is not a string is taken
// as no name. items is the number of items in "volumes", skipped ones
// included (what the server counts for offset and limit). count is -1 when
// "count" is absent or not a non-negative integer (also given as a string).
// Only a body that is not a JSON object, or a "volumes" that is not an
// array, is an error.
func DecodeVolumes(data []byte) (vols []Volume, items, count int, err error) {
	var top struct {
		Volumes json.RawMessage `json:"volumes"`
		Count   json.RawMessage `json:"count"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, 0, -1, fmt.Errorf("decoding the volume list: %w", err)
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil, 0, -1, errors.New("decoding the volume list: the body is null")
	}
	count = decodeCount(top.Count)
	if len(top.Volumes) == 0 || string(top.Volumes) == "null" {
		return nil, 0, count, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(top.Volumes, &raw); err != nil {
		return nil, 0, -1, fmt.Errorf("decoding the volume list: \"volumes\" is not an array: %w", err)
	}
	vols = make([]Volume, 0, len(raw))
	for _, it := range raw {
		var v struct {
			ID   json.RawMessage `json:"id"`
			Name json.RawMessage `json:"name"`
		}
		if json.Unmarshal(it, &v) != nil {
			continue
		}
		id := scalar(v.ID)
		if id == "" {
			continue
		}
		var name string
		if json.Unmarshal(v.Name, &name) != nil {
			name = ""
		}
		vols = append(vols, Volume{ID: id, Name: name})
	}
	return vols, len(raw), count, nil
}

// scalar returns a JSON string's value or a number's text; "" otherwise.
func scalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// decodeCount reads "count": a non-negative integer, or a string holding one.
func decodeCount(raw json.RawMessage) int {
	s := scalar(raw)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
