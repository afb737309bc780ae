package vbstest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func authError(reqID, detail string) string {
	return `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: ` + detail + `","request_id":"` + reqID + `"}`
}

func expect401(t *testing.T, name string, r result, detail string) {
	t.Helper()
	if want := authError(r.header.Get("X-Request-Id"), detail); r.status != 401 || r.body != want {
		t.Errorf("%s: %d %s\nwant 401 %s", name, r.status, r.body, want)
	}
}

func TestSignatureAccepted(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p/1 x"})
	sg := defaultSigner(s)
	// Unusual characters in the path and in (ignored) query parameters.
	q := [][2]string{{"limit", "5"}, {"zz", "a b+c/ü~"}, {"zz", ""}, {"aa", "日本"}, {"e", ""}}
	r := do(t, sg.request(t, s.URL(), http.MethodGet, "/v2/"+DefaultProjectID+"/backuppolicy/p%2F1%20x/backuptasks", q, nil))
	if r.status != 200 || r.body != `{"tasks":[],"count":0}` {
		t.Fatalf("signed request: %d %s", r.status, r.body)
	}
	sg.extra = map[string]string{"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD", "Content-Type": "application/json"}
	if r := do(t, sg.request(t, s.URL(), http.MethodGet, policiesPath(s), nil, nil)); r.status != 200 {
		t.Errorf("unsigned payload: %d %s", r.status, r.body)
	}
}

func TestSignatureRejected(t *testing.T) {
	s, clk := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p"})
	sg := defaultSigner(s)
	path := tasksPath(s, "p")

	req := sg.request(t, s.URL(), http.MethodGet, path, [][2]string{{"limit", "10"}}, nil)
	req.URL.RawQuery = "limit=11"
	expect401(t, "tampered query", do(t, req), "verify aksk signature fail")
	if log := s.RequestLog(OpListTasks); len(log) != 1 || !strings.Contains(log[0].canonicalRequest, "\nlimit=11\n") {
		t.Errorf("log: %+v", log)
	}

	req = sg.request(t, s.URL(), http.MethodGet, path, [][2]string{{"status", "SKIP"}}, nil)
	req.URL.RawQuery = "status=RUNNING"
	expect401(t, "tampered filter", do(t, req), "verify aksk signature fail")

	// "+" sent raw where "%20" was signed: not the query that was signed.
	req = sg.request(t, s.URL(), http.MethodGet, path, [][2]string{{"x", "a b"}}, nil)
	req.URL.RawQuery = "x=a+b"
	expect401(t, "plus for space", do(t, req), "verify aksk signature fail")

	req = sg.request(t, s.URL(), http.MethodGet, path, nil, nil)
	req.URL.Path = tasksPath(s, "q")
	expect401(t, "tampered path", do(t, req), "verify aksk signature fail")

	bad := sg
	bad.sk = "wrong"
	expect401(t, "wrong SK", do(t, bad.request(t, s.URL(), http.MethodGet, path, nil, nil)), "verify aksk signature fail")
	if !s.AccessKeyLocked() {
		t.Error("five bad signatures did not lock the access key")
	}
	s.RestoreAccessKey()
	bad = sg
	bad.ak = "OTHER"
	expect401(t, "wrong AK", do(t, bad.request(t, s.URL(), http.MethodGet, path, nil, nil)), "access key not found")
	bad = sg
	bad.project = "ffff"
	expect401(t, "X-Project-Id", do(t, bad.request(t, s.URL(), http.MethodGet, path, nil, nil)), "the project in X-Project-Id is not accessible")

	req = sg.request(t, s.URL(), http.MethodGet, path, nil, nil)
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "host;", "", 1))
	expect401(t, "host not signed", do(t, req), "SignedHeaders must include host and x-sdk-date")
	req = sg.request(t, s.URL(), http.MethodGet, path, nil, nil)
	req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access=DEMOACCESSKEY")
	expect401(t, "malformed", do(t, req), "malformed Authorization header")
	req = sg.request(t, s.URL(), http.MethodGet, path, nil, nil)
	req.Header.Del("X-Sdk-Date")
	expect401(t, "no date", do(t, req), "X-Sdk-Date is missing or malformed")

	expect401(t, "no credentials", do(t, mustRequest(t, http.MethodGet, s.URL()+path)), "neither a signature nor a token was found")

	old := sg
	old.now = func() time.Time { return clk.Now().Add(-16 * time.Minute) }
	expect401(t, "old date", do(t, old.request(t, s.URL(), http.MethodGet, path, nil, nil)), "request expired: X-Sdk-Date is more than 15 minutes off")
	old.now = func() time.Time { return clk.Now().Add(16 * time.Minute) }
	expect401(t, "future date", do(t, old.request(t, s.URL(), http.MethodGet, path, nil, nil)), "request expired: X-Sdk-Date is more than 15 minutes off")
	old.now = func() time.Time { return clk.Now().Add(-14 * time.Minute) }
	if r := do(t, old.request(t, s.URL(), http.MethodGet, path, nil, nil)); r.status != 200 {
		t.Errorf("date 14 minutes old: %d %s", r.status, r.body)
	}

	s.RevokeAccessKey()
	expect401(t, "revoked", do(t, sg.request(t, s.URL(), http.MethodGet, path, nil, nil)), "access key not found")
	s.RestoreAccessKey()
	if r := do(t, sg.request(t, s.URL(), http.MethodGet, path, nil, nil)); r.status != 200 {
		t.Errorf("restored: %d %s", r.status, r.body)
	}
}

func TestSecurityToken(t *testing.T) {
	s, _ := newTestServer(t, Options{SecurityToken: "temp-token"})
	sg := defaultSigner(s)
	expect401(t, "no security token", do(t, sg.request(t, s.URL(), http.MethodGet, policiesPath(s), nil, nil)), "invalid security token")
	sg.token = "other"
	expect401(t, "wrong security token", do(t, sg.request(t, s.URL(), http.MethodGet, policiesPath(s), nil, nil)), "invalid security token")
	sg.token = "temp-token"
	if r := do(t, sg.request(t, s.URL(), http.MethodGet, policiesPath(s), nil, nil)); r.status != 200 {
		t.Errorf("with security token: %d %s", r.status, r.body)
	}
}

func TestAccessKeyLockout(t *testing.T) {
	s, clk := newTestServer(t, Options{})
	sg := defaultSigner(s)
	bad := sg
	bad.sk = "wrong"
	send := func(x signer) result { return do(t, x.request(t, s.URL(), http.MethodGet, policiesPath(s), nil, nil)) }

	// Four failures and a success (which does not reset the count), then
	// 5 minutes pass: the four fall out of the window. Four more, a minute,
	// and the fifth within 5 minutes of them locks.
	for range 4 {
		expect401(t, "bad", send(bad), "verify aksk signature fail")
	}
	if r := send(sg); r.status != 200 {
		t.Fatalf("good: %d", r.status)
	}
	clk.Advance(5 * time.Minute)
	for range 4 {
		send(bad)
	}
	if r := send(sg); r.status != 200 || s.AccessKeyLocked() {
		t.Fatalf("after 4 failures, 5 minutes, 4 failures: %d", r.status)
	}
	clk.Advance(4*time.Minute + 59*time.Second)
	expect401(t, "bad", send(bad), "verify aksk signature fail")
	if !s.AccessKeyLocked() {
		t.Fatal("not locked after 5 failures within 5 minutes")
	}
	expect401(t, "locked", send(sg), "the access key is locked after too many failed signatures")
	clk.Advance(5 * time.Minute)
	if r := send(sg); r.status != 200 || s.AccessKeyLocked() {
		t.Fatalf("after the lock: %d", r.status)
	}
	s.RestoreAccessKey()
	for range 5 {
		expect401(t, "bad", send(bad), "verify aksk signature fail")
	}
	if !s.AccessKeyLocked() {
		t.Fatal("not locked after 5 failures")
	}
	expect401(t, "locked", send(sg), "the access key is locked after too many failed signatures")
	clk.Advance(4*time.Minute + 59*time.Second)
	expect401(t, "still locked", send(sg), "the access key is locked after too many failed signatures")
	clk.Advance(time.Second)
	if r := send(sg); r.status != 200 {
		t.Errorf("after 5 minutes: %d %s", r.status, r.body)
	}
	if got := s.Requests(OpListPolicies); got != 21 {
		t.Errorf("Requests = %d, want 21", got)
	}
}

func tokenBody(user, password, domain, project string) string {
	return `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"` + user + `","password":"` + password +
		`","domain":{"name":"` + domain + `"}}}},"scope":{"project":{"id":"` + project + `"}}}}`
}

func postToken(t *testing.T, s *Server, contentType, body string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/v3/auth/tokens", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return do(t, req)
}

func withToken(t *testing.T, s *Server, tok string) result {
	t.Helper()
	req := mustRequest(t, http.MethodGet, s.URL()+policiesPath(s))
	req.Header.Set("X-Auth-Token", tok)
	return do(t, req)
}

func TestTokens(t *testing.T) {
	s, clk := newTestServer(t, Options{})
	r := postToken(t, s, "application/json;charset=utf8", tokenBody(defaultUser, defaultPassword, defaultDomain, DefaultProjectID))
	if r.status != 201 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	tok := r.header.Get("X-Subject-Token")
	if !strings.HasPrefix(tok, "MII") || len(tok) < 60 {
		t.Errorf("token %q", tok)
	}
	var body struct {
		Token struct {
			ExpiresAt string `json:"expires_at"`
			IssuedAt  string `json:"issued_at"`
			Project   struct {
				ID string `json:"id"`
			} `json:"project"`
		} `json:"token"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	if body.Token.ExpiresAt != "2026-11-28T12:00:00.000000Z" || body.Token.IssuedAt != "2026-11-27T12:00:00.000000Z" || body.Token.Project.ID != DefaultProjectID {
		t.Errorf("token body %s", r.body)
	}
	if strings.Contains(r.body, tok) || strings.Contains(r.body, defaultPassword) {
		t.Error("body leaks the token or the password")
	}
	if got := s.IssuedTokens(); !slices.Equal(got, []string{tok}) {
		t.Errorf("IssuedTokens = %v", got)
	}
	if r := withToken(t, s, tok); r.status != 200 {
		t.Fatalf("with token: %d %s", r.status, r.body)
	}
	if log := s.RequestLog(OpListPolicies); log[0].Auth != "token" {
		t.Errorf("Auth = %q", log[0].Auth)
	}

	expiredBody := `{"error":{"code":"AutoBackup.0003","message":"The token has expired."}}`
	clk.Advance(24*time.Hour - time.Millisecond)
	if r := withToken(t, s, tok); r.status != 200 {
		t.Errorf("just before expiry: %d", r.status)
	}
	clk.Advance(time.Millisecond)
	if r := withToken(t, s, tok); r.status != 401 || r.body != expiredBody {
		t.Errorf("expired: %d %s", r.status, r.body)
	}

	tok2 := testToken(s)
	if r := withToken(t, s, tok2); r.status != 200 {
		t.Errorf("IssueToken: %d", r.status)
	}
	s.ExpireTokens()
	if r := withToken(t, s, tok2); r.status != 401 || r.body != expiredBody {
		t.Errorf("ExpireTokens: %d %s", r.status, r.body)
	}
	tok3 := testToken(s)
	s.RevokeTokens()
	expect401(t, "revoked", withToken(t, s, tok3), "decrypt token fail")
	tok4 := testToken(s)
	if r := withToken(t, s, tok4); r.status != 200 {
		t.Errorf("token after RevokeTokens: %d", r.status)
	}
	expect401(t, "unknown token", withToken(t, s, "MIIbogus"), "decrypt token fail")
	if got := s.IssuedTokens(); !slices.Equal(got, []string{tok, tok2, tok3, tok4}) {
		t.Errorf("IssuedTokens = %v", got)
	}
}

func TestTokenRequestErrors(t *testing.T) {
	s, _ := newTestServer(t, Options{User: "u", Password: "pw", Domain: "d", tokenTTL: time.Hour})
	good := tokenBody("u", "pw", "d", DefaultProjectID)
	wrongCreds := `{"error":{"code":401,"message":"The username or password is wrong.","title":"Unauthorized"}}`
	cases := []struct {
		name, ct, body string
		status         int
		want           string
	}{
		{"wrong password", "application/json", tokenBody("u", "x", "d", DefaultProjectID), 401, wrongCreds},
		{"wrong user", "application/json", tokenBody("x", "pw", "d", DefaultProjectID), 401, wrongCreds},
		{"wrong domain", "application/json", tokenBody("u", "pw", "x", DefaultProjectID), 401, wrongCreds},
		{"wrong project", "application/json", tokenBody("u", "pw", "d", "other"), 401, `{"error":{"code":401,"message":"The user has no access to the requested project.","title":"Unauthorized"}}`},
		{"not json", "application/json", "{", 400, `{"error":{"code":400,"message":"The request body is not valid JSON.","title":"Bad Request"}}`},
		{"content type", "text/plain", good, 400, `{"error":{"code":400,"message":"The request body must be application/json.","title":"Bad Request"}}`},
		{"no scope", "application/json", `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"u","password":"pw","domain":{"name":"d"}}}}}}`, 400, ""},
		{"no method", "application/json", `{"auth":{"identity":{"methods":["token"]},"scope":{"project":{"id":"x"}}}}`, 400, ""},
	}
	for _, c := range cases {
		r := postToken(t, s, c.ct, c.body)
		if r.status != c.status || (c.want != "" && r.body != c.want) || r.header.Get("X-Subject-Token") != "" {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
		if strings.Contains(r.body, "pw") {
			t.Errorf("%s: body leaks the password", c.name)
		}
	}
	r := postToken(t, s, "application/json", good)
	var body struct {
		Token struct {
			ExpiresAt string `json:"expires_at"`
		} `json:"token"`
	}
	_ = json.Unmarshal([]byte(r.body), &body)
	if r.status != 201 || body.Token.ExpiresAt != "2026-11-27T13:00:00.000000Z" {
		t.Errorf("TTL 1h: %d %s", r.status, r.body)
	}
	if len(s.IssuedTokens()) != 1 {
		t.Errorf("IssuedTokens = %v", s.IssuedTokens())
	}
	if r := do(t, mustRequest(t, http.MethodGet, s.URL()+"/v3/auth/tokens")); r.status != 404 {
		t.Errorf("GET tokens: %d", r.status)
	}
	if s.Requests(OpIAMToken) != len(cases)+1 {
		t.Errorf("Requests(OpIAMToken) = %d", s.Requests(OpIAMToken))
	}
}

// testToken returns a new valid token of s, as if fetched through the IAM call.
func testToken(s *Server) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, _ := s.newToken(s.now())
	return tok
}
