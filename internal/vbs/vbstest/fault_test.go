package vbstest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func faultServer(t *testing.T) *Server {
	t.Helper()
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p", Name: "plan01", StartTime: "02:00", Frequency: 1, Enabled: true, ResourceCount: 1})
	s.AddPolicy(Policy{ID: "q"})
	s.AddJobs("p", seqJobs(10, testNow.Add(-time.Hour))...)
	return s
}

func TestFaultStatusTimesAndDefaults(t *testing.T) {
	s := faultServer(t)
	s.AddFault(Fault{Kind: FaultStatus, Operation: OpListTasks, Status: 503, Times: 2})
	for i := range 2 {
		r := get(t, s, tasksPath(s, "p"))
		if r.status != 503 || r.body != `{"error":{"code":"common.0503","message":"Service Unavailable"}}` {
			t.Errorf("attempt %d: %d %s", i, r.status, r.body)
		}
	}
	if r := get(t, s, tasksPath(s, "p")); r.status != 200 {
		t.Errorf("third attempt: %d", r.status)
	}
	if r := get(t, s, policiesPath(s)); r.status != 200 {
		t.Errorf("other operation: %d", r.status)
	}
	if s.Requests(OpListTasks) != 3 {
		t.Errorf("Requests = %d", s.Requests(OpListTasks))
	}
	if log := s.RequestLog(OpListTasks); log[0].FaultID != 1 || log[0].Status != 503 || log[2].FaultID != 0 {
		t.Errorf("log: %+v", log)
	}

	s.AddFault(Fault{Status: http.StatusTooManyRequests, RetryAfter: "3", Times: 1})
	r := get(t, s, policiesPath(s))
	want := `{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached: policy user over ratelimit,limit:20,time:1 second","request_id":"` + r.header.Get("X-Request-Id") + `"}`
	if r.status != 429 || r.body != want || r.header.Get("Retry-After") != "3" {
		t.Errorf("429: %d %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}

	s.AddFault(Fault{Status: 401, Times: 1})
	expect401(t, "401 fault", get(t, s, policiesPath(s)), "verify aksk signature fail")

	s.AddFault(Fault{Operation: OpIAMToken, Status: 500, Times: 1})
	r = postToken(t, s, "application/json", tokenBody(defaultUser, defaultPassword, defaultDomain, DefaultProjectID))
	if r.status != 500 || r.body != `{"error":{"code":500,"message":"Internal Server Error","title":"Internal Server Error"}}` {
		t.Errorf("IAM fault: %d %s", r.status, r.body)
	}

	s.AddFault(Fault{Body: "oops", contentType: "text/plain", Times: 1})
	if r := get(t, s, policiesPath(s)); r.status != 500 || r.body != "oops" || r.header.Get("Content-Type") != "text/plain" {
		t.Errorf("custom body: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	if r := get(t, s, policiesPath(s)); r.status != 200 {
		t.Errorf("after all Times used: %d", r.status)
	}
}

func TestFaultMatchingOrderAndRemoval(t *testing.T) {
	s := faultServer(t)
	id1 := s.AddFault(Fault{Status: 502, PolicyID: "q"})
	id2 := s.AddFault(Fault{Status: 504})
	if id1 != 1 || id2 != 2 {
		t.Errorf("ids %d %d", id1, id2)
	}
	if r := get(t, s, tasksPath(s, "q")); r.status != 502 {
		t.Errorf("q: %d", r.status)
	}
	if r := get(t, s, tasksPath(s, "p")); r.status != 504 {
		t.Errorf("p: %d", r.status)
	}
	if r := get(t, s, policiesPath(s)); r.status != 504 {
		t.Errorf("policies: %d", r.status)
	}
	s.RemoveFault(id1)
	if r := get(t, s, tasksPath(s, "q")); r.status != 504 {
		t.Errorf("q after RemoveFault: %d", r.status)
	}
	s.ClearFaults()
	if r := get(t, s, tasksPath(s, "q")); r.status != 200 {
		t.Errorf("after ClearFaults: %d", r.status)
	}
	// A faulted request is not authenticated: it does not count towards the lockout.
	s.AddFault(Fault{Status: 503})
	bad := defaultSigner(s)
	bad.sk = "wrong"
	for range 6 {
		do(t, bad.request(t, s.URL(), http.MethodGet, policiesPath(s), nil, nil))
	}
	if s.AccessKeyLocked() {
		t.Error("locked by faulted requests")
	}
}

func TestFaultBodies(t *testing.T) {
	t.Parallel()
	s := faultServer(t)
	normal := get(t, s, tasksPath(s, "p"))
	normalPolicies := get(t, s, policiesPath(s))

	s.AddFault(Fault{Kind: FaultMalformedJSON, Times: 2})
	for _, p := range []string{tasksPath(s, "p"), policiesPath(s)} {
		r := get(t, s, p)
		if r.status != 200 || json.Valid([]byte(r.body)) || r.body == "" {
			t.Errorf("malformed %s: %d %s", p, r.status, r.body)
		}
	}
	s.AddFault(Fault{Kind: FaultMalformedJSON, Operation: OpIAMToken, Times: 1})
	if r := postToken(t, s, "application/json", "{}"); r.status != 201 || json.Valid([]byte(r.body)) {
		t.Errorf("malformed token: %d %s", r.status, r.body)
	}

	s.AddFault(Fault{Kind: FaultTruncatedJSON, Times: 1})
	r := get(t, s, tasksPath(s, "p"))
	if r.status != 200 || r.body != normal.body[:len(normal.body)/2] || json.Valid([]byte(r.body)) || r.header.Get("Content-Length") != strconv.Itoa(len(normal.body)/2) {
		t.Errorf("truncated: %d %s", r.status, r.body)
	}

	s.AddFault(Fault{Kind: FaultHTML, Times: 1})
	r = get(t, s, policiesPath(s))
	if r.status != 502 || r.header.Get("Content-Type") != "text/html" || !strings.Contains(r.body, "<h1>502 Bad Gateway</h1>") {
		t.Errorf("html: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	s.AddFault(Fault{Kind: FaultHTML, Status: 504, Times: 1})
	if r := get(t, s, policiesPath(s)); r.status != 504 || !strings.Contains(r.body, "504 Gateway Timeout") {
		t.Errorf("html 504: %d %s", r.status, r.body)
	}

	s.AddFault(Fault{Kind: FaultWrongContentType, Times: 1})
	r = get(t, s, policiesPath(s))
	if r.status != 200 || r.header.Get("Content-Type") != "text/plain; charset=utf-8" || r.body != normalPolicies.body {
		t.Errorf("wrong content type: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}

	s.AddFault(Fault{Kind: FaultEmptyBody, Times: 1})
	if r := get(t, s, tasksPath(s, "p")); r.status != 200 || r.body != "" || r.header.Get("Content-Type") != jsonContentType {
		t.Errorf("empty: %d %q", r.status, r.body)
	}

	s.AddFault(Fault{Kind: FaultOversize, size: 1000, Times: 1})
	r = get(t, s, tasksPath(s, "p"))
	if r.status != 200 || len(r.body) != 1000 || !json.Valid([]byte(r.body)) || r.header.Get("Content-Length") != "" {
		t.Errorf("oversize 1000: %d len %d", r.status, len(r.body))
	}
	s.AddFault(Fault{Kind: FaultOversize, Times: 1})
	if r := get(t, s, tasksPath(s, "p")); len(r.body) != defaultOversize {
		t.Errorf("oversize default: len %d", len(r.body))
	}
	s.AddFault(Fault{Kind: FaultOversize, size: 5, Times: 1})
	if r := get(t, s, tasksPath(s, "p")); r.body != "xxxxx" {
		t.Errorf("oversize 5: %q", r.body)
	}
}

func TestFaultPaging(t *testing.T) {
	s := faultServer(t)
	s.AddFault(Fault{Kind: FaultStuckMarker, Times: 2})
	// The policies call does not match (tasks only) and does not use up Times.
	get(t, s, policiesPath(s))
	first := decodeTasks(t, get(t, s, tasksPath(s, "p"), [2]string{"limit", "3"}))
	second := decodeTasks(t, get(t, s, tasksPath(s, "p"), [2]string{"limit", "3"}, [2]string{"marker", first.Tasks[2].JobID}))
	if strings.Join(ids(first.Tasks), ",") != "job-00009,job-00008,job-00007" || strings.Join(ids(second.Tasks), ",") != "job-00009,job-00008,job-00007" {
		t.Errorf("stuck marker: %v then %v", ids(first.Tasks), ids(second.Tasks))
	}
	s.ClearFaults()

	s.AddFault(Fault{Kind: FaultDuplicatePages, PolicyID: "p"})
	first = decodeTasks(t, get(t, s, tasksPath(s, "p"), [2]string{"limit", "3"}))
	second = decodeTasks(t, get(t, s, tasksPath(s, "p"), [2]string{"limit", "3"}, [2]string{"marker", "job-00007"}))
	if strings.Join(ids(first.Tasks), ",") != "job-00009,job-00008,job-00007" || strings.Join(ids(second.Tasks), ",") != "job-00007,job-00006,job-00005" {
		t.Errorf("duplicate pages: %v then %v", ids(first.Tasks), ids(second.Tasks))
	}
	asc := decodeTasks(t, get(t, s, tasksPath(s, "p"), [2]string{"limit", "2"}, [2]string{"sort_dir", "asc"}, [2]string{"marker", "job-00003"}))
	if strings.Join(ids(asc.Tasks), ",") != "job-00003,job-00004" {
		t.Errorf("duplicate pages asc: %v", ids(asc.Tasks))
	}
}

func TestFaultLatency(t *testing.T) {
	s := faultServer(t)
	s.AddFault(Fault{Kind: FaultLatency, Latency: 50 * time.Millisecond, Times: 1})
	start := time.Now()
	if r := get(t, s, policiesPath(s)); r.status != 200 {
		t.Errorf("latency: %d", r.status)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("took %v", d)
	}
	// A long delay ends when the client gives up.
	s.AddFault(Fault{Kind: FaultLatency, Latency: time.Hour, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req := defaultSigner(s).request(t, s.URL(), http.MethodGet, policiesPath(s), nil, nil).WithContext(ctx)
	start = time.Now()
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestFaultHangAndClose(t *testing.T) {
	s := faultServer(t)
	s.AddFault(Fault{Kind: FaultHang, Operation: OpListTasks})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req := defaultSigner(s).request(t, s.URL(), http.MethodGet, tasksPath(s, "p"), nil, nil).WithContext(ctx)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang: err = %v", err)
	}

	// Close must not wait for hung requests (nor for long latency).
	s2 := faultServer(t)
	s2.AddFault(Fault{Kind: FaultHang, Operation: OpListTasks})
	s2.AddFault(Fault{Kind: FaultLatency, Latency: time.Hour, Operation: OpListPolicies})
	errs := make(chan error, 2)
	for _, p := range []string{tasksPath(s2, "p"), policiesPath(s2)} {
		req := defaultSigner(s2).request(t, s2.URL(), http.MethodGet, p, nil, nil)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				err = errors.New("got a response: " + resp.Status)
			}
			errs <- err
		}()
	}
	for s2.Requests("") < 2 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan struct{})
	go func() { s2.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
	for range 2 {
		if err := <-errs; err == nil || strings.Contains(err.Error(), "got a response") {
			t.Errorf("client: %v", err)
		}
	}
}

func TestFaultResetAndCutBody(t *testing.T) {
	s := faultServer(t)
	s.AddFault(Fault{Kind: FaultReset, Times: 1})
	req := defaultSigner(s).request(t, s.URL(), http.MethodGet, policiesPath(s), nil, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("reset: got %s", resp.Status)
	}
	if log := s.RequestLog(OpListPolicies); len(log) != 1 || log[0].Status != 0 {
		t.Errorf("log: %+v", log)
	}

	s.AddFault(Fault{Kind: FaultCutBody, Times: 1})
	req = defaultSigner(s).request(t, s.URL(), http.MethodGet, tasksPath(s, "p"), nil, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("cut body: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) || resp.StatusCode != 200 || len(b) == 0 {
		t.Errorf("cut body: %d, %d bytes, err %v", resp.StatusCode, len(b), err)
	}
	if r := get(t, s, policiesPath(s)); r.status != 200 {
		t.Errorf("after faults: %d", r.status)
	}
}

func TestFaultKindString(t *testing.T) {
	if FaultStatus.String() != "status" || FaultCutBody.String() != "cut_body" || FaultKind(99).String() != "FaultKind(99)" {
		t.Error("String")
	}
}
