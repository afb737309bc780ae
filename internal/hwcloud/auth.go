package hwcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/endpoints"
)

// Authenticator adds credentials to a request. Implementations must be safe
// for concurrent use. NewAKSK, NewStaticToken and NewPasswordAuth return the
// three kinds Huawei Cloud accepts.
type Authenticator interface {
	// Authorize sets the auth headers of req; body is the request body (nil
	// for GET), for signing. It is called once per HTTP attempt, after every
	// other header and the final URL are set.
	Authorize(ctx context.Context, req *http.Request, body []byte) error
	// Renew is called once after a 401 response that used the credential
	// from Authorize; it reports whether a single retry with fresh
	// credentials makes sense (true only for password tokens).
	Renew(ctx context.Context) bool
}

// redacter is implemented by the Authenticators of this package: it removes
// their secrets from text taken from a response before it goes into an error.
type redacter interface {
	redact(s string) string
}

// redactedMark replaces a secret found in text.
const redactedMark = "[REDACTED]"

// minSecretLen is the shortest secret that redact replaces; replacing shorter
// strings would mangle messages without protecting much.
const minSecretLen = 4

// redactAll replaces every secret in s, also in the forms it takes inside a
// JSON string (with and without HTML escaping): a server that echoes a JSON
// request (the IAM login body holds the password) echoes those forms.
func redactAll(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < minSecretLen {
			continue
		}
		s = strings.ReplaceAll(s, sec, redactedMark)
		for _, html := range []bool{false, true} {
			if esc := jsonEscape(sec, html); esc != sec {
				s = strings.ReplaceAll(s, esc, redactedMark)
			}
		}
	}
	return s
}

// jsonEscape is s as it appears between the quotes of a JSON string.
func jsonEscape(s string, html bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if enc.Encode(s) != nil {
		return s
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return string(b[1 : len(b)-1])
}

// maskID shows the first four bytes of an identifier such as an access key.
func maskID(s string) string {
	if len(s) <= 4 {
		return strings.Repeat("*", len(s))
	}
	return s[:4] + "****"
}

// ----- AK/SK -----

// akskAuth signs requests with SDK-HMAC-SHA256 and backs off after the
// service refused the signature or the key.
type akskAuth struct {
	accessKey, secretKey, securityToken string
	now                                 func() time.Time

	mu sync.Mutex
	// refusals counts the refusals since the last answer that accepted the
	// credentials; while it is > 0 the authenticator is in back-off.
	refusals int
	// last and prev are the times of the last two refusals (zero: none);
	// they outlive an accepted answer, for the 5-minute budget.
	last, prev time.Time
	// until: no signed request before this.
	until time.Time
	// refusal is the last refusal.
	refusal *APIError
	// probe is closed when the single request allowed after a back-off has
	// its answer; nil when none is in flight.
	probe chan struct{}
}

// AK/SK refusal back-off: 60 s after the first refusal, doubling up to
// 15 min, and never sooner than refusalWindow + 1 s after the refusal before
// the last one, so that at most 2 refusals fall in any 5 minutes (the API
// gateway locks an AK after 5 failed signatures in 5 minutes, for every user
// of that AK). The effective waits are 60 s, 241 s, 240 s, 480 s, 900 s, ...
// (refusals at 0, 60 s, 301 s, 541 s, 1021 s, ...).
const (
	akskBackoffBase = 60 * time.Second
	akskBackoffMax  = 15 * time.Minute
	refusalWindow   = 5 * time.Minute
)

// NewAKSK returns an Authenticator that signs every request with the access
// key and secret key (SDK-HMAC-SHA256). It sets X-Sdk-Date (UTC, format
// sdkDateFormat) and, when securityToken is not empty (temporary
// credentials), X-Security-Token, and signs host, x-sdk-date, x-project-id
// (when set), x-security-token when set, and content-type when the request
// has a body. It rewrites the request's query to the canonical query it
// signed. Empty keys make Authorize fail.
//
// Renew always reports false: a refused signature is not retried. After an
// answer that refuses the signature or the key (see refusesCredentials:
// HTTP 401, or 403 with an API Gateway authentication code), Authorize
// sends nothing for 60 s, doubling up to 15 min, and never sooner than
// 5 min 1 s after the refusal before the last one: at most 2 refused
// signatures per 5 minutes per Authenticator, whatever the request rate
// (the gateway locks an AK after 5). Meanwhile Authorize fails at once with
// an *AuthBackoffError. When the back-off ends, one request is signed and
// sent; concurrent ones wait for its answer. An answer that accepts the
// credentials (any other status) ends the back-off. The state lives in the
// Authenticator: new credentials (a new Authenticator) start afresh.
func NewAKSK(accessKey, secretKey, securityToken string) Authenticator {
	return NewAKSKAt(accessKey, secretKey, securityToken, time.Now)
}

// NewAKSKAt is NewAKSK with the clock now for X-Sdk-Date and the back-off.
func NewAKSKAt(accessKey, secretKey, securityToken string, now func() time.Time) Authenticator {
	return &akskAuth{accessKey: accessKey, secretKey: secretKey, securityToken: securityToken, now: now}
}

// AuthBackoffError is returned, without any request sent, while an
// Authenticator holds back after the service refused its credentials.
type AuthBackoffError struct {
	// Until is when the next request may be sent.
	Until time.Time
	// refusals is the number of refusals in a row.
	refusals int
	// refusal is the last refusal.
	refusal *APIError
}

// Error formats the error as, for example, `credentials refused 2 times in a
// row, no signed request before 2026-12-02T01:05:00Z; last refusal:
// list_policies: HTTP 401 APIGW.0301: … (request_id …)`.
func (e *AuthBackoffError) Error() string {
	return fmt.Sprintf("credentials refused %d time%s in a row, no signed request before %s; last refusal: %v",
		e.refusals, plural(e.refusals), e.Until.UTC().Format(time.RFC3339), e.refusal)
}

// Unwrap returns the last refusal.
func (e *AuthBackoffError) Unwrap() error { return e.refusal }

// AuthBackoffEnd returns Until: callers find the end of a back-off with
// errors.As to an interface, without knowing this type.
func (e *AuthBackoffError) AuthBackoffEnd() time.Time { return e.Until }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// refusesCredentials reports whether an answer to a signed request refused
// the signature or the key: HTTP 401 (the API Gateway answers a bad
// signature, an unknown or locked AK, or a date more than 15 minutes off
// with 401 APIGW.0301), or 403 with the gateway's authentication codes
// APIGW.0301 or APIGW.0303 (APIG.* alike). Other 403s — APIGW.0302 (the
// user is not allowed to call the API) or a service's permission errors —
// accept the signature and do not count. Source: "Error Codes" of the API
// signing guide, https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-errorcode.html.
func refusesCredentials(e *APIError) bool {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		switch e.Code {
		case "APIGW.0301", "APIG.0301", "APIGW.0303", "APIG.0303":
			return true
		}
	}
	return false
}

// outcomeTracker is implemented by Authenticators that learn from the answer
// to a request they authorized. The Engine calls settle once per attempt
// whose Authorize succeeded: answer is false when no HTTP answer came
// (network error, context end), else refused is the APIError of a non-2xx
// answer (nil for 2xx).
type outcomeTracker interface {
	settle(refused *APIError, answered bool)
}

// BackoffUntil returns the end of the current back-off; the zero time when
// there is none.
func (a *akskAuth) BackoffUntil() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refusals == 0 || !a.now().Before(a.until) {
		return time.Time{}
	}
	return a.until
}

// admit decides whether a signed request may be sent now: nil, or an
// *AuthBackoffError. After a back-off only one request is in flight; the
// others wait for its answer (or ctx).
func (a *akskAuth) admit(ctx context.Context) error {
	for {
		a.mu.Lock()
		if a.refusals == 0 {
			a.mu.Unlock()
			return nil
		}
		if now := a.now(); now.Before(a.until) {
			err := &AuthBackoffError{Until: a.until, refusals: a.refusals, refusal: a.refusal}
			a.mu.Unlock()
			return err
		}
		if a.probe == nil {
			a.probe = make(chan struct{})
			a.mu.Unlock()
			return nil
		}
		probe := a.probe
		a.mu.Unlock()
		select {
		case <-probe:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// settle records the answer to a signed request.
func (a *akskAuth) settle(refused *APIError, answered bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.probe != nil {
		close(a.probe)
		a.probe = nil
	}
	switch {
	case refused != nil && refusesCredentials(refused):
		now := a.now()
		a.refusals++
		a.prev, a.last = a.last, now
		wait := akskBackoffMax
		if a.refusals <= 5 {
			wait = min(akskBackoffBase<<(a.refusals-1), akskBackoffMax)
		}
		a.until = now.Add(wait)
		if !a.prev.IsZero() {
			if floor := a.prev.Add(refusalWindow + time.Second); a.until.Before(floor) {
				a.until = floor
			}
		}
		a.refusal = refused
	case answered:
		a.refusals, a.until, a.refusal = 0, time.Time{}, nil
	}
}

// Authorize signs req, or fails with an *AuthBackoffError while backing off.
func (a *akskAuth) Authorize(ctx context.Context, req *http.Request, body []byte) error {
	if a.accessKey == "" || a.secretKey == "" {
		return errors.New("AK/SK credentials: access key or secret key is empty")
	}
	if err := a.admit(ctx); err != nil {
		return err
	}
	date := a.now().UTC().Format(sdkDateFormat)
	req.Header.Set("X-Sdk-Date", date)
	names := []string{"host", "x-sdk-date"}
	if req.Header.Get("X-Project-Id") != "" {
		names = append(names, "x-project-id")
	}
	if a.securityToken != "" {
		req.Header.Set("X-Security-Token", a.securityToken)
		names = append(names, "x-security-token")
	}
	if len(body) > 0 && req.Header.Get("Content-Type") != "" {
		names = append(names, "content-type")
	}
	signed := signedHeaders(names...)

	query, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		a.settle(nil, false) // nothing is sent
		return fmt.Errorf("AK/SK signing: bad query: %w", err)
	}
	cq := canonicalQuery(query)
	req.URL.RawQuery = cq // send exactly what is signed

	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	headers := req.Header.Clone()
	headers.Set("Host", host)
	cr := canonicalRequest(req.Method, req.URL.Path, cq, headers, signed, body)
	req.Header.Set("Authorization", authorizationHeader(a.accessKey, signed, sign(a.secretKey, date, cr)))
	return nil
}

// Renew reports false: signatures are never retried.
func (a *akskAuth) Renew(context.Context) bool { return false }

// String describes the credentials without the secret key or security token.
func (a *akskAuth) String() string {
	tok := "none"
	if a.securityToken != "" {
		tok = "redacted"
	}
	return fmt.Sprintf("AK/SK credentials (access key %s, secret key redacted, security token %s)", maskID(a.accessKey), tok)
}

// GoString is String, so that %#v does not print the secrets either.
func (a *akskAuth) GoString() string { return a.String() }

func (a *akskAuth) redact(s string) string { return redactAll(s, a.secretKey, a.securityToken) }

// ----- static token -----

// staticToken sends a fixed X-Auth-Token.
type staticToken struct{ token string }

// NewStaticToken returns an Authenticator that sends token as X-Auth-Token.
// Renew reports false: a fixed token cannot be renewed. An empty token makes
// Authorize fail.
func NewStaticToken(token string) Authenticator { return &staticToken{token: token} }

// Authorize sets X-Auth-Token.
func (t *staticToken) Authorize(_ context.Context, req *http.Request, _ []byte) error {
	if t.token == "" {
		return errors.New("static token is empty")
	}
	req.Header.Set("X-Auth-Token", t.token)
	return nil
}

// Renew reports false.
func (t *staticToken) Renew(context.Context) bool { return false }

// String describes the credential without the token.
func (t *staticToken) String() string { return "static token (redacted)" }

// GoString is String.
func (t *staticToken) GoString() string { return t.String() }

func (t *staticToken) redact(s string) string { return redactAll(s, t.token) }

// ----- IAM password token -----

// PasswordAuthOptions configures NewPasswordAuth.
type PasswordAuthOptions struct {
	// IAMEndpoint is the IAM service; default "https://iam.{Region}.myhuaweicloud.com".
	IAMEndpoint string
	// Region is used for the default IAMEndpoint.
	Region string
	// Domain (account name), User and Password identify the IAM user; all required.
	Domain, User, Password string
	// ProjectID scopes the token; required.
	ProjectID string
	// httpClient defaults to a client like the one of EngineOptions.HTTPClient.
	httpClient *http.Client
	// observer, when not nil, is called after every HTTP attempt to IAM
	// (Operation opIAMToken). The Observer of the Client whose request
	// triggered a token fetch is called as well.
	observer func(RequestEvent)
	// Now is the clock used for token expiry; default time.Now.
	Now func() time.Time
	// userAgent defaults to "vbs_exporter/" + version.Version.
	userAgent string
}

// renewMinAge: Renew does not discard a token younger than this; a 401 on
// such a token would not be cured by yet another one (and this keeps many
// concurrent 401s on one old token down to one renewal).
const renewMinAge = 5 * time.Second

// fetchTimeout bounds one token fetch, retries included. Fetches run detached
// from the context of the caller that triggered them, since other callers may
// be waiting for the same fetch.
const fetchTimeout = 2 * time.Minute

// defaultTokenLifetime is assumed when IAM sends no token.expires_at.
const defaultTokenLifetime = time.Hour

// passwordAuth fetches, caches and renews project-scoped IAM tokens.
type passwordAuth struct {
	endpoint  *url.URL // …/v3/auth/tokens
	user      string
	domain    string
	projectID string
	password  string
	body      []byte // the request body; contains the password
	eng       *Engine
	observer  func(RequestEvent)
	now       func() time.Time

	mu        sync.Mutex
	token     string    // "" when none or discarded by Renew
	fetchedAt time.Time // local clock
	refreshAt time.Time // local clock: fetch a new token from this time on
	flight    *tokenFlight
	// refused is IAM's last refusal of the credentials (HTTP 400/401/403);
	// no new fetch is tried before retryAt, so that a wrong or expired
	// password costs one login attempt per back-off period, not one per
	// scrape (IAM locks users after repeated failed logins).
	refused  error
	retryAt  time.Time
	refusals int
}

// Back-off after IAM refused the credentials: 30 s, doubling up to 15 min.
const (
	refusalBackoffBase = 30 * time.Second
	refusalBackoffMax  = 15 * time.Minute
)

// tokenFlight is one token fetch shared by every caller that needs it.
type tokenFlight struct {
	done  chan struct{}
	token string
	err   error
}

// NewPasswordAuth returns an Authenticator that sends an IAM token as
// X-Auth-Token. The token is fetched with the user's password from
// {IAMEndpoint}/v3/auth/tokens, scoped to ProjectID, and cached. It is
// renewed when less than 10% of its lifetime or 5 minutes, whichever is
// smaller, remains before expires_at (the lifetime is expires_at − issued_at
// and is counted on the local clock from the moment of the fetch, so clock
// skew does not matter). Concurrent callers share one in-flight fetch; a
// caller whose context ends stops waiting while the fetch goes on for the
// others. Renew discards the cached token (unless it is younger than 5
// seconds or a fetch is already under way) and reports true, so the next
// Authorize fetches a fresh one. Failed fetches are *APIError with Operation
// opIAMToken (or a network or decode error) and are not cached.
func NewPasswordAuth(o PasswordAuthOptions) (Authenticator, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"Domain", o.Domain}, {"User", o.User}, {"Password", o.Password}, {"ProjectID", o.ProjectID},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("password auth: missing %s", strings.Join(missing, ", "))
	}
	base, err := EndpointURL(o.IAMEndpoint, o.Region, endpoints.IAM)
	if err != nil {
		return nil, fmt.Errorf("password auth: IAM endpoint: %w", err)
	}
	u := JoinPath(base, []string{"v3", "auth", "tokens"}, nil)

	body, err := iamRequestBody(o.User, o.Password, o.Domain, o.ProjectID)
	if err != nil {
		return nil, fmt.Errorf("password auth: %w", err)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	eng, err := NewEngine(EngineOptions{HTTPClient: o.httpClient, UserAgent: o.userAgent})
	if err != nil {
		return nil, fmt.Errorf("password auth: %w", err)
	}
	p := &passwordAuth{
		endpoint: u, user: o.User, domain: o.Domain, projectID: o.ProjectID, password: o.Password,
		body: body, observer: o.observer, now: now, eng: eng,
	}
	return p, nil
}

// iamRequestBody is the password-auth JSON body, fields in the documented order.
func iamRequestBody(user, password, domain, projectID string) ([]byte, error) {
	type name struct {
		Name string `json:"name"`
	}
	type userT struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		Domain   name   `json:"domain"`
	}
	var req struct {
		Auth struct {
			Identity struct {
				Methods  []string `json:"methods"`
				Password struct {
					User userT `json:"user"`
				} `json:"password"`
			} `json:"identity"`
			Scope struct {
				Project struct {
					ID string `json:"id"`
				} `json:"project"`
			} `json:"scope"`
		} `json:"auth"`
	}
	req.Auth.Identity.Methods = []string{"password"}
	req.Auth.Identity.Password.User = userT{Name: user, Password: password, Domain: name{Name: domain}}
	req.Auth.Scope.Project.ID = projectID
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&req); err != nil {
		return nil, errors.New("cannot encode the IAM request body") // no detail: it holds the password
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Authorize sets X-Auth-Token to a valid token, fetching one when needed.
func (p *passwordAuth) Authorize(ctx context.Context, req *http.Request, _ []byte) error {
	tok, err := p.get(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("X-Auth-Token", tok)
	return nil
}

// get returns the cached token or waits for a (shared) fetch.
func (p *passwordAuth) get(ctx context.Context) (string, error) {
	p.mu.Lock()
	if p.token != "" && p.now().Before(p.refreshAt) {
		tok := p.token
		p.mu.Unlock()
		return tok, nil
	}
	if p.refused != nil && p.now().Before(p.retryAt) {
		err := fmt.Errorf("%s: credentials refused, next login attempt after %s: %w",
			opIAMToken, p.retryAt.UTC().Format(time.RFC3339), p.refused)
		p.mu.Unlock()
		return "", err
	}
	f := p.flight
	if f == nil {
		f = &tokenFlight{done: make(chan struct{})}
		p.flight = f
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		go func() {
			defer cancel()
			p.runFlight(fctx, f)
		}()
	}
	p.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", fmt.Errorf("%s: waiting for a token: %w", opIAMToken, ctx.Err())
	}
}

// runFlight fetches a token, stores it and releases the waiters of f.
func (p *passwordAuth) runFlight(ctx context.Context, f *tokenFlight) {
	start := p.now()
	tok, lifetime, err := p.fetch(ctx, start)
	p.mu.Lock()
	p.flight = nil
	var apiErr *APIError
	switch {
	case err == nil:
		p.token = tok
		p.fetchedAt = start
		p.refreshAt = start.Add(lifetime - min(lifetime/10, 5*time.Minute))
		p.refused, p.refusals = nil, 0
	case errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusBadRequest ||
		apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden):
		p.refusals++
		backoff := refusalBackoffMax
		if p.refusals <= 5 {
			backoff = min(refusalBackoffBase<<(p.refusals-1), refusalBackoffMax)
		}
		p.refused, p.retryAt = err, p.now().Add(backoff)
	}
	p.mu.Unlock()
	f.token, f.err = tok, err
	close(f.done)
}

// fetch asks IAM for a token; it returns the token and its remaining lifetime.
func (p *passwordAuth) fetch(ctx context.Context, start time.Time) (string, time.Duration, error) {
	ctxObs := observerFrom(ctx)
	observe := func(ev RequestEvent) {
		if p.observer != nil {
			p.observer(ev)
		}
		if ctxObs != nil {
			ctxObs(ev)
		}
	}
	var tok string
	var lifetime time.Duration
	decode := func(h http.Header, data []byte) error {
		tok = h.Get("X-Subject-Token")
		if tok == "" {
			return errors.New("no X-Subject-Token header")
		}
		var body struct {
			Token *struct {
				ExpiresAt json.RawMessage `json:"expires_at"`
				IssuedAt  json.RawMessage `json:"issued_at"`
			} `json:"token"`
		}
		if err := json.Unmarshal(data, &body); err != nil {
			return err
		}
		if body.Token == nil {
			return errors.New(`no "token" object`)
		}
		exp, err := parseTimeField(body.Token.ExpiresAt, "token.expires_at")
		if err != nil {
			return err
		}
		iss, err := parseTimeField(body.Token.IssuedAt, "token.issued_at")
		if err != nil {
			return err
		}
		switch {
		case exp.IsZero():
			lifetime = defaultTokenLifetime
		case !iss.IsZero() && iss.Before(exp):
			lifetime = exp.Sub(iss)
		default:
			lifetime = exp.Sub(start)
		}
		if lifetime <= 0 {
			return fmt.Errorf("token already expired (expires_at %s, local clock %s)",
				exp.Format(time.RFC3339), start.UTC().Format(time.RFC3339))
		}
		return nil
	}
	err := p.eng.Do(ctx, &Request{
		Op:      opIAMToken,
		Method:  http.MethodPost,
		URL:     p.endpoint,
		Header:  http.Header{"Content-Type": {"application/json;charset=utf8"}},
		body:    p.body,
		Decode:  decode,
		Observe: observe,
		redact:  p.redact,
	})
	if err != nil {
		return "", 0, err
	}
	return tok, lifetime, nil
}

// parseTimeField parses an optional JSON string timestamp (null or absent:
// the zero time).
func parseTimeField(raw json.RawMessage, field string) (time.Time, error) {
	var s string
	if raw := bytes.TrimSpace(raw); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if json.Unmarshal(raw, &s) != nil {
			return time.Time{}, fmt.Errorf("field %s: is %s, want a string", field, jsonKind(raw))
		}
	}
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("field %s: %w", field, err)
	}
	return t, nil
}

// jsonKind names the kind of a JSON value for an error message.
func jsonKind(raw []byte) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// Renew discards the cached token so that the next Authorize fetches a new
// one, unless a fetch is under way or the token is younger than 5 seconds;
// it always reports true.
func (p *passwordAuth) Renew(context.Context) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.flight != nil {
		return true
	}
	if p.token != "" && p.now().Sub(p.fetchedAt) < renewMinAge {
		return true
	}
	p.token = ""
	return true
}

// BackoffUntil returns when the next login may be tried after IAM refused
// the credentials; the zero time when no back-off is under way.
func (p *passwordAuth) BackoffUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refused == nil || !p.now().Before(p.retryAt) {
		return time.Time{}
	}
	return p.retryAt
}

// CloseIdleConnections closes idle connections to IAM of the HTTP client
// that NewPasswordAuth created (nothing for PasswordAuthOptions.HTTPClient).
func (p *passwordAuth) CloseIdleConnections() {
	p.eng.CloseIdleConnections()
}

// String describes the credentials without the password or the token.
func (p *passwordAuth) String() string {
	return fmt.Sprintf("IAM password credentials (user %q, domain %q, project %q, IAM %s, password redacted)",
		p.user, p.domain, p.projectID, p.endpoint.Redacted())
}

// GoString is String.
func (p *passwordAuth) GoString() string { return p.String() }

func (p *passwordAuth) redact(s string) string {
	p.mu.Lock()
	tok := p.token
	p.mu.Unlock()
	return redactAll(s, p.password, tok)
}

// observerKey carries a Client's Observer to the Authenticator, so that IAM
// calls made on behalf of the client are reported to it too.
type observerKey struct{}

func withObserver(ctx context.Context, obs func(RequestEvent)) context.Context {
	if obs == nil {
		return ctx
	}
	return context.WithValue(ctx, observerKey{}, obs)
}

func observerFrom(ctx context.Context) func(RequestEvent) {
	obs, _ := ctx.Value(observerKey{}).(func(RequestEvent))
	return obs
}
