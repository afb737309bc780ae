package hwcloud

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/endpoints"
)

const testToken = "tok-SECRET-0123456789"

// Operation names of the test client, as a service client names its own.
const (
	opListPolicies = "list_policies"
	opListTasks    = "list_tasks"
)

// testOptions configures newTestClient.
type testOptions struct {
	EngineOptions
	Endpoint  string
	ProjectID string
	Auth      Authenticator
	Observer  func(RequestEvent)
}

// testClient is the smallest service client on an Engine: GETs under
// /v2/{project_id}, as the VBS and CBR clients send them.
type testClient struct {
	eng       *Engine
	base      *url.URL
	projectID string
	auth      Authenticator
	observer  func(RequestEvent)
}

// newTestClient returns a client for srv with a static token, fast backoff
// and a jitter that always waits the full ceiling (deterministic).
func newTestClient(t *testing.T, srv *httptest.Server, mod func(*testOptions)) *testClient {
	t.Helper()
	o := testOptions{
		EngineOptions: EngineOptions{
			HTTPClient:  srv.Client(),
			BackoffBase: time.Millisecond,
			BackoffMax:  4 * time.Millisecond,
			Jitter:      func(d time.Duration) time.Duration { return d },
		},
		Endpoint:  srv.URL + "/",
		ProjectID: "proj-1",
		Auth:      NewStaticToken(testToken),
	}
	if mod != nil {
		mod(&o)
	}
	base, err := EndpointURL(o.Endpoint, "", endpoints.VBS)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := NewEngine(o.EngineOptions)
	if err != nil {
		t.Fatal(err)
	}
	return &testClient{eng: eng, base: base, projectID: o.ProjectID, auth: o.Auth, observer: o.Observer}
}

// get sends GET {base}/v2/{project_id}/{segs...}?{q} and returns the body.
func (c *testClient) get(ctx context.Context, op string, q url.Values, segs ...string) ([]byte, error) {
	var body []byte
	err := c.eng.Do(ctx, &Request{
		Op:      op,
		Method:  http.MethodGet,
		URL:     JoinPath(c.base, append([]string{"v2", c.projectID}, segs...), q),
		Header:  http.Header{"X-Project-Id": {c.projectID}},
		Auth:    c.auth,
		Decode:  func(_ http.Header, data []byte) error { body = data; return nil },
		Observe: c.observer,
	})
	return body, err
}

// listPolicies is GET /v2/{project_id}/backuppolicy.
func (c *testClient) listPolicies(ctx context.Context) ([]byte, error) {
	return c.get(ctx, opListPolicies, nil, "backuppolicy")
}

// eventLog collects RequestEvents.
type eventLog struct {
	mu     sync.Mutex
	events []RequestEvent
}

func (l *eventLog) observe(ev RequestEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// brief returns the events without durations and errors, which vary.
func (l *eventLog) brief() []RequestEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]RequestEvent, len(l.events))
	for i, ev := range l.events {
		ev.Duration, ev.Err, ev.Method, ev.Path = 0, nil, "", ""
		out[i] = ev
	}
	return out
}

const vendorPolicies = `{"backup_policies": []}`
