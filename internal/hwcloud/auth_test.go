package hwcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testPassword = "pa$$w0rd-<&>-SECRET"
	testSK       = "SK-SECRET-abcdef0123456789"
	testSTS      = "STS-SECRET-token-987654"
)

// fakeClock is an adjustable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// iamServer issues tokens "token-1", "token-2", … valid for lifetime from
// issued (the fake clock's time); fail, when set, answers instead.
type iamServer struct {
	t        *testing.T
	clock    *fakeClock
	lifetime time.Duration
	noIssued bool
	gate     chan struct{} // when not nil, each request waits for it
	fail     func(w http.ResponseWriter, n int) bool

	mu     sync.Mutex
	n      int
	bodies []string
}

func (s *iamServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.n++
	n := s.n
	s.bodies = append(s.bodies, string(body))
	s.mu.Unlock()
	if r.Method != "POST" || r.URL.Path != "/v3/auth/tokens" || r.Header.Get("Content-Type") != "application/json;charset=utf8" {
		s.t.Errorf("IAM request %s %s, Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	if s.gate != nil {
		<-s.gate
	}
	if s.fail != nil && s.fail(w, n) {
		return
	}
	now := s.clock.Now().UTC()
	w.Header().Set("X-Subject-Token", fmt.Sprintf("token-%d", n))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(201)
	issued := `"issued_at": "` + now.Format("2006-01-02T15:04:05.000000Z") + `", `
	if s.noIssued {
		issued = ""
	}
	fmt.Fprintf(w, `{"token": {%s"expires_at": "%s", "methods": ["password"], "catalog": []}}`,
		issued, now.Add(s.lifetime).Format("2006-01-02T15:04:05.000000Z"))
}

func (s *iamServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func newPasswordAuth(t *testing.T, srv *httptest.Server, clock *fakeClock, obs func(RequestEvent)) *passwordAuth {
	t.Helper()
	a, err := NewPasswordAuth(PasswordAuthOptions{
		IAMEndpoint: srv.URL + "/", Domain: "dom", User: "alice", Password: testPassword, ProjectID: "proj-1",
		httpClient: srv.Client(), Now: clock.Now, observer: obs,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := a.(*passwordAuth)
	p.eng.jitter = func(time.Duration) time.Duration { return time.Millisecond }
	return p
}

func tokenOf(t *testing.T, a Authenticator) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://x/", nil)
	if err := a.Authorize(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	return req.Header.Get("X-Auth-Token")
}

func TestPasswordAuthRequest(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	iam := &iamServer{t: t, clock: clock, lifetime: 24 * time.Hour}
	srv := httptest.NewServer(iam)
	defer srv.Close()
	var log eventLog
	p := newPasswordAuth(t, srv, clock, log.observe)
	if tok := tokenOf(t, p); tok != "token-1" {
		t.Fatalf("token %q", tok)
	}
	want := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alice","password":"pa$$w0rd-<&>-SECRET","domain":{"name":"dom"}}}},"scope":{"project":{"id":"proj-1"}}}}`
	if iam.bodies[0] != want {
		t.Errorf("body\n got %s\nwant %s", iam.bodies[0], want)
	}
	if got := log.brief(); !reflect.DeepEqual(got, []RequestEvent{{Operation: opIAMToken, StatusCode: 201, Attempt: 1}}) {
		t.Errorf("events %+v", got)
	}
}

func TestPasswordAuthRenewal(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		lifetime  time.Duration
		noIssued  bool
		renewLeft time.Duration // renewed when this much or less remains
	}{
		{"24h token: 5 minutes before", 24 * time.Hour, false, 5 * time.Minute},
		{"20m token: 10% before", 20 * time.Minute, false, 2 * time.Minute},
		{"no issued_at", time.Hour, true, 5 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: t0}
			iam := &iamServer{t: t, clock: clock, lifetime: tt.lifetime, noIssued: tt.noIssued}
			srv := httptest.NewServer(iam)
			defer srv.Close()
			p := newPasswordAuth(t, srv, clock, nil)
			for range 3 {
				if tok := tokenOf(t, p); tok != "token-1" {
					t.Fatalf("token %q", tok)
				}
			}
			clock.Add(tt.lifetime - tt.renewLeft - time.Second)
			if tok := tokenOf(t, p); tok != "token-1" || iam.count() != 1 {
				t.Fatalf("1s before the renewal time: token %q after %d fetches", tok, iam.count())
			}
			clock.Add(time.Second)
			if tok := tokenOf(t, p); tok != "token-2" || iam.count() != 2 {
				t.Fatalf("at the renewal time: token %q after %d fetches", tok, iam.count())
			}
		})
	}
}

// TestPasswordAuthSharedFetch: concurrent callers wait for one fetch.
func TestPasswordAuthSharedFetch(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	iam := &iamServer{t: t, clock: clock, lifetime: 24 * time.Hour, gate: make(chan struct{})}
	srv := httptest.NewServer(iam)
	defer srv.Close()
	p := newPasswordAuth(t, srv, clock, nil)
	const callers = 20
	var wg sync.WaitGroup
	toks := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", "http://x/", nil)
			errs[i] = p.Authorize(context.Background(), req, nil)
			toks[i] = req.Header.Get("X-Auth-Token")
		}()
	}
	// Let the callers pile up on the in-flight fetch, then release it.
	for deadline := time.Now().Add(5 * time.Second); iam.count() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(iam.gate)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || toks[i] != "token-1" {
			t.Errorf("caller %d: %q, %v", i, toks[i], errs[i])
		}
	}
	if iam.count() != 1 {
		t.Errorf("%d fetches, want 1", iam.count())
	}
}

// TestPasswordAuthWaiterCancel: a caller whose context ends stops waiting;
// the fetch goes on and serves later callers.
func TestPasswordAuthWaiterCancel(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	iam := &iamServer{t: t, clock: clock, lifetime: 24 * time.Hour, gate: make(chan struct{})}
	srv := httptest.NewServer(iam)
	defer srv.Close()
	p := newPasswordAuth(t, srv, clock, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequest("GET", "http://x/", nil)
	err := p.Authorize(ctx, req, nil)
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "iam_token: waiting for a token: context deadline exceeded" {
		t.Fatalf("error %v", err)
	}
	close(iam.gate)
	if tok := tokenOf(t, p); tok != "token-1" || iam.count() != 1 {
		t.Errorf("token %q after %d fetches", tok, iam.count())
	}
}

func TestPasswordAuthRenew(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	iam := &iamServer{t: t, clock: clock, lifetime: 24 * time.Hour}
	srv := httptest.NewServer(iam)
	defer srv.Close()
	p := newPasswordAuth(t, srv, clock, nil)
	tokenOf(t, p)
	// A token younger than 5s is not discarded (it was just fetched).
	clock.Add(4 * time.Second)
	if !p.Renew(context.Background()) {
		t.Error("Renew reported false")
	}
	if tok := tokenOf(t, p); tok != "token-1" || iam.count() != 1 {
		t.Errorf("token %q after %d fetches", tok, iam.count())
	}
	clock.Add(time.Second)
	if !p.Renew(context.Background()) {
		t.Error("Renew reported false")
	}
	if tok := tokenOf(t, p); tok != "token-2" || iam.count() != 2 {
		t.Errorf("token %q after %d fetches", tok, iam.count())
	}
}

// TestClient401Renews: a 401 with a password token renews the token once
// and retries once; IAM calls show up in the client's Observer too.
func TestClient401Renews(t *testing.T) {
	for _, tt := range []struct {
		name       string
		rejectAll  bool
		wantVBS    int
		wantIAM    int
		wantEvents []RequestEvent
	}{
		{"renewal helps", false, 2, 2, []RequestEvent{
			{Operation: opIAMToken, StatusCode: 201, Attempt: 1},
			{Operation: opListPolicies, StatusCode: 401, Attempt: 1, Retried: true},
			{Operation: opIAMToken, StatusCode: 201, Attempt: 1},
			{Operation: opListPolicies, StatusCode: 200, Attempt: 2},
		}},
		{"renewal does not help", true, 2, 2, []RequestEvent{
			{Operation: opIAMToken, StatusCode: 201, Attempt: 1},
			{Operation: opListPolicies, StatusCode: 401, Attempt: 1, Retried: true},
			{Operation: opIAMToken, StatusCode: 201, Attempt: 1},
			{Operation: opListPolicies, StatusCode: 401, Attempt: 2},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
			iam := &iamServer{t: t, clock: clock, lifetime: 24 * time.Hour}
			iamSrv := httptest.NewServer(iam)
			defer iamSrv.Close()
			var vbsN atomic.Int32
			vbs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				vbsN.Add(1)
				tok := r.Header.Get("X-Auth-Token")
				if tok == "token-1" || tt.rejectAll {
					clock.Add(time.Minute) // the token is older than renewMinAge when Renew runs
					w.WriteHeader(401)
					fmt.Fprintf(w, `{"error_code":"APIGW.0301","error_msg":"Incorrect token %s"}`, tok)
					return
				}
				w.Write([]byte(vendorPolicies))
			}))
			defer vbs.Close()
			var log eventLog
			p := newPasswordAuth(t, iamSrv, clock, nil)
			c := newTestClient(t, vbs, func(o *testOptions) { o.Auth = p; o.Observer = log.observe })
			_, err := c.listPolicies(context.Background())
			if tt.rejectAll {
				if err == nil || err.Error() != "list_policies: HTTP 401 APIGW.0301: Incorrect token [REDACTED]" {
					t.Errorf("error %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if int(vbsN.Load()) != tt.wantVBS || iam.count() != tt.wantIAM {
				t.Errorf("%d VBS and %d IAM requests, want %d and %d", vbsN.Load(), iam.count(), tt.wantVBS, tt.wantIAM)
			}
			if got := log.brief(); !reflect.DeepEqual(got, tt.wantEvents) {
				t.Errorf("events\n got %+v\nwant %+v", got, tt.wantEvents)
			}
		})
	}
}

func TestPasswordAuthIAMErrors(t *testing.T) {
	tests := []struct {
		name    string
		fail    func(w http.ResponseWriter, n int) bool
		want    string
		wantN   int
		wantAPI *APIError
	}{
		{
			name: "wrong password",
			fail: func(w http.ResponseWriter, n int) bool {
				w.Header().Set("X-Request-Id", "iam-req")
				w.WriteHeader(401)
				w.Write([]byte(`{"error":{"code":401,"message":"The username or password is wrong.","title":"Unauthorized"}}`))
				return true
			},
			want:    "iam_token: HTTP 401: The username or password is wrong. (request_id iam-req)",
			wantN:   1,
			wantAPI: &APIError{Operation: opIAMToken, StatusCode: 401, Code: "401", Message: "The username or password is wrong.", RequestID: "iam-req"},
		},
		{
			name: "error echoing the password",
			fail: func(w http.ResponseWriter, n int) bool {
				w.WriteHeader(400)
				fmt.Fprintf(w, `{"error":{"code":"1100","message":"bad request body: password %s"}}`, testPassword)
				return true
			},
			want:  "iam_token: HTTP 400 1100: bad request body: password [REDACTED]",
			wantN: 1,
		},
		{
			name: "no X-Subject-Token",
			fail: func(w http.ResponseWriter, n int) bool {
				w.WriteHeader(201)
				w.Write([]byte(`{"token":{"expires_at":"2030-01-01T00:00:00Z"}}`))
				return true
			},
			want:  "iam_token: decode response (HTTP 201): no X-Subject-Token header",
			wantN: 1,
		},
		{
			name: "bad expires_at",
			fail: func(w http.ResponseWriter, n int) bool {
				w.Header().Set("X-Subject-Token", "tok-SECRET-x")
				w.WriteHeader(201)
				w.Write([]byte(`{"token":{"expires_at":"tomorrow"}}`))
				return true
			},
			want:  `iam_token: decode response (HTTP 201): field token.expires_at: cannot parse "tomorrow" as a timestamp`,
			wantN: 1,
		},
		{
			name: "expired token",
			fail: func(w http.ResponseWriter, n int) bool {
				w.Header().Set("X-Subject-Token", "tok-SECRET-x")
				w.WriteHeader(201)
				w.Write([]byte(`{"token":{"expires_at":"2020-01-01T00:00:00Z"}}`))
				return true
			},
			want:  "iam_token: decode response (HTTP 201): token already expired (expires_at 2020-01-01T00:00:00Z, local clock 2024-03-01T12:00:00Z)",
			wantN: 1,
		},
		{
			name: "503 then fine",
			fail: func(w http.ResponseWriter, n int) bool {
				if n == 1 {
					w.WriteHeader(503)
					return true
				}
				return false
			},
			wantN: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
			iam := &iamServer{t: t, clock: clock, lifetime: time.Hour, fail: tt.fail}
			srv := httptest.NewServer(iam)
			defer srv.Close()
			p := newPasswordAuth(t, srv, clock, nil)
			req, _ := http.NewRequest("GET", "http://x/", nil)
			err := p.Authorize(context.Background(), req, nil)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || err.Error() != tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if tt.wantAPI != nil {
				var ae *APIError
				if !errors.As(err, &ae) || *ae != *tt.wantAPI {
					t.Errorf("APIError %+v, want %+v", ae, tt.wantAPI)
				}
			}
			if iam.count() != tt.wantN {
				t.Errorf("%d IAM requests, want %d", iam.count(), tt.wantN)
			}
			// IAM refusing the credentials (400/401/403) is remembered for a
			// back-off (TestPasswordAuthRefusalBackoff); any other failure
			// is not: the next call asks again.
			if err != nil {
				var ae *APIError
				refused := errors.As(err, &ae) && (ae.StatusCode == 400 || ae.StatusCode == 401 || ae.StatusCode == 403)
				want := tt.wantN + 1
				if refused {
					want = tt.wantN
				}
				p.Authorize(context.Background(), req, nil)
				if iam.count() != want {
					t.Errorf("after a second call: %d IAM requests, want %d", iam.count(), want)
				}
			}
		})
	}
}

func TestNewPasswordAuthValidation(t *testing.T) {
	_, err := NewPasswordAuth(PasswordAuthOptions{Region: "cn-north-4", Password: testPassword})
	if err == nil || err.Error() != "password auth: missing Domain, User, ProjectID" {
		t.Errorf("error %v", err)
	}
	_, err = NewPasswordAuth(PasswordAuthOptions{Domain: "d", User: "u", Password: testPassword, ProjectID: "p"})
	if err == nil || err.Error() != "password auth: IAM endpoint: neither endpoint nor region set" {
		t.Errorf("error %v", err)
	}
	a, err := NewPasswordAuth(PasswordAuthOptions{Region: "cn-north-4", Domain: "d", User: "u", Password: testPassword, ProjectID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.(*passwordAuth).endpoint.String(); got != "https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens" {
		t.Errorf("endpoint %q", got)
	}
}

// TestNoSecretsInOutput: descriptions and error strings never contain the
// secret key, the security token, the password or a token.
func TestNoSecretsInOutput(t *testing.T) {
	secrets := []string{testSK, testSTS, testPassword, testToken, "token-1"}
	check := func(what, s string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("%s contains a secret: %s", what, s)
			}
		}
	}

	clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	iam := &iamServer{t: t, clock: clock, lifetime: time.Hour}
	iamSrv := httptest.NewServer(iam)
	defer iamSrv.Close()
	pw := newPasswordAuth(t, iamSrv, clock, nil)
	auths := map[string]Authenticator{
		"aksk":     NewAKSK("AKIDEXAMPLE", testSK, testSTS),
		"static":   NewStaticToken(testToken),
		"password": pw,
	}
	for name, a := range auths {
		for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			check(name+" "+f, fmt.Sprintf(f, a))
		}
	}

	// A server that echoes every request header into its error body.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		for k, v := range r.Header {
			fmt.Fprintf(&b, "%s=%s; ", k, v)
		}
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"code":"AutoBackup.0003","message":%q}}`, b.String())
	}))
	defer echo.Close()
	for name, a := range auths {
		c := newTestClient(t, echo, func(o *testOptions) { o.Auth = a })
		_, err := c.listPolicies(context.Background())
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		check(name+" error", err.Error())
		check(name+" client", fmt.Sprintf("%v %+v %#v", c, c, c))
		if !strings.Contains(err.Error(), "[REDACTED]") {
			t.Errorf("%s: nothing redacted in %q", name, err)
		}
	}

	// IAM failures: a network error and an error echoing the request body.
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	a, err := NewPasswordAuth(PasswordAuthOptions{IAMEndpoint: downURL, Domain: "d", User: "u", Password: testPassword, ProjectID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	a.(*passwordAuth).eng.jitter = func(time.Duration) time.Duration { return 0 }
	req, _ := http.NewRequest("GET", "http://x/", nil)
	err = a.Authorize(context.Background(), req, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "iam_token: POST "+downURL+"/v3/auth/tokens: ") {
		t.Errorf("error %v", err)
	} else {
		check("IAM network error", err.Error())
	}
	echoIAM := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(400)
		w.Write(body) // not an error shape: becomes the message snippet
	}))
	defer echoIAM.Close()
	a, _ = NewPasswordAuth(PasswordAuthOptions{IAMEndpoint: echoIAM.URL, Domain: "d", User: "u", Password: testPassword, ProjectID: "p"})
	err = a.Authorize(context.Background(), req, nil)
	if err == nil {
		t.Fatal("no error")
	}
	check("IAM echo error", err.Error())
}

// TestPasswordAuthRefusalBackoff: after IAM refuses the password, no new
// login is attempted before the back-off (30 s, doubling) ends, so a wrong
// password cannot lock the IAM user; a success resets it.
func TestPasswordAuthRefusalBackoff(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	refuse := true
	iam := &iamServer{t: t, clock: clock, lifetime: 24 * time.Hour, fail: func(w http.ResponseWriter, _ int) bool {
		if !refuse {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		io.WriteString(w, `{"error":{"code":401,"message":"The username or password is wrong.","title":"Unauthorized"}}`)
		return true
	}}
	srv := httptest.NewServer(iam)
	defer srv.Close()
	p := newPasswordAuth(t, srv, clock, nil)
	get := func() error { _, err := p.get(context.Background()); return err }
	for range 3 {
		if err := get(); err == nil {
			t.Fatal("no error for a refused password")
		}
	}
	if n := iam.count(); n != 1 {
		t.Fatalf("%d logins within the back-off, want 1", n)
	}
	err := get()
	if want := "iam_token: credentials refused, next login attempt after 2024-03-01T12:00:30Z: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
	clock.Add(30 * time.Second)
	_ = get()
	if n := iam.count(); n != 2 {
		t.Fatalf("%d logins after 30 s, want 2", n)
	}
	clock.Add(59 * time.Second) // the second back-off is 60 s
	_ = get()
	if n := iam.count(); n != 2 {
		t.Fatalf("%d logins 59 s into the second back-off, want 2", n)
	}
	refuse = false
	clock.Add(time.Second)
	if err := get(); err != nil {
		t.Fatalf("after the back-off with a good password: %v", err)
	}
	if n := iam.count(); n != 3 || p.refusals != 0 {
		t.Errorf("%d logins, %d refusals after success, want 3 and 0", n, p.refusals)
	}
}

// TestPasswordAuthIAMEndpoint: the default IAM host comes from the region
// table (eu-west-101 is on the .eu site); an explicit IAMEndpoint wins.
func TestPasswordAuthIAMEndpoint(t *testing.T) {
	for _, tt := range []struct{ region, endpoint, want string }{
		{"eu-west-101", "", "https://iam.eu-west-101.myhuaweicloud.eu/v3/auth/tokens"},
		{"cn-north-4", "", "https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens"},
		{"eu-west-101", "https://iam.example.com/", "https://iam.example.com/v3/auth/tokens"},
	} {
		a, err := NewPasswordAuth(PasswordAuthOptions{Region: tt.region, IAMEndpoint: tt.endpoint, Domain: "d", User: "u", Password: testPassword, ProjectID: "p"})
		if err != nil {
			t.Fatal(err)
		}
		if got := a.(*passwordAuth).endpoint.String(); got != tt.want {
			t.Errorf("region %q, IAMEndpoint %q: %s, want %s", tt.region, tt.endpoint, got, tt.want)
		}
	}
}

// TestPasswordAuthRenewalFailureKeepsToken: when the renewal of a token that
// is still valid fails (IAM 503, or IAM refusing logins), Authorize sends the
// cached token until a minute before its expiry, and tries IAM again no
// sooner than 30 s (or the refusal back-off) later.
func TestPasswordAuthRenewalFailureKeepsToken(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		again  time.Duration // next renewal attempt after this
	}{
		{"IAM 503", 503, renewRetryGap},
		{"IAM refuses", 401, refusalBackoffBase},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
			down := false
			iam := &iamServer{t: t, clock: clock, lifetime: time.Hour, fail: func(w http.ResponseWriter, _ int) bool {
				if down {
					w.WriteHeader(tt.status)
					return true
				}
				return false
			}}
			srv := httptest.NewServer(iam)
			defer srv.Close()
			p := newPasswordAuth(t, srv, clock, nil)
			tokenOf(t, p)
			clock.Add(56 * time.Minute) // past the renewal time, 4 minutes left
			down = true
			if tok := tokenOf(t, p); tok != "token-1" {
				t.Fatalf("IAM down, token valid for 4 more minutes: token %q", tok)
			}
			n := iam.count()
			if n < 2 {
				t.Fatalf("%d IAM requests, want a renewal attempt", n)
			}
			clock.Add(tt.again - time.Second)
			if tok := tokenOf(t, p); tok != "token-1" || iam.count() != n {
				t.Fatalf("within the retry gap: token %q, %d IAM requests, want token-1 and %d", tok, iam.count(), n)
			}
			clock.Add(time.Second)
			if tok := tokenOf(t, p); tok != "token-1" || iam.count() == n {
				t.Fatalf("after the retry gap: token %q, %d IAM requests, want token-1 and a new attempt", tok, iam.count())
			}
			// A minute before expiry the cached token is no longer used.
			clock.Add(59*time.Minute - 56*time.Minute - tt.again)
			req, _ := http.NewRequest("GET", "http://x/", nil)
			err := p.Authorize(context.Background(), req, nil)
			if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("iam_token: HTTP %d", tt.status)) &&
				!strings.HasPrefix(err.Error(), "iam_token: credentials refused") {
				t.Fatalf("a minute before expiry: error %v", err)
			}
			// IAM back: the renewal goes through.
			down = false
			clock.Add(refusalBackoffMax) // past any back-off
			if tok := tokenOf(t, p); tok == "token-1" || tok == "" {
				t.Fatalf("IAM back: token %q", tok)
			}
		})
	}
}

// TestPasswordAuthRenew401AfterFailedRenewal: a 401 on the cached token
// (Renew) still forces a fetch whose failure fails Authorize.
func TestPasswordAuthRenew401AfterFailedRenewal(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	down := false
	iam := &iamServer{t: t, clock: clock, lifetime: time.Hour, fail: func(w http.ResponseWriter, _ int) bool {
		if down {
			w.WriteHeader(503)
			return true
		}
		return false
	}}
	srv := httptest.NewServer(iam)
	defer srv.Close()
	p := newPasswordAuth(t, srv, clock, nil)
	tokenOf(t, p)
	clock.Add(56 * time.Minute)
	down = true
	if tok := tokenOf(t, p); tok != "token-1" {
		t.Fatalf("token %q", tok)
	}
	p.Renew(context.Background())
	n := iam.count()
	req, _ := http.NewRequest("GET", "http://x/", nil)
	err := p.Authorize(context.Background(), req, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "iam_token: HTTP 503") || iam.count() == n {
		t.Fatalf("after Renew with IAM down: error %v, %d IAM requests (before %d)", err, iam.count(), n)
	}
}

// TestPasswordAuthSlowRenewal: while IAM does not answer a renewal, a caller
// with a still valid token waits renewWait, then sends the cached token;
// later callers do not wait for that renewal; its result is used once in.
func TestPasswordAuthSlowRenewal(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	iam := &iamServer{t: t, clock: clock, lifetime: time.Hour}
	srv := httptest.NewServer(iam)
	defer srv.Close()
	p := newPasswordAuth(t, srv, clock, nil)
	p.renewWait = 20 * time.Millisecond
	tokenOf(t, p)
	clock.Add(56 * time.Minute)
	gate := make(chan struct{})
	iam.mu.Lock()
	iam.gate = gate
	iam.mu.Unlock()
	for i := range 3 {
		if tok := tokenOf(t, p); tok != "token-1" {
			t.Fatalf("call %d during a hanging renewal: token %q", i, tok)
		}
	}
	close(gate)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		p.mu.Lock()
		done := p.flight == nil
		p.mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
	}
	if tok := tokenOf(t, p); tok != "token-2" || iam.count() != 2 {
		t.Errorf("after the renewal: token %q after %d IAM requests, want token-2 after 2", tok, iam.count())
	}
}
