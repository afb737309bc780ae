package hwcloud

import (
	"net/http"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/endpoints"
)

func TestBackoff(t *testing.T) {
	e := &Engine{backoffBase: 200 * time.Millisecond, backoffMax: time.Second, jitter: func(d time.Duration) time.Duration { return d }}
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for i, w := range want {
		if got := e.backoff(i+1, -1); got != w {
			t.Errorf("attempt %d: %v, want %v", i+1, got, w)
		}
	}
	if got := e.backoff(100, -1); got != time.Second {
		t.Errorf("attempt 100: %v", got)
	}
	if got := e.backoff(1, 300*time.Millisecond); got != 300*time.Millisecond {
		t.Errorf("Retry-After 300ms: %v", got)
	}
	// Retry-After is not cut to BackoffMax (retrying earlier than told
	// feeds the throttling); only maxRetryAfter bounds it.
	if got := e.backoff(1, 90*time.Second); got != 90*time.Second {
		t.Errorf("Retry-After 90s: %v, want 90s", got)
	}
	if got := e.backoff(1, time.Hour); got != maxRetryAfter {
		t.Errorf("Retry-After 1h: %v, want capped %v", got, maxRetryAfter)
	}
	if got := e.backoff(1, 0); got != 0 {
		t.Errorf("Retry-After 0: %v", got)
	}
	e.jitter = func(time.Duration) time.Duration { return 0 }
	if got := e.backoff(3, -1); got != 0 {
		t.Errorf("zero jitter: %v", got)
	}
	// The default jitter stays within [0, d].
	for range 1000 {
		if j := fullJitter(10); j < 0 || j > 10 {
			t.Fatalf("fullJitter(10) = %v", j)
		}
	}
	if fullJitter(0) != 0 || fullJitter(-1) != 0 {
		t.Error("fullJitter of non-positive")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              -1,
		"120":                           120 * time.Second,
		" 3 ":                           3 * time.Second,
		"0":                             0,
		"-5":                            -1,
		"soon":                          -1,
		"99999999999":                   24 * time.Hour,
		"Mon, 06 May 2024 07:08:39 GMT": 30 * time.Second,
		"Mon, 06 May 2024 07:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestAPIErrorTemporary(t *testing.T) {
	for code, want := range map[int]bool{400: false, 401: false, 403: false, 404: false, 408: false, 429: true,
		500: true, 501: false, 502: true, 503: true, 504: true} {
		if got := (&APIError{StatusCode: code}).Temporary(); got != want {
			t.Errorf("%d: Temporary = %v", code, got)
		}
	}
	if !(&APIError{StatusCode: 400, Code: "APIGW.0308"}).Temporary() {
		t.Error("APIGW.0308 not temporary")
	}
}

func TestNewEngine(t *testing.T) {
	e, err := NewEngine(EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e.maxAttempts != 4 || e.maxBody != 16<<20 || e.backoffBase != 200*time.Millisecond || e.backoffMax != 10*time.Second ||
		e.userAgent != "vbs_exporter/unknown" || e.hc.Timeout != 30*time.Second || !e.ownsHTTP {
		t.Errorf("defaults: %+v", e)
	}
	e.CloseIdleConnections()
	e, err = NewEngine(EngineOptions{UserAgent: "ua/1", HTTPClient: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	if e.userAgent != "ua/1" || e.ownsHTTP || e.hc.CheckRedirect == nil {
		t.Errorf("options not applied: %+v", e)
	}
	for _, o := range []struct {
		o    EngineOptions
		want string
	}{
		{EngineOptions{MaxAttempts: -1}, "Options.MaxAttempts is negative"},
		{EngineOptions{MaxBodyBytes: -1}, "Options.MaxBodyBytes is negative"},
		{EngineOptions{BackoffBase: -1}, "Options.BackoffBase is negative"},
		{EngineOptions{BackoffMax: -1}, "Options.BackoffMax is negative"},
	} {
		if _, err := NewEngine(o.o); err == nil || err.Error() != o.want {
			t.Errorf("NewEngine(%+v) error %v, want %q", o.o, err, o.want)
		}
	}
}

func TestEndpointURL(t *testing.T) {
	for _, tt := range []struct {
		endpoint, region string
		service          endpoints.Service
		want             string
	}{
		{"", "cn-north-4", endpoints.VBS, "https://vbs.cn-north-4.myhuaweicloud.com"},
		{"", "cn-north-4", endpoints.CBR, "https://cbr.cn-north-4.myhuaweicloud.com"},
		{"https://proxy.example/vbs/", "cn-north-4", endpoints.VBS, "https://proxy.example/vbs/"},
	} {
		u, err := EndpointURL(tt.endpoint, tt.region, tt.service)
		if err != nil || u.String() != tt.want {
			t.Errorf("EndpointURL(%q, %q, %q) = %v, %v; want %s", tt.endpoint, tt.region, tt.service, u, err, tt.want)
		}
	}
	for _, tt := range []struct{ endpoint, region, want string }{
		{"", "", "neither endpoint nor region set"},
		{"", "evil.com/x", `bad region "evil.com/x"`},
		{"ftp://h", "", `"ftp://h": scheme must be http or https`},
		{"https://u:pw@h", "", `"https://u:xxxxx@h": user info is not allowed`},
		{"https://h/?a=1", "", `"https://h/?a=1": query and fragment are not allowed`},
		{"https://", "", `"https:": no host`},
	} {
		if _, err := EndpointURL(tt.endpoint, tt.region, endpoints.IAM); err == nil || err.Error() != tt.want {
			t.Errorf("EndpointURL(%q, %q) error %v, want %q", tt.endpoint, tt.region, err, tt.want)
		}
	}
}
