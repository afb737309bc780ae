package vbstest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// FaultKind selects what a Fault does to a matching request.
type FaultKind int

// Fault kinds. "Replacing" kinds answer without authenticating or running the
// call; the others run the call normally (authentication included) and then
// alter its answer.
const (
	// FaultStatus answers Status (default 500) with Body, or by default a
	// vendor-style body: APIGW.0308 for 429, APIGW.0301 for 401 on VBS calls,
	// IAM's {"error":{"code":N,...}} on the IAM call, and
	// {"error":{"code":"common.0NNN","message":...}} otherwise. Replacing.
	FaultStatus FaultKind = iota
	// FaultMalformedJSON answers 200 (201 for the IAM call) with
	// syntactically invalid JSON. Replacing.
	FaultMalformedJSON
	// FaultTruncatedJSON sends the first half of the real answer, with a
	// matching Content-Length.
	FaultTruncatedJSON
	// FaultHTML answers an HTML error page with Status (default 502). Replacing.
	FaultHTML
	// FaultWrongContentType sends the real answer as text/plain.
	FaultWrongContentType
	// FaultHang blocks until the client gives up (request context done) or
	// the Server closes; no answer is sent. Replacing.
	FaultHang
	// FaultReset hijacks the connection and closes it (a TCP reset) without
	// an answer. Replacing.
	FaultReset
	// FaultOversize answers 200 application/json with a body of size bytes
	// (default 17 MiB), sent chunked without Content-Length. Replacing.
	FaultOversize
	// FaultStuckMarker makes the tasks call ignore marker: every page is the
	// first page. Tasks call only.
	FaultStuckMarker
	// FaultDuplicatePages makes each tasks page start at the marker job
	// instead of after it, so it repeats the last job of the previous page.
	// Tasks call only.
	FaultDuplicatePages
	// FaultLatency only adds Fault.Latency; the call then runs normally.
	FaultLatency
	// FaultEmptyBody answers Status (default 200) with application/json and
	// an empty body. Replacing.
	FaultEmptyBody
	// FaultCutBody announces the real answer's full Content-Length, sends half
	// of it and drops the connection (the client sees an unexpected EOF).
	FaultCutBody
)

// String returns a short name such as "status" or "hang".
func (k FaultKind) String() string {
	switch k {
	case FaultStatus:
		return "status"
	case FaultMalformedJSON:
		return "malformed_json"
	case FaultTruncatedJSON:
		return "truncated_json"
	case FaultHTML:
		return "html"
	case FaultWrongContentType:
		return "wrong_content_type"
	case FaultHang:
		return "hang"
	case FaultReset:
		return "reset"
	case FaultOversize:
		return "oversize"
	case FaultStuckMarker:
		return "stuck_marker"
	case FaultDuplicatePages:
		return "duplicate_pages"
	case FaultLatency:
		return "latency"
	case FaultEmptyBody:
		return "empty_body"
	case FaultCutBody:
		return "cut_body"
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// defaultOversize is the body size of FaultOversize when Fault.size is 0:
// just above a 16 MiB client cap.
const defaultOversize = 17 << 20

// Fault describes an injected failure (see AddFault).
type Fault struct {
	// Kind is what the fault does; the zero value is FaultStatus.
	Kind FaultKind
	// Operation limits the fault to OpListPolicies, OpListTasks,
	// OpListVolumes or OpIAMToken; "" matches every operation.
	Operation string
	// PolicyID limits the fault to tasks calls of that policy ("" = any).
	PolicyID string
	// Status is the HTTP status for FaultStatus, FaultHTML and FaultEmptyBody.
	Status int
	// Body is the raw body for FaultStatus; "" gives the default vendor-style
	// body. contentType is its Content-Type (default application/json).
	Body        string
	contentType string
	// RetryAfter, if set, is sent as the Retry-After header.
	RetryAfter string
	// Latency is an extra delay before the fault applies (interrupted when
	// the client gives up or the Server closes).
	Latency time.Duration
	// Times applies the fault to the next Times matching requests; 0 means
	// until removed.
	Times int
	// size is the body size for FaultOversize.
	size int
}

type faultEntry struct {
	f         Fault
	id        int
	remaining int // 0 = unlimited
}

func (f *Fault) matches(rt routeInfo) bool {
	if f.Operation != "" && f.Operation != rt.op {
		return false
	}
	if f.PolicyID != "" && (rt.op != OpListTasks || f.PolicyID != rt.policyID) {
		return false
	}
	if (f.Kind == FaultStuckMarker || f.Kind == FaultDuplicatePages) && rt.op != OpListTasks {
		return false
	}
	return true
}

// AddFault adds a fault and returns its ID (for RemoveFault). Faults are
// matched per request in the order added; only the first match applies.
func (s *Server) AddFault(f Fault) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextFaultID++
	s.faults = append(s.faults, &faultEntry{f: f, id: s.nextFaultID, remaining: max(f.Times, 0)})
	return s.nextFaultID
}

// RemoveFault removes the fault with the given ID, if still present.
func (s *Server) RemoveFault(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = slices.DeleteFunc(s.faults, func(e *faultEntry) bool { return e.id == id })
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns a copy of the first fault matching rt and its ID, counting
// down its Times.
func (s *Server) takeFault(rt routeInfo) (*Fault, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.faults {
		if !e.f.matches(rt) {
			continue
		}
		f := e.f
		if e.remaining > 0 {
			e.remaining--
			if e.remaining == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		return &f, e.id
	}
	return nil, 0
}

func defaultFaultBody(op string, status int, reqID string) response {
	switch {
	case status == http.StatusTooManyRequests:
		return gatewayError(status, codeThrottled, "The throttling threshold has been reached: policy user over ratelimit,limit:20,time:1 second", reqID)
	case op == OpIAMToken:
		return iamError(status, http.StatusText(status))
	case status == http.StatusUnauthorized:
		return authFailed(reqID, "verify aksk signature fail")
	}
	return vbsError(status, fmt.Sprintf("common.%04d", status), http.StatusText(status))
}

const htmlErrorPage = `<html>
<head><title>%[1]d %[2]s</title></head>
<body>
<center><h1>%[1]d %[2]s</h1></center>
<hr><center>nginx</center>
</body>
</html>
`

// applyFault answers a request with a replacing fault; it returns false for
// the kinds that alter a normal answer instead.
func (s *Server) applyFault(w *statusWriter, r *http.Request, rt routeInfo, f *Fault, reqID string) bool {
	status := func(def int) int {
		if f.Status != 0 {
			return f.Status
		}
		return def
	}
	switch f.Kind {
	case FaultStatus:
		st := status(http.StatusInternalServerError)
		resp := defaultFaultBody(rt.op, st, reqID)
		if f.Body != "" {
			resp = jsonResponse(st, []byte(f.Body))
		}
		if f.contentType != "" {
			resp.header.Set("Content-Type", f.contentType)
		}
		s.write(w, resp, f)
	case FaultMalformedJSON:
		var body string
		st := http.StatusOK
		switch rt.op {
		case OpListPolicies:
			body = `{"backup_policies":[{"backup_policy_id":"0a1b2c3d","backup_policy_name":"plan01",}]}`
		case OpIAMToken:
			st = http.StatusCreated
			body = `{"token":{"expires_at":,"issued_at":"2026-11-27T12:00:00.000000Z"}}`
		default:
			body = `{"tasks":[{"status":"EXECUTE_SUCCESS" "job_id":"0a1b2c3d"}],"count":1}`
		}
		s.write(w, jsonResponse(st, []byte(body)), f)
	case FaultHTML:
		st := status(http.StatusBadGateway)
		body := fmt.Sprintf(htmlErrorPage, st, http.StatusText(st))
		s.write(w, response{status: st, header: http.Header{"Content-Type": {"text/html"}}, body: []byte(body)}, f)
	case FaultEmptyBody:
		s.write(w, jsonResponse(status(http.StatusOK), nil), f)
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
			abort()
		}
	case FaultReset:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			abort()
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	case FaultOversize:
		s.writeOversize(w, r, f)
	default:
		return false
	}
	return true
}

// writeOversize streams a JSON body of exactly f.size bytes (when size is
// large enough for the JSON framing; otherwise size bytes of padding).
func (s *Server) writeOversize(w *statusWriter, r *http.Request, f *Fault) {
	size := f.size
	if size <= 0 {
		size = defaultOversize
	}
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	if f.RetryAfter != "" {
		h.Set("Retry-After", f.RetryAfter)
	}
	w.WriteHeader(http.StatusOK)
	prefix, suffix := []byte(`{"tasks":[],"count":0,"padding":"`), []byte(`"}`)
	if size < len(prefix)+len(suffix) {
		prefix, suffix = nil, nil
	}
	_, _ = w.Write(prefix)
	_ = http.NewResponseController(w).Flush() // chunked, never a Content-Length
	chunk := bytes.Repeat([]byte{'x'}, 32<<10)
	for left := size - len(prefix) - len(suffix); left > 0; {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			abort()
		default:
		}
		n := min(left, len(chunk))
		if _, err := w.Write(chunk[:n]); err != nil {
			return
		}
		left -= n
	}
	_, _ = w.Write(suffix)
}
