package vbs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

const testToken = "tok-SECRET-0123456789"

// newTestClient returns a client for srv with a static token, fast backoff
// and a jitter that always waits the full ceiling (deterministic).
func newTestClient(t *testing.T, srv *httptest.Server, mod func(*Options)) *Client {
	t.Helper()
	o := Options{
		Endpoint:  srv.URL + "/",
		ProjectID: "proj-1",
		Auth:      hwcloud.NewStaticToken(testToken),
		Engine:    hwcloud.EngineOptions{HTTPClient: srv.Client(), BackoffBase: time.Millisecond, BackoffMax: 4 * time.Millisecond},
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	setJitter(t, c, o, func(d time.Duration) time.Duration { return d })
	return c
}

// setJitter gives c an engine like New's with the given jitter.
func setJitter(t *testing.T, c *Client, o Options, jitter func(time.Duration) time.Duration) {
	t.Helper()
	eo := o.Engine
	eo.Jitter = jitter
	eng, err := hwcloud.NewEngine(eo)
	if err != nil {
		t.Fatal(err)
	}
	c.eng = eng
}

// eventLog collects RequestEvents.
type eventLog struct {
	mu     sync.Mutex
	events []hwcloud.RequestEvent
}

func (l *eventLog) observe(ev hwcloud.RequestEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// brief returns the events without durations and errors, which vary.
func (l *eventLog) brief() []hwcloud.RequestEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]hwcloud.RequestEvent, len(l.events))
	for i, ev := range l.events {
		ev.Duration, ev.Err = 0, nil
		out[i] = ev
	}
	return out
}

const vendorPolicies = `{"backup_policies": [{
  "backup_policy_id": "af8a20b0-117d-4fc3-ae53-aa3968a4f870",
  "backup_policy_name": "plan01",
  "scheduled_policy": {
    "start_time": "12:00",
    "frequency": 1,
    "week_frequency": ["MON", "THU"],
    "rentention_num": 10,
    "rentention_day": 30,
    "remain_first_backup_of_curMonth": "Y",
    "status": "ON"
  },
  "policy_resource_count": 1
}]}`

var vendorPolicy = Policy{
	ID:            "af8a20b0-117d-4fc3-ae53-aa3968a4f870",
	Name:          "plan01",
	Enabled:       true,
	ResourceCount: 1,
	Schedule: Schedule{
		StartTimes:             []time.Duration{12 * time.Hour},
		FrequencyDays:          1, // prevails over the weekdays
		Weekdays:               []time.Weekday{time.Monday, time.Thursday},
		RetentionNum:           10,
		RetentionDays:          30,
		KeepFirstBackupOfMonth: true,
	},
}

func TestListPolicies(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		checks := map[string][2]string{
			"method":       {r.Method, "GET"},
			"path":         {r.URL.EscapedPath(), "/v2/proj-1/backuppolicy"},
			"query":        {r.URL.RawQuery, ""},
			"X-Auth-Token": {r.Header.Get("X-Auth-Token"), testToken},
			"X-Project-Id": {r.Header.Get("X-Project-Id"), "proj-1"},
			"User-Agent":   {r.Header.Get("User-Agent"), "vbs_exporter/unknown"},
			"Accept":       {r.Header.Get("Accept"), "application/json"},
		}
		for name, c := range checks {
			if c[0] != c[1] {
				t.Errorf("%s = %q, want %q", name, c[0], c[1])
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(vendorPolicies))
	}))
	defer srv.Close()
	var log eventLog
	c := newTestClient(t, srv, func(o *Options) { o.Observer = log.observe })
	got, err := c.ListPolicies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []Policy{vendorPolicy}) {
		t.Fatalf("got %+v", got)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
	want := []hwcloud.RequestEvent{{Operation: OpListPolicies, Method: "GET", Path: "/v2/proj-1/backuppolicy", StatusCode: 200, Attempt: 1}}
	if !reflect.DeepEqual(log.brief(), want) {
		t.Errorf("events %+v, want %+v", log.brief(), want)
	}
	if c.projectID != "proj-1" {
		t.Errorf("projectID %q", c.projectID)
	}
}

func TestNew(t *testing.T) {
	auth := hwcloud.NewStaticToken("x")
	c, err := New(Options{Region: "cn-north-4", ProjectID: "p", Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	if got := hwcloud.JoinPath(c.base, []string{"v2", "p", "backuppolicy"}, nil).String(); got != "https://vbs.cn-north-4.myhuaweicloud.com/v2/p/backuppolicy" {
		t.Errorf("default URL %q", got)
	}
	if c.pageSize != 100 || c.maxPages != 100000 {
		t.Errorf("defaults: %+v", c)
	}
	c.CloseIdleConnections()

	c, err = New(Options{Endpoint: "https://proxy.example/vbs/", ProjectID: "p", Auth: auth, Engine: hwcloud.EngineOptions{UserAgent: "ua/1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := hwcloud.JoinPath(c.base, []string{"v2", "p"}, nil).String(); got != "https://proxy.example/vbs/v2/p" {
		t.Errorf("prefixed URL %q", got)
	}

	bad := []struct {
		o    Options
		want string
	}{
		{Options{Region: "r", Auth: auth}, "vbs: project ID is empty"},
		{Options{Region: "r", ProjectID: "a/b", Auth: auth}, `vbs: project ID "a/b" is not a valid path segment`},
		{Options{Region: "r", ProjectID: "p"}, "vbs: no Authenticator (Options.Auth)"},
		{Options{ProjectID: "p", Auth: auth}, "vbs: endpoint: neither endpoint nor region set"},
		{Options{Region: "evil.com/x", ProjectID: "p", Auth: auth}, `vbs: endpoint: bad region "evil.com/x"`},
		{Options{Endpoint: "ftp://h", ProjectID: "p", Auth: auth}, `vbs: endpoint: "ftp://h": scheme must be http or https`},
		{Options{Endpoint: "https://u:pw@h", ProjectID: "p", Auth: auth}, `vbs: endpoint: "https://u:xxxxx@h": user info is not allowed`},
		{Options{Region: "r", ProjectID: "p", Auth: auth, PageSize: -1}, "vbs: Options.PageSize is negative"},
		{Options{Region: "r", ProjectID: "p", Auth: auth, Engine: hwcloud.EngineOptions{MaxAttempts: -1}}, "vbs: Options.MaxAttempts is negative"},
	}
	for _, b := range bad {
		if _, err := New(b.o); err == nil || err.Error() != b.want {
			t.Errorf("New(%+v) error %v, want %q", b.o, err, b.want)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	html := "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\t" + strings.Repeat("x", 300) + "</body></html>"
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		want    hwcloud.APIError
		wantMsg string
	}{
		{
			name: "vbs shape", status: 404, header: map[string]string{"X-Request-Id": "8c3f"},
			body:    `{"error": {"code": "AutoBackup.0205", "message": "policy not found"}}`,
			want:    hwcloud.APIError{Operation: OpListPolicies, StatusCode: 404, Code: "AutoBackup.0205", Message: "policy not found", RequestID: "8c3f"},
			wantMsg: "list_policies: HTTP 404 AutoBackup.0205: policy not found (request_id 8c3f)",
		},
		{
			name: "api gateway shape", status: 400,
			body:    `{"error_code": "APIGW.0101", "error_msg": "The API does not exist", "request_id": "body-id"}`,
			want:    hwcloud.APIError{Operation: OpListPolicies, StatusCode: 400, Code: "APIGW.0101", Message: "The API does not exist", RequestID: "body-id"},
			wantMsg: "list_policies: HTTP 400 APIGW.0101: The API does not exist (request_id body-id)",
		},
		{
			name: "header request id preferred", status: 403, header: map[string]string{"X-Request-Id": "hdr-id"},
			body:    `{"error_code": "APIG.0201", "error_msg": "forbidden", "request_id": "body-id"}`,
			want:    hwcloud.APIError{Operation: OpListPolicies, StatusCode: 403, Code: "APIG.0201", Message: "forbidden", RequestID: "hdr-id"},
			wantMsg: "list_policies: HTTP 403 APIG.0201: forbidden (request_id hdr-id)",
		},
		{
			name: "numeric code", status: 400,
			body:    `{"error": {"code": 400, "message": "bad\nrequest", "title": "Bad Request"}}`,
			want:    hwcloud.APIError{Operation: OpListPolicies, StatusCode: 400, Code: "400", Message: "bad request"},
			wantMsg: "list_policies: HTTP 400: bad request",
		},
		{
			name: "html", status: 502, body: html,
			want: hwcloud.APIError{Operation: OpListPolicies, StatusCode: 502,
				Message: ("<html> <head><title>502 Bad Gateway</title></head> <body> " + strings.Repeat("x", 300))[:200] + "…"},
		},
		{
			name: "empty body", status: 500,
			want:    hwcloud.APIError{Operation: OpListPolicies, StatusCode: 500},
			wantMsg: "list_policies: HTTP 500 Internal Server Error",
		},
		{
			name: "error as text", status: 400, body: `{"error": "no such thing", "request_id": "r1"}`,
			want:    hwcloud.APIError{Operation: OpListPolicies, StatusCode: 400, Message: "no such thing", RequestID: "r1"},
			wantMsg: "list_policies: HTTP 400: no such thing (request_id r1)",
		},
		{
			name: "top-level code and message", status: 400, body: `{"code": "VBS.1", "message": "m"}`,
			want: hwcloud.APIError{Operation: OpListPolicies, StatusCode: 400, Code: "VBS.1", Message: "m"},
		},
		{
			name: "code only", status: 403, body: `{"error_code": "APIGW.0302"}`,
			want:    hwcloud.APIError{Operation: OpListPolicies, StatusCode: 403, Code: "APIGW.0302"},
			wantMsg: "list_policies: HTTP 403 APIGW.0302",
		},
		{
			name: "control characters and invalid UTF-8", status: 400, body: "{\"error_msg\": \"a\\u0000b\\tc\"}\xff",
			want: hwcloud.APIError{Operation: OpListPolicies, StatusCode: 400, Message: "{\"error_msg\": \"a\\u0000b\\tc\"}"},
		},
		{
			name: "json without known fields", status: 409, body: `{"foo": "bar"}`,
			want:    hwcloud.APIError{Operation: OpListPolicies, StatusCode: 409, Message: `{"foo": "bar"}`},
			wantMsg: `list_policies: HTTP 409: {"foo": "bar"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := newTestClient(t, srv, func(o *Options) { o.Engine.MaxAttempts = 1 })
			_, err := c.ListPolicies(context.Background())
			var ae *hwcloud.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an *hwcloud.APIError", err)
			}
			if *ae != tt.want {
				t.Errorf("got  %#v\nwant %#v", *ae, tt.want)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

// statusSeq serves the statuses in order, then 200 with body; it counts requests.
type statusSeq struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header
	body     string
	n        int
}

func (s *statusSeq) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := s.n
	s.n++
	s.mu.Unlock()
	for k, v := range s.header {
		w.Header()[k] = v
	}
	w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", i+1))
	if i < len(s.statuses) {
		w.WriteHeader(s.statuses[i])
		fmt.Fprintf(w, `{"error_code":"APIGW.0%d","error_msg":"status %d"}`, s.statuses[i], s.statuses[i])
		return
	}
	w.Write([]byte(s.body))
}

func (s *statusSeq) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func TestNotRetried(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 405, 409, 501} {
		seq := &statusSeq{statuses: []int{status, status, status, status, status}, body: vendorPolicies}
		srv := httptest.NewServer(seq)
		var log eventLog
		c := newTestClient(t, srv, func(o *Options) { o.Observer = log.observe })
		_, err := c.ListPolicies(context.Background())
		srv.Close()
		var ae *hwcloud.APIError
		if !errors.As(err, &ae) || ae.StatusCode != status {
			t.Errorf("%d: error %v", status, err)
		}
		if seq.count() != 1 {
			t.Errorf("%d: %d requests, want 1", status, seq.count())
		}
		want := []hwcloud.RequestEvent{{Operation: OpListPolicies, Method: "GET", Path: "/v2/proj-1/backuppolicy", StatusCode: status, Attempt: 1, RequestID: "req-1"}}
		if !reflect.DeepEqual(log.brief(), want) {
			t.Errorf("%d: events %+v", status, log.brief())
		}
	}
}

func TestRetryThenSuccess(t *testing.T) {
	seq := &statusSeq{statuses: []int{503, 500, 429, 502, 504}, body: vendorPolicies}
	srv := httptest.NewServer(seq)
	defer srv.Close()
	var log eventLog
	c := newTestClient(t, srv, func(o *Options) { o.Observer = log.observe; o.Engine.MaxAttempts = 6 })
	got, err := c.ListPolicies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []Policy{vendorPolicy}) {
		t.Errorf("got %+v", got)
	}
	want := []hwcloud.RequestEvent{
		{Operation: OpListPolicies, Method: "GET", Path: "/v2/proj-1/backuppolicy", StatusCode: 503, Attempt: 1, Retried: true, RequestID: "req-1"},
		{Operation: OpListPolicies, Method: "GET", Path: "/v2/proj-1/backuppolicy", StatusCode: 500, Attempt: 2, Retried: true, RequestID: "req-2"},
		{Operation: OpListPolicies, Method: "GET", Path: "/v2/proj-1/backuppolicy", StatusCode: 429, Attempt: 3, Retried: true, RequestID: "req-3"},
		{Operation: OpListPolicies, Method: "GET", Path: "/v2/proj-1/backuppolicy", StatusCode: 502, Attempt: 4, Retried: true, RequestID: "req-4"},
		{Operation: OpListPolicies, Method: "GET", Path: "/v2/proj-1/backuppolicy", StatusCode: 504, Attempt: 5, Retried: true, RequestID: "req-5"},
		{Operation: OpListPolicies, Method: "GET", Path: "/v2/proj-1/backuppolicy", StatusCode: 200, Attempt: 6, RequestID: "req-6"},
	}
	if !reflect.DeepEqual(log.brief(), want) {
		t.Errorf("events\n got %+v\nwant %+v", log.brief(), want)
	}
}

func TestRetryGivesUp(t *testing.T) {
	seq := &statusSeq{statuses: []int{503, 503, 503, 503, 503, 503}, body: vendorPolicies}
	srv := httptest.NewServer(seq)
	defer srv.Close()
	var log eventLog
	c := newTestClient(t, srv, func(o *Options) { o.Observer = log.observe })
	_, err := c.ListPolicies(context.Background())
	if err == nil || err.Error() != "list_policies: HTTP 503 APIGW.0503: status 503 (request_id req-4)" {
		t.Fatalf("error %v", err)
	}
	if seq.count() != 4 {
		t.Errorf("%d requests, want 4 (MaxAttempts)", seq.count())
	}
	ev := log.brief()
	if len(ev) != 4 || !ev[2].Retried || ev[3].Retried || ev[3].Attempt != 4 {
		t.Errorf("events %+v", ev)
	}
}

// TestRetryAfterHonoured: the jitter would wait 0 and BackoffMax is 60ms, so
// a wait of at least a second proves that Retry-After (1 s) was used whole.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	seq := &statusSeq{statuses: []int{429}, header: http.Header{"Retry-After": {"1"}}, body: vendorPolicies}
	srv := httptest.NewServer(seq)
	defer srv.Close()
	mod := func(o *Options) { o.Engine.BackoffMax = 60 * time.Millisecond }
	c := newTestClient(t, srv, mod)
	o := Options{Engine: hwcloud.EngineOptions{HTTPClient: srv.Client(), BackoffBase: time.Millisecond}}
	mod(&o)
	setJitter(t, c, o, func(time.Duration) time.Duration { return 0 })
	start := time.Now()
	if _, err := c.ListPolicies(context.Background()); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second || el > 4*time.Second {
		t.Errorf("took %v, want about 1s", el)
	}
	if seq.count() != 2 {
		t.Errorf("%d requests", seq.count())
	}
}

// TestDeadlineShortCircuit: when the wait would pass the context deadline,
// the last error comes back at once, without sleeping.
func TestDeadlineShortCircuit(t *testing.T) {
	seq := &statusSeq{statuses: []int{503, 503}, header: http.Header{"Retry-After": {"5"}}, body: vendorPolicies}
	srv := httptest.NewServer(seq)
	defer srv.Close()
	var log eventLog
	c := newTestClient(t, srv, func(o *Options) { o.Engine.BackoffMax = 10 * time.Second; o.Observer = log.observe })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.ListPolicies(ctx)
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %v", el)
	}
	var ae *hwcloud.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Fatalf("error %v", err)
	}
	want := []hwcloud.RequestEvent{{Operation: OpListPolicies, Method: "GET", Path: "/v2/proj-1/backuppolicy", StatusCode: 503, Attempt: 1, RequestID: "req-1"}}
	if !reflect.DeepEqual(log.brief(), want) {
		t.Errorf("events %+v", log.brief())
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	seq := &statusSeq{statuses: []int{503, 503}, header: http.Header{"Retry-After": {"5"}}, body: vendorPolicies}
	srv := httptest.NewServer(seq)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the first answer is in and the 5 s wait is about to start
	// (not on a timer: under load the answer can take longer than any
	// fixed delay, and the cancel would then hit the request instead).
	c := newTestClient(t, srv, func(o *Options) {
		o.Engine.BackoffMax = 10 * time.Second
		o.Observer = func(ev hwcloud.RequestEvent) {
			if ev.Retried {
				cancel()
			}
		}
	})
	start := time.Now()
	_, err := c.ListPolicies(ctx)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v", el)
	}
	var ae *hwcloud.APIError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ae) {
		t.Fatalf("error %v: want context.Canceled wrapping the last hwcloud.APIError", err)
	}
	if !strings.HasPrefix(err.Error(), "list_policies: context canceled (last error: list_policies: HTTP 503") {
		t.Errorf("error %q", err)
	}
	if seq.count() != 1 {
		t.Errorf("%d requests", seq.count())
	}
}

func TestCancelDuringRequest(t *testing.T) {
	var n atomic.Int32
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := newTestClient(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }() // cancel while the request is in the server
	start := time.Now()
	_, err := c.ListPolicies(ctx)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v", el)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests", n.Load())
	}
	// An already-cancelled context makes no request at all.
	if _, err := c.ListPolicies(ctx); !errors.Is(err, context.Canceled) || n.Load() != 1 {
		t.Errorf("error %v, %d requests", err, n.Load())
	}
}

// TestNetworkErrorRetried: the first connection is closed without a
// response; the second attempt succeeds.
func TestNetworkErrorRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.Write([]byte(vendorPolicies))
	}))
	defer srv.Close()
	var log eventLog
	c := newTestClient(t, srv, func(o *Options) { o.Observer = log.observe })
	if _, err := c.ListPolicies(context.Background()); err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	ev := append([]hwcloud.RequestEvent(nil), log.events...)
	log.mu.Unlock()
	if len(ev) != 2 || ev[0].StatusCode != 0 || ev[0].Err == nil || !ev[0].Retried || ev[1].StatusCode != 200 || ev[1].Err != nil {
		t.Fatalf("events %+v", ev)
	}
	msg := ev[0].Err.Error()
	if !strings.HasPrefix(msg, "list_policies: GET "+srv.URL+"/v2/proj-1/backuppolicy: ") || strings.Contains(msg, testToken) {
		t.Errorf("network error %q", msg)
	}
}

func TestNetworkErrorGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // connection refused from now on
	var log eventLog
	c, err := New(Options{Endpoint: url, ProjectID: "p", Auth: hwcloud.NewStaticToken(testToken), Observer: log.observe,
		Engine: hwcloud.EngineOptions{MaxAttempts: 3, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	_, err = c.ListPolicies(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "list_policies: GET "+url+"/v2/p/backuppolicy: ") {
		t.Fatalf("error %v", err)
	}
	if len(log.brief()) != 3 {
		t.Errorf("%d events, want 3", len(log.brief()))
	}
}

func TestBodyTooLarge(t *testing.T) {
	big := `{"backup_policies": [], "pad": "` + strings.Repeat("x", 16<<20) + `"}`
	for _, chunked := range []bool{false, true} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			if !chunked {
				w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			}
			w.Write([]byte(big))
		}))
		var log eventLog
		c := newTestClient(t, srv, func(o *Options) { o.Observer = log.observe })
		_, err := c.ListPolicies(context.Background())
		srv.Close()
		if err == nil || err.Error() != "list_policies: response body exceeds 16777216 bytes (HTTP 200)" || !errors.Is(err, hwcloud.ErrBodyTooLarge) {
			t.Errorf("chunked=%v: error %v", chunked, err)
		}
		if n.Load() != 1 {
			t.Errorf("chunked=%v: %d requests, want 1", chunked, n.Load())
		}
		if ev := log.brief(); len(ev) != 1 || ev[0].StatusCode != 200 || ev[0].Retried {
			t.Errorf("events %+v", ev)
		}
	}

	// A small cap, on the task listing.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"tasks": [], "count": 0, "pad": "` + strings.Repeat("y", 2000) + `"}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv, func(o *Options) { o.Engine.MaxBodyBytes = 1024 })
	_, _, err := c.tasksPage(context.Background(), "pol", TaskQuery{})
	if err == nil || err.Error() != "list_tasks: response body exceeds 1024 bytes (HTTP 200)" {
		t.Errorf("error %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name      string
		bodies    []string // served in turn; the last one repeats
		wantErr   string
		wantCalls int
	}{
		{"html on 200", []string{"<html>oops</html>"},
			"list_policies: decode response (HTTP 200, request_id rid): policies: invalid character '<' looking for beginning of value", 1},
		{"wrong content", []string{`{"foo": 1}`},
			`list_policies: decode response (HTTP 200, request_id rid): policies: no "backup_policies" key`, 1},
		{"wrong type", []string{`{"backup_policies": 7}`},
			`list_policies: decode response (HTTP 200, request_id rid): policies: "backup_policies" is a number, want an array`, 1},
		{"truncated, then fine", []string{`{"backup_policies": [`, vendorPolicies}, "", 2},
		{"always truncated", []string{`{"backup_policies": [{"backup_policy_id": "a`},
			"list_policies: decode response (HTTP 200, request_id rid): policies: unexpected end of JSON input", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				w.Header().Set("X-Request-Id", "rid")
				w.Write([]byte(tt.bodies[min(i, len(tt.bodies)-1)]))
			}))
			defer srv.Close()
			var log eventLog
			c := newTestClient(t, srv, func(o *Options) { o.Observer = log.observe })
			_, err := c.ListPolicies(context.Background())
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if int(n.Load()) != tt.wantCalls {
				t.Errorf("%d requests, want %d", n.Load(), tt.wantCalls)
			}
			log.mu.Lock()
			defer log.mu.Unlock()
			if tt.wantErr != "" && (log.events[0].StatusCode != 200 || log.events[0].Err == nil) {
				t.Errorf("first event %+v: want status 200 with the decode error", log.events[0])
			}
		})
	}
}

// TestRedirectNotFollowed: a redirect would carry X-Auth-Token to another host.
func TestRedirectNotFollowed(t *testing.T) {
	var other atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { other.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/steal", http.StatusFound)
	}))
	defer srv.Close()
	c := newTestClient(t, srv, nil)
	_, err := c.ListPolicies(context.Background())
	var ae *hwcloud.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 302 {
		t.Errorf("error %v", err)
	}
	if other.Load() != 0 {
		t.Error("redirect followed")
	}
}
