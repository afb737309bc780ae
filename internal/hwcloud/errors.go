package hwcloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// opIAMToken is the operation name (APIError.Operation, RequestEvent.Operation)
// of POST {iam}/v3/auth/tokens. Service clients name their own operations.
const opIAMToken = "iam_token"

// ErrBodyTooLarge is matched (errors.Is) by the error returned when a
// response body exceeds EngineOptions.MaxBodyBytes.
var ErrBodyTooLarge = errors.New("response body too large")

// APIError is a non-2xx HTTP response from a Huawei Cloud service or IAM.
type APIError struct {
	// Operation is the operation name of the request (Request.Op).
	Operation string
	// StatusCode is the HTTP status code.
	StatusCode int
	// Code is the vendor error code, e.g. "AutoBackup.0205" or "APIGW.0301";
	// empty when the body had none. A numeric code (IAM sends them) is kept as
	// its decimal text.
	Code string
	// Message is the vendor message or, for a body that is not a known JSON
	// error shape (an HTML page from a proxy, say), its first 200 bytes with
	// control characters and runs of white space folded to single spaces.
	Message string
	// RequestID is the X-Request-Id response header or, when absent, the
	// request_id of the body.
	RequestID string
}

// Error formats the error as, for example,
// `list_tasks: HTTP 404 AutoBackup.0205: policy not found (request_id 8c3f)`.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Operation)
	b.WriteString(": HTTP ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	// IAM's own error body repeats the status as its code ("401"): say it once.
	code := e.Code
	if code == strconv.Itoa(e.StatusCode) {
		code = ""
	}
	if code != "" {
		b.WriteByte(' ')
		b.WriteString(code)
	}
	switch {
	case e.Message != "":
		b.WriteString(": ")
		b.WriteString(e.Message)
	case code == "":
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteByte(' ')
			b.WriteString(t)
		}
	}
	if e.RequestID != "" {
		b.WriteString(" (request_id ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later: HTTP 429,
// 500, 502, 503 and 504 (the statuses the client retries), and the API
// Gateway throttling code APIGW.0308 whatever its status.
func (e *APIError) Temporary() bool {
	return retryableStatus(e.StatusCode) || e.Code == "APIGW.0308"
}

// retryableStatus reports whether an HTTP status is retried.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// bodyTooLargeError is returned when a response exceeds the body cap.
type bodyTooLargeError struct {
	op    string
	limit int64
}

// Error formats the error as "list_tasks: response body exceeds 16777216 bytes".
func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("%s: response body exceeds %d bytes", e.op, e.limit)
}

// Is makes errors.Is(err, ErrBodyTooLarge) true.
func (e *bodyTooLargeError) Is(target error) bool { return target == ErrBodyTooLarge }

// maxMessageBytes caps APIError.Message taken from a JSON error body.
const maxMessageBytes = 1000

// snippetBytes caps APIError.Message taken from a body that is not JSON.
const snippetBytes = 200

// newAPIError builds an APIError from a non-2xx response and its (possibly
// truncated) body. redact, when non-nil, removes secrets from the code, the
// message and the request ID.
func newAPIError(op string, status int, header http.Header, body []byte, redact func(string) string) *APIError {
	if redact == nil {
		redact = func(s string) string { return s }
	}
	e := &APIError{Operation: op, StatusCode: status}
	code, msg, reqID, ok := parseErrorBody(body)
	// Redact before cutting, so that no partial secret survives the cut.
	if ok {
		e.Code = sanitize(redact(code), 100)
		e.Message = sanitize(redact(msg), maxMessageBytes)
	} else {
		e.Message = sanitize(redact(string(body)), snippetBytes)
	}
	// The request ID is the server's text too: a server (or proxy) that
	// echoes the request can put a secret there as well.
	e.RequestID = sanitize(redact(header.Get("X-Request-Id")), 200)
	if e.RequestID == "" {
		e.RequestID = sanitize(redact(reqID), 200)
	}
	return e
}

// parseErrorBody extracts code, message and request ID from the error shapes
// the API uses:
//
//	{"error": {"code": "AutoBackup.0205", "message": "…"}}            (VBS, IAM)
//	{"error_code": "APIGW.0301", "error_msg": "…", "request_id": "…"}  (API Gateway)
//	{"code": "…", "message": "…"}                                     (seen on other Huawei services)
//
// ok is false when the body is not a JSON object with any of these fields.
func parseErrorBody(body []byte) (code, msg, reqID string, ok bool) {
	var top struct {
		Error     json.RawMessage `json:"error"`
		ErrorCode json.RawMessage `json:"error_code"`
		ErrorMsg  json.RawMessage `json:"error_msg"`
		Code      json.RawMessage `json:"code"`
		Message   json.RawMessage `json:"message"`
		RequestID json.RawMessage `json:"request_id"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(body), &top); err != nil {
		return "", "", "", false
	}
	reqID = scalarText(top.RequestID)
	if len(top.Error) > 0 && top.Error[0] == '{' {
		var inner struct {
			Code      json.RawMessage `json:"code"`
			Message   json.RawMessage `json:"message"`
			RequestID json.RawMessage `json:"request_id"`
		}
		if json.Unmarshal(top.Error, &inner) == nil {
			code, msg = scalarText(inner.Code), scalarText(inner.Message)
			if reqID == "" {
				reqID = scalarText(inner.RequestID)
			}
			if code != "" || msg != "" {
				return code, msg, reqID, true
			}
		}
	}
	if code, msg = scalarText(top.ErrorCode), scalarText(top.ErrorMsg); code != "" || msg != "" {
		return code, msg, reqID, true
	}
	if code, msg = scalarText(top.Code), scalarText(top.Message); code != "" || msg != "" {
		return code, msg, reqID, true
	}
	if s := scalarText(top.Error); s != "" { // {"error": "text"}
		return "", s, reqID, true
	}
	return "", "", reqID, false
}

// scalarText returns a JSON string's value or a JSON number's literal text;
// "" for null, absent or anything else.
func scalarText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
	}
	return ""
}

// sanitize makes untrusted text safe for an error message: invalid UTF-8 and
// control characters become spaces, runs of white space fold to one space,
// and the result is cut to at most limit bytes (on a rune boundary, with "…"
// appended when cut).
func sanitize(s string, limit int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		if b.Len() > limit {
			break
		}
	}
	return Truncate(b.String(), limit)
}

// Truncate cuts s to at most limit bytes on a rune boundary, appending "…" when
// it cut anything: for quoting untrusted text in an error message.
func Truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// LogFields returns the error's details as log key-value pairs, in the
// order operation, status, code, request_id: callers log them without
// knowing this type (or HTTP).
func (e *APIError) LogFields() []any {
	return []any{"operation", e.Operation, "status", e.StatusCode, "code", e.Code, "request_id", e.RequestID}
}
