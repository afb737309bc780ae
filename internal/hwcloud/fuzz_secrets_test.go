package hwcloud

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// fuzzPassword is the password planted in the IAM request of the fuzz
// targets below. It has a quote and a backslash so that its JSON-escaped
// form (as it appears in the request body) differs from the literal one.
const fuzzPassword = `fz-Pa55"w0rd\SECRET`

// Markers that the fuzzed servers below replace in what they send back, so
// that the fuzzer can echo secrets from the request without guessing them.
const (
	markPasswordJSON = "@PWJ"  // the password JSON-escaped, without quotes
	markPassword     = "@PW"   // the password
	markRequestJSON  = "@REQJ" // the IAM request body JSON-escaped, without quotes
	markRequest      = "@REQ"  // the IAM request body, verbatim
)

// fuzzSecretForms are the forms of the password that must never appear in an
// error: the literal and the JSON-escaped one.
func fuzzSecretForms() []string {
	return []string{fuzzPassword, jsonEscaped(fuzzPassword)}
}

// jsonEscaped is s as it appears inside a JSON string.
func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// plantSecrets replaces the markers in s.
func plantSecrets(s, request string) string {
	s = strings.ReplaceAll(s, markPasswordJSON, jsonEscaped(fuzzPassword))
	s = strings.ReplaceAll(s, markPassword, fuzzPassword)
	s = strings.ReplaceAll(s, markRequestJSON, jsonEscaped(request))
	return strings.ReplaceAll(s, markRequest, request)
}

// checkNoSecret fails when text holds a form of fuzzPassword.
func checkNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, sec := range fuzzSecretForms() {
		if strings.Contains(text, sec) {
			t.Errorf("%s contains the password (%q): %q", what, sec, text)
		}
	}
}

// checkSanitized fails when s is not what sanitize makes: valid UTF-8, no
// control characters, no runs of or surrounding white space, at most limit
// bytes plus the "…" of a cut.
func checkSanitized(t *testing.T, what, s string, limit int) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s %q: invalid UTF-8", what, s)
	}
	if len(s) > limit+len("…") {
		t.Errorf("%s: %d bytes, limit %d", what, len(s), limit)
	}
	if strings.TrimSpace(s) != s || strings.Contains(s, "  ") {
		t.Errorf("%s %q: white space not folded", what, s)
	}
	for _, r := range s {
		if unicode.IsControl(r) || (unicode.IsSpace(r) && r != ' ') {
			t.Errorf("%s %q: control or white space character %U", what, s, r)
			break
		}
	}
}

// errorBodySeeds are error bodies in every shape the API uses, and garbage.
var errorBodySeeds = []string{
	`{"error": {"code": "AutoBackup.0205", "message": "The backup policy does not exist."}}`,
	`{"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information: verify aksk signature fail", "request_id": "c1d2e3"}`,
	`{"error_code": "APIG.0308", "error_msg": "The request is throttled.", "request_id": "a-b"}`,
	`{"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}}`,
	`{"error": {"code": "1100", "message": "bad request body: password @PWJ"}}`,
	`{"error": {"code": "1100", "message": "bad request body: @REQJ"}}`,
	`{"error_code": "x", "error_msg": "echo: @PWJ", "request_id": "@PWJ"}`,
	`{"code": "VPC.0101", "message": "other service"}`, `{"error": "plain text error"}`, `{"error": null}`,
	"<html><head><title>502 Bad Gateway</title></head>\n<body>\t<h1>502 Bad Gateway</h1> nginx</body></html>",
	`bad request: @REQ`, ``, `   `, `null`, `[]`, `{}`, `{"error": {`, "\xff\xfe\x00\x01", `{"error":{"code":1e999,"message":"\u0000\ud800"}}`,
	`{"error": {"code": "@PW", "message": "@PW"}}`,
}

// redactBoth is the redact function of the error-body tests: it removes the
// password and its JSON-escaped form, which is what an Authenticator's
// redact must do (a server that echoes its raw request echoes the escaped
// form). FuzzIAMTokenResponse checks the real one.
func redactBoth(s string) string { return redactAll(s, fuzzPassword, jsonEscaped(fuzzPassword)) }

// FuzzParseErrorBody fuzzes the body, status and X-Request-Id of a non-2xx
// response through newAPIError (and parseErrorBody): no panic, every field
// sanitized and bounded, and, given a redact function that removes the
// secret, no form of the secret in any field or in Error().
func FuzzParseErrorBody(f *testing.F) {
	for i, s := range errorBodySeeds {
		reqID := ""
		if i%3 == 0 {
			reqID = "req-" + markPassword
		}
		f.Add(400+i, reqID, []byte(s))
	}
	request, err := iamRequestBody("alice", fuzzPassword, "dom", "proj-1")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, requestID string, body []byte) {
		body = []byte(plantSecrets(string(body), string(request)))
		requestID = plantSecrets(requestID, string(request))
		code, msg, reqID, ok := parseErrorBody(body) // no panic
		if !ok && (code != "" || msg != "") {
			t.Errorf("not ok with code %q, message %q", code, msg)
		}
		h := http.Header{}
		if requestID != "" {
			h.Set("X-Request-Id", requestID)
		}
		e := newAPIError(opIAMToken, status, h, body, redactBoth)
		if e.Operation != opIAMToken || e.StatusCode != status {
			t.Errorf("operation %q status %d", e.Operation, e.StatusCode)
		}
		msgLimit := snippetBytes
		if ok {
			msgLimit = maxMessageBytes
		}
		checkSanitized(t, "Code", e.Code, 100)
		checkSanitized(t, "Message", e.Message, msgLimit)
		checkSanitized(t, "RequestID", e.RequestID, 200)
		if requestID == "" && reqID == "" && e.RequestID != "" {
			t.Errorf("RequestID %q from nowhere", e.RequestID)
		}
		for what, s := range map[string]string{"Error()": e.Error(), "Code": e.Code, "Message": e.Message, "RequestID": e.RequestID} {
			checkNoSecret(t, what, s)
		}
	})
}

// TestAPIErrorShapes pins the error text for each shape of FuzzParseErrorBody's seeds.
func TestAPIErrorShapes(t *testing.T) {
	request, err := iamRequestBody("alice", fuzzPassword, "dom", "proj-1")
	if err != nil {
		t.Fatal(err)
	}
	const redactedRequest = `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"alice","password":"[REDACTED]","domain":{"name":"dom"}}}},"scope":{"project":{"id":"proj-1"}}}}`
	for _, tt := range []struct {
		status      int
		reqID, body string
		want        string
	}{
		{404, "8c3f", errorBodySeeds[0], `iam_token: HTTP 404 AutoBackup.0205: The backup policy does not exist. (request_id 8c3f)`},
		{401, "", errorBodySeeds[1], `iam_token: HTTP 401 APIGW.0301: Incorrect IAM authentication information: verify aksk signature fail (request_id c1d2e3)`},
		// The X-Request-Id header wins over the body's request_id.
		{429, "hdr", errorBodySeeds[2], `iam_token: HTTP 429 APIG.0308: The request is throttled. (request_id hdr)`},
		// IAM's numeric code; equal to the status, it is said once.
		{401, "", errorBodySeeds[3], `iam_token: HTTP 401: The username or password is wrong.`},
		{403, "", errorBodySeeds[3], `iam_token: HTTP 403 401: The username or password is wrong.`},
		{400, "", errorBodySeeds[4], `iam_token: HTTP 400 1100: bad request body: password [REDACTED]`},
		// The request echoed inside a JSON message: unescaped once by the
		// parser, it holds the password JSON-escaped, as the request did.
		{400, "", errorBodySeeds[5], `iam_token: HTTP 400 1100: bad request body: ` + redactedRequest},
		// The request ID, from the header or from the body, is redacted too.
		{400, "req-" + markPassword, errorBodySeeds[6], `iam_token: HTTP 400 x: echo: [REDACTED] (request_id req-[REDACTED])`},
		{400, "", errorBodySeeds[6], `iam_token: HTTP 400 x: echo: [REDACTED] (request_id [REDACTED])`},
		{400, "", errorBodySeeds[7], `iam_token: HTTP 400 VPC.0101: other service`},
		{500, "", errorBodySeeds[8], `iam_token: HTTP 500: plain text error`},
		{500, "", errorBodySeeds[9], `iam_token: HTTP 500: {"error": null}`},
		// HTML: the first 200 bytes, white space folded.
		{502, "", errorBodySeeds[10], `iam_token: HTTP 502: <html><head><title>502 Bad Gateway</title></head> <body> <h1>502 Bad Gateway</h1> nginx</body></html>`},
		// A raw echo of the request body holds the password JSON-escaped.
		{400, "", errorBodySeeds[11], `iam_token: HTTP 400: bad request: ` + redactedRequest},
		{503, "", errorBodySeeds[12], `iam_token: HTTP 503 Service Unavailable`},
		{503, "r1", errorBodySeeds[13], `iam_token: HTTP 503 Service Unavailable (request_id r1)`},
		{503, "", errorBodySeeds[16], `iam_token: HTTP 503: {}`},
		{400, "", errorBodySeeds[17], `iam_token: HTTP 400: {"error": {`},
		// Invalid UTF-8 and control characters fold to nothing.
		{400, "", errorBodySeeds[18], `iam_token: HTTP 400 Bad Request`},
		// A NUL and a lone surrogate fold to nothing.
		{400, "", errorBodySeeds[19], `iam_token: HTTP 400 1e999`},
		// The literal password has a quote, so this is not JSON: the raw body, redacted.
		{400, "", errorBodySeeds[20], `iam_token: HTTP 400: {"error": {"code": "[REDACTED]", "message": "[REDACTED]"}}`},
	} {
		h := http.Header{}
		if tt.reqID != "" {
			h.Set("X-Request-Id", plantSecrets(tt.reqID, string(request)))
		}
		e := newAPIError(opIAMToken, tt.status, h, []byte(plantSecrets(tt.body, string(request))), redactBoth)
		if got := e.Error(); got != tt.want {
			t.Errorf("%d %q:\n got %s\nwant %s", tt.status, tt.body, got, tt.want)
		}
	}
}

// iamStatuses are the statuses FuzzIAMTokenResponse's server answers with.
var iamStatuses = []int{201, 200, 204, 400, 401, 403, 404, 429, 500, 503}

// FuzzIAMTokenResponse fuzzes what IAM answers to a password login: the
// status, the X-Subject-Token and X-Request-Id headers and the body, each of
// which may echo the password or the whole request (see plantSecrets). A
// login never panics, never hangs (retries wait nothing, and a deadline
// bounds it), succeeds only on 2xx with a token, and its error never holds
// the password.
func FuzzIAMTokenResponse(f *testing.F) {
	// status indexes iamStatuses: 0 is 201, 1 is 200, 3 is 400, 4 is 401, 7 is 429, 9 is 503.
	for _, seed := range []struct {
		status       uint8
		token, reqID string
		body         string
	}{
		{0, "MIIDtoken", "iam-req", `{"token": {"issued_at": "2024-03-01T12:00:00.000000Z", "expires_at": "2024-03-02T12:00:00.000000Z", "methods": ["password"]}}`},
		{1, " tok ", "", `{"token": {"expires_at": "2024-03-02T12:00:00Z"}}`},
		{0, markPassword, "", `{"token": {"expires_at": "2024-03-02T12:00:00Z"}}`},
		{0, "MIIDtoken", "", `{"token": {}}`},
		{0, "MIIDtoken", "", `{"token": null}`},
		{0, "MIIDtoken", "", `{}`},
		{0, "", "iam-req", `{"token": {"expires_at": "2024-03-02T12:00:00Z"}}`},
		{0, "MIIDtoken", "", `{"token": {"expires_at": "2024-03-01T11:00:00Z"}}`},
		{0, "MIIDtoken", "", `{"token": {"expires_at": 1709380800}}`},
		{0, "MIIDtoken", "", `{"token": {"expires_at": "9999-12-31 01:00:00-23"}}`},
		{0, "MIIDtoken", "", `{"token": {`},
		{2, "MIIDtoken", "", ``},
		{4, "", markPassword, `{"error": {"code": 401, "message": "The username or password is wrong."}}`},
		{3, "", "", `{"error": {"code": "1100", "message": "bad request body: password @PWJ"}}`},
		{7, "", "", `{"error_code": "APIGW.0308", "error_msg": "throttled @PWJ", "request_id": "@PWJ"}`},
		{9, "", "", `<html><body>503 Service Unavailable</body></html>`},
	} {
		f.Add(seed.status, seed.token, seed.reqID, []byte(seed.body))
	}
	type answer struct {
		status       int
		token, reqID string
		body         []byte
	}
	var mu sync.Mutex
	var next answer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := io.ReadAll(r.Body)
		mu.Lock()
		a := next
		mu.Unlock()
		if a.token != "" {
			w.Header().Set("X-Subject-Token", plantSecrets(a.token, string(req)))
		}
		if a.reqID != "" {
			w.Header().Set("X-Request-Id", plantSecrets(a.reqID, string(req)))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		w.Write([]byte(plantSecrets(string(a.body), string(req))))
	}))
	f.Cleanup(srv.Close)
	clock := &fakeClock{t: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}

	f.Fuzz(func(t *testing.T, status uint8, token, reqID string, body []byte) {
		a := answer{status: iamStatuses[int(status)%len(iamStatuses)], token: token, reqID: reqID, body: body}
		mu.Lock()
		next = a
		mu.Unlock()
		auth, err := NewPasswordAuth(PasswordAuthOptions{
			IAMEndpoint: srv.URL, Domain: "dom", User: "alice", Password: fuzzPassword, ProjectID: "proj-1",
			httpClient: srv.Client(), Now: clock.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		auth.(*passwordAuth).eng.jitter = func(time.Duration) time.Duration { return 0 } // retries wait nothing
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequest("GET", "http://vbs.example/", nil)
		err = auth.Authorize(ctx, req, nil)
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("login did not end within 10s: %v", err)
		}
		if err != nil {
			checkNoSecret(t, "error", err.Error())
			var apiErr *APIError
			if errors.As(err, &apiErr) && apiErr.StatusCode != a.status {
				t.Errorf("APIError status %d, served %d", apiErr.StatusCode, a.status)
			}
			return
		}
		if a.status < 200 || a.status > 299 {
			t.Errorf("login succeeded on HTTP %d", a.status)
		}
		if req.Header.Get("X-Auth-Token") == "" {
			t.Errorf("login succeeded without a token")
		}
	})
}
