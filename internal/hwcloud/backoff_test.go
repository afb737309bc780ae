package hwcloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// refusingServer answers every request with status and code (the API
// Gateway's error shape) while refuse is set, else 200; it records the fake
// clock's time of every request it saw.
type refusingServer struct {
	clock  *fakeClock
	status int
	code   string
	refuse atomic.Bool
	mu     sync.Mutex
	seen   []time.Time
}

func (s *refusingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, s.clock.Now())
	s.mu.Unlock()
	if s.refuse.Load() {
		w.WriteHeader(s.status)
		fmt.Fprintf(w, `{"error_code":%q,"error_msg":"Incorrect IAM authentication information: verify aksk signature fail","request_id":"r"}`, s.code)
		return
	}
	w.Write([]byte(vendorPolicies))
}

func (s *refusingServer) requests() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.seen...)
}

func newRefusingClient(t *testing.T, status int, code string) (*refusingServer, *testClient, *akskAuth) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
	rs := &refusingServer{clock: clock, status: status, code: code}
	rs.refuse.Store(true)
	srv := httptest.NewServer(rs)
	t.Cleanup(srv.Close)
	auth := NewAKSKAt("AK-ID-1234", "stale-SK", "", clock.Now).(*akskAuth)
	c := newTestClient(t, srv, func(o *testOptions) { o.Auth = auth })
	return rs, c, auth
}

// TestAKSKBackoffSchedule: a refused key is scraped at several rates for 6
// simulated hours (5000 scrapes at most). Refusals come at 0, 60 s, 301 s, 541 s, 1021 s, then
// every 900 s (rounded up to the next scrape); no 5-minute window ever
// holds more than 2; every scrape in between fails at once with an
// *AuthBackoffError that says until when, and sends nothing.
func TestAKSKBackoffSchedule(t *testing.T) {
	for _, every := range []time.Duration{time.Second, 7 * time.Second, 15 * time.Second, time.Minute, 4 * time.Minute} {
		t.Run(every.String(), func(t *testing.T) {
			rs, c, auth := newRefusingClient(t, http.StatusUnauthorized, "APIGW.0301")
			start := rs.clock.Now()
			scrapes, held := 0, 0
			horizon := min(6*time.Hour, 5000*every)
			for rs.clock.Now().Sub(start) < horizon {
				before := len(rs.requests())
				until := auth.BackoffUntil()
				_, err := c.listPolicies(context.Background())
				sent := len(rs.requests()) - before
				var be *AuthBackoffError
				var ae *APIError
				switch {
				case sent == 1:
					if !until.IsZero() && rs.clock.Now().Before(until) {
						t.Fatalf("%v: a request was sent before the back-off end %v", rs.clock.Now(), until)
					}
					if errors.As(err, &be) || !errors.As(err, &ae) || ae.StatusCode != 401 {
						t.Fatalf("sent: error %v", err)
					}
				case sent == 0:
					held++
					if !errors.As(err, &be) || !be.Until.Equal(until) || be.refusal == nil || be.refusal.Code != "APIGW.0301" {
						t.Fatalf("held: error %v, want an AuthBackoffError until %v", err, until)
					}
				default:
					t.Fatalf("%d requests in one scrape", sent)
				}
				scrapes++
				rs.clock.Add(every)
			}
			seen := rs.requests()
			for i := 2; i < len(seen); i++ {
				if d := seen[i].Sub(seen[i-2]); d <= 5*time.Minute {
					t.Errorf("refusals at %v, %v and %v: 3 within 5 minutes", seen[i-2].Sub(start), seen[i-1].Sub(start), seen[i].Sub(start))
				}
			}
			// The schedule: each refusal waits at least the documented
			// back-off, and at most one scrape interval more.
			base := []time.Duration{60 * time.Second, 120 * time.Second, 240 * time.Second, 480 * time.Second, 900 * time.Second}
			for i := 1; i < len(seen); i++ {
				earliest := seen[i-1].Add(base[min(i-1, len(base)-1)])
				if i >= 2 { // the 5-minute floor counts from the refusal before the last
					earliest = later(earliest, seen[i-2].Add(301*time.Second))
				}
				if seen[i].Before(earliest) || !seen[i].Before(earliest.Add(every)) {
					t.Errorf("refusal %d at %v, want at %v (+ less than %v)", i+1, seen[i].Sub(start), earliest.Sub(start), every)
				}
			}
			if n := len(seen); n < int(horizon/(15*time.Minute)) || held != scrapes-n {
				t.Errorf("%d refusals, %d held of %d scrapes", n, held, scrapes)
			}
			t.Logf("every %v: %d scrapes, %d signed requests (all refused)", every, scrapes, len(seen))
		})
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestAKSKBackoffEndsOnAcceptance: once the back-off ends, the next request
// goes out; if the key is accepted, the back-off is over and requests flow
// again, with BackoffUntil zero.
func TestAKSKBackoffEndsOnAcceptance(t *testing.T) {
	rs, c, auth := newRefusingClient(t, http.StatusUnauthorized, "APIGW.0301")
	if _, err := c.listPolicies(context.Background()); err == nil {
		t.Fatal("no error")
	}
	until := auth.BackoffUntil()
	if want := rs.clock.Now().Add(time.Minute); !until.Equal(want) {
		t.Fatalf("BackoffUntil %v, want %v", until, want)
	}
	rs.refuse.Store(false) // the key works again (e.g. a lock ended)
	rs.clock.Add(59 * time.Second)
	if _, err := c.listPolicies(context.Background()); !errors.As(err, new(*AuthBackoffError)) {
		t.Fatalf("before the end: %v", err)
	}
	want := `list_policies: authenticate: credentials refused 1 time in a row, no signed request before 2026-12-02T00:01:00Z; last refusal: list_policies: HTTP 401 APIGW.0301: Incorrect IAM authentication information: verify aksk signature fail (request_id r)`
	if _, err := c.listPolicies(context.Background()); err == nil || err.Error() != want {
		t.Errorf("error\n got %v\nwant %s", err, want)
	}
	rs.clock.Add(time.Second)
	for i := range 3 {
		if _, err := c.listPolicies(context.Background()); err != nil {
			t.Fatalf("request %d after the back-off: %v", i+1, err)
		}
	}
	if !auth.BackoffUntil().IsZero() || len(rs.requests()) != 4 {
		t.Errorf("BackoffUntil %v, %d requests", auth.BackoffUntil(), len(rs.requests()))
	}
}

// TestAKSKRefusalKinds: 401 and the gateway's authentication codes on 403
// back off; a 403 that accepts the signature (APIGW.0302: user not allowed,
// a service's permission error), 404 and 500 do not.
func TestAKSKRefusalKinds(t *testing.T) {
	for _, tt := range []struct {
		status  int
		code    string
		backoff bool
	}{
		{401, "APIGW.0301", true},
		{401, "APIG.0301", true},
		{401, "APIGW.0303", true},
		{401, "", true},
		{403, "APIGW.0301", true},
		{403, "APIG.0303", true},
		{403, "APIGW.0302", false},
		{403, "common.0003", false},
		{404, "AutoBackup.0205", false},
		{500, "", false},
	} {
		_, c, auth := newRefusingClient(t, tt.status, tt.code)
		c.eng.maxAttempts = 1
		c.listPolicies(context.Background())
		if got := !auth.BackoffUntil().IsZero(); got != tt.backoff {
			t.Errorf("HTTP %d %s: back-off %v, want %v", tt.status, tt.code, got, tt.backoff)
		}
	}
}

// TestAKSKSingleProbe: when a back-off ends, concurrent requests send one
// signed request between them; if it is refused, the others fail with the
// new back-off.
func TestAKSKSingleProbe(t *testing.T) {
	rs, c, auth := newRefusingClient(t, http.StatusUnauthorized, "APIGW.0301")
	c.listPolicies(context.Background())
	rs.clock.Add(time.Minute)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.listPolicies(context.Background())
		}()
	}
	wg.Wait()
	if n := len(rs.requests()); n != 2 {
		t.Errorf("%d requests, want 2 (the first refusal and one probe)", n)
	}
	backoffs := 0
	for _, err := range errs {
		if errors.As(err, new(*AuthBackoffError)) {
			backoffs++
		}
	}
	if backoffs != len(errs)-1 || auth.BackoffUntil().IsZero() {
		t.Errorf("%d back-off errors of %d, BackoffUntil %v", backoffs, len(errs), auth.BackoffUntil())
	}
}

// statusServer answers every request with the status in status (the API
// Gateway's error shape, code APIGW.0301 for 401) or 200 when it is 200.
type statusServer struct {
	status atomic.Int32
	n      atomic.Int32
}

func (s *statusServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.n.Add(1)
	st := int(s.status.Load())
	if st == http.StatusOK {
		w.Write([]byte(vendorPolicies))
		return
	}
	code := "X.0001"
	if st == http.StatusUnauthorized {
		code = "APIGW.0301"
	}
	w.WriteHeader(st)
	fmt.Fprintf(w, `{"error_code":%q,"error_msg":"m","request_id":"r"}`, code)
}

// TestAKSKNoVerdict: in back-off, a probe answered with 429 or a 5xx (which
// a gateway may send before it checks the signature) neither ends nor
// extends the back-off: the next request is again a single probe, sent at
// once; a 2xx or a 4xx that accepts the key (404, 400, 403 APIGW.0302)
// ends it.
func TestAKSKNoVerdict(t *testing.T) {
	for _, noVerdict := range []int{429, 500, 502, 503, 504} {
		for _, accept := range []int{200, 400, 404, 403} {
			clock := &fakeClock{t: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
			ss := &statusServer{}
			ss.status.Store(http.StatusUnauthorized)
			srv := httptest.NewServer(ss)
			auth := NewAKSKAt("AK-ID-1234", "stale-SK", "", clock.Now).(*akskAuth)
			c := newTestClient(t, srv, func(o *testOptions) { o.Auth = auth })
			c.eng.maxAttempts = 1
			start := clock.Now()
			c.listPolicies(context.Background())
			until := auth.BackoffUntil()
			if until.IsZero() {
				t.Fatal("no back-off after 401")
			}
			clock.Add(time.Minute)
			ss.status.Store(int32(noVerdict))
			for i := range 3 {
				_, err := c.listPolicies(context.Background())
				var ae *APIError
				if !errors.As(err, &ae) || ae.StatusCode != noVerdict {
					t.Fatalf("%d: probe %d: %v, want HTTP %d", noVerdict, i+1, err, noVerdict)
				}
				// Still in back-off (one refusal in a row), the probe gate released.
				auth.gate.mu.Lock()
				refusals, probe := auth.gate.refusals, auth.gate.probe
				auth.gate.mu.Unlock()
				if refusals != 1 || probe != nil || !auth.BackoffUntil().IsZero() {
					t.Fatalf("%d: after probe %d: refusals %d, probe in flight %v, BackoffUntil %v", noVerdict, i+1, refusals, probe != nil, auth.BackoffUntil())
				}
			}
			// A refusal now is the second in a row: 120 s, and no sooner
			// than 301 s after the first.
			ss.status.Store(http.StatusUnauthorized)
			c.listPolicies(context.Background())
			got, want := auth.BackoffUntil(), start.Add(301*time.Second)
			if !got.Equal(want) {
				t.Errorf("%d: second refusal: BackoffUntil %v, want %v", noVerdict, got, want)
			}
			clock.Add(got.Sub(clock.Now()))
			st := accept
			if accept == 403 {
				st = 403 // X.0001: a permission error, the signature was accepted
			}
			ss.status.Store(int32(st))
			c.listPolicies(context.Background())
			auth.gate.mu.Lock()
			refusals := auth.gate.refusals
			auth.gate.mu.Unlock()
			if refusals != 0 {
				t.Errorf("%d then %d: %d refusals in a row, want the back-off ended", noVerdict, accept, refusals)
			}
			if want := int32(6); ss.n.Load() != want {
				t.Errorf("%d then %d: %d requests, want %d", noVerdict, accept, ss.n.Load(), want)
			}
			srv.Close()
		}
	}
}

// TestAKSKGatesShared: Authenticators of one AKSKGates with the same
// credentials share one back-off; a different secret key or security token
// gets a gate of its own; Retain drops the gates no live Authenticator uses,
// and the gates hold no secret in printable form.
func TestAKSKGatesShared(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
	g := NewAKSKGates()
	a1 := g.NewAKSKAt("AK-ID-1234", "stale-SK", "", clock.Now).(*akskAuth)
	a2 := g.NewAKSKAt("AK-ID-1234", "stale-SK", "", clock.Now).(*akskAuth)
	fixed := g.NewAKSKAt("AK-ID-1234", "fixed-SK", "", clock.Now).(*akskAuth)
	sts := g.NewAKSKAt("AK-ID-1234", "stale-SK", "tok", clock.Now).(*akskAuth)
	if a1.gate != a2.gate || a1.gate == fixed.gate || a1.gate == sts.gate || g.Len() != 3 {
		t.Fatalf("gates: same %v, fixed %v, sts %v, %d gates", a1.gate == a2.gate, a1.gate == fixed.gate, a1.gate == sts.gate, g.Len())
	}
	// Length-prefixed: ("ab","c") and ("a","bc") differ.
	if g.id("ab", "c", "") == g.id("a", "bc", "") {
		t.Error("field boundaries not part of the identity")
	}
	a1.settle(&APIError{StatusCode: 401, Code: "APIGW.0301"}, true)
	if u := a2.BackoffUntil(); !u.Equal(clock.Now().Add(time.Minute)) {
		t.Errorf("a2 BackoffUntil %v after a1's refusal", u)
	}
	if !fixed.BackoffUntil().IsZero() {
		t.Error("other credentials in back-off")
	}
	if dump := fmt.Sprintf("%#v %+v", g.gates, g); strings.Contains(dump, "stale-SK") || strings.Contains(dump, "fixed-SK") {
		t.Errorf("a secret in the gates: %s", dump)
	}
	g.Retain([]Authenticator{a2, NewStaticToken("x"), NewAKSK("AK-ID-1234", "fixed-SK", "")})
	if g.Len() != 1 {
		t.Fatalf("%d gates after Retain, want 1", g.Len())
	}
	if again := g.NewAKSKAt("AK-ID-1234", "stale-SK", "", clock.Now).(*akskAuth); again.gate != a1.gate {
		t.Error("retained gate not reused")
	}
	if again := g.NewAKSKAt("AK-ID-1234", "fixed-SK", "", clock.Now).(*akskAuth); again.gate == fixed.gate {
		t.Error("dropped gate reused")
	}
}
