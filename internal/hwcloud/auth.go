package hwcloud

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
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

// akskAuth signs requests with SDK-HMAC-SHA256; its gate backs off after
// the service refused the signature or the key.
type akskAuth struct {
	accessKey, secretKey, securityToken string
	now                                 func() time.Time
	// gate is shared by every akskAuth of one AKSKGates with the same
	// credentials.
	gate *akskGate
}

// akskGate is the refusal back-off of one set of AK/SK credentials.
type akskGate struct {
	mu sync.Mutex
	// refusals counts the refusals since the last answer that accepted the
	// credentials; while it is > 0 the gate is in back-off.
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

// AKSKGates holds the refusal back-off of AK/SK credentials, one gate per
// set of credentials (access key, secret key and security token), shared by
// every Authenticator that NewAKSK of the same AKSKGates returns for them.
// So several targets that use one key spend one refusal budget between
// them, and an Authenticator rebuilt with the same credentials keeps their
// back-off, while changed credentials start afresh. Gates are keyed by a
// keyed hash (HMAC-SHA256 under a random key of this AKSKGates) of the
// credentials; the secrets themselves are not kept here. Safe for
// concurrent use.
type AKSKGates struct {
	hashKey []byte
	mu      sync.Mutex
	gates   map[[sha256.Size]byte]*akskGate
}

// NewAKSKGates returns an empty AKSKGates.
func NewAKSKGates() *AKSKGates {
	k := make([]byte, 32)
	rand.Read(k) // never fails (crypto/rand)
	return &AKSKGates{hashKey: k, gates: make(map[[sha256.Size]byte]*akskGate)}
}

// id is the identity of the credentials: a keyed hash, the fields length-
// prefixed so that no two different triples collide by concatenation.
func (g *AKSKGates) id(accessKey, secretKey, securityToken string) [sha256.Size]byte {
	m := hmac.New(sha256.New, g.hashKey)
	for _, f := range []string{accessKey, secretKey, securityToken} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	var out [sha256.Size]byte
	copy(out[:], m.Sum(nil))
	return out
}

// NewAKSK is the package's NewAKSK with the back-off gate of g for these
// credentials (created when g has none).
func (g *AKSKGates) NewAKSK(accessKey, secretKey, securityToken string) Authenticator {
	return g.NewAKSKAt(accessKey, secretKey, securityToken, time.Now)
}

// NewAKSKAt is NewAKSK with the clock now for X-Sdk-Date and the back-off.
// A nil g gives the Authenticator a gate of its own.
func (g *AKSKGates) NewAKSKAt(accessKey, secretKey, securityToken string, now func() time.Time) Authenticator {
	a := &akskAuth{accessKey: accessKey, secretKey: secretKey, securityToken: securityToken, now: now}
	if g == nil {
		a.gate = &akskGate{}
		return a
	}
	id := g.id(accessKey, secretKey, securityToken)
	g.mu.Lock()
	defer g.mu.Unlock()
	if a.gate = g.gates[id]; a.gate == nil {
		a.gate = &akskGate{}
		g.gates[id] = a.gate
	}
	return a
}

// Retain drops the gates that no Authenticator in live uses (Authenticators
// of other kinds or of other AKSKGates are ignored). Authenticators already
// made keep their gate; a later NewAKSK for dropped credentials starts with
// a fresh one.
func (g *AKSKGates) Retain(live []Authenticator) {
	used := make(map[*akskGate]bool, len(live))
	for _, l := range live {
		if a, ok := l.(*akskAuth); ok {
			used[a.gate] = true
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, gate := range g.gates {
		if !used[gate] {
			delete(g.gates, id)
		}
	}
}

// Len returns the number of gates held.
func (g *AKSKGates) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.gates)
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
// signatures per 5 minutes per gate, whatever the request rate (the gateway
// locks an AK after 5). Meanwhile Authorize fails at once with an
// *AuthBackoffError. When the back-off ends, one request is signed and
// sent; concurrent ones wait for its answer. An answer that accepts the
// credentials (2xx, or a 4xx other than 429 that is not a refusal: the key
// was checked and accepted) ends the back-off; 429, 5xx and other statuses,
// which a gateway may send before it checks the signature, give no verdict:
// the back-off stays and the next request is again a single probe.
//
// The back-off state (the gate) belongs to this Authenticator alone; use
// AKSKGates.NewAKSK to share it between the Authenticators of the same
// credentials, as every user of one AK should.
func NewAKSK(accessKey, secretKey, securityToken string) Authenticator {
	return NewAKSKAt(accessKey, secretKey, securityToken, time.Now)
}

// NewAKSKAt is NewAKSK with the clock now for X-Sdk-Date and the back-off.
func NewAKSKAt(accessKey, secretKey, securityToken string, now func() time.Time) Authenticator {
	return (*AKSKGates)(nil).NewAKSKAt(accessKey, secretKey, securityToken, now)
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

// BackoffUntil returns the end of the current back-off of the
// credentials' gate; the zero time when there is none.
func (a *akskAuth) BackoffUntil() time.Time { return a.gate.backoffUntil(a.now()) }

func (a *akskAuth) settle(refused *APIError, answered bool) {
	a.gate.settle(refused, answered, a.now)
}

func (g *akskGate) backoffUntil(now time.Time) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refusals == 0 || !now.Before(g.until) {
		return time.Time{}
	}
	return g.until
}

// admit decides whether a signed request may be sent now: nil, or an
// *AuthBackoffError. After a back-off only one request is in flight; the
// others wait for its answer (or ctx).
func (g *akskGate) admit(ctx context.Context, now func() time.Time) error {
	for {
		g.mu.Lock()
		if g.refusals == 0 {
			g.mu.Unlock()
			return nil
		}
		if now().Before(g.until) {
			err := &AuthBackoffError{Until: g.until, refusals: g.refusals, refusal: g.refusal}
			g.mu.Unlock()
			return err
		}
		if g.probe == nil {
			g.probe = make(chan struct{})
			g.mu.Unlock()
			return nil
		}
		probe := g.probe
		g.mu.Unlock()
		select {
		case <-probe:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// acceptsCredentials reports whether an answer shows that the service
// checked and accepted the signature and the key: 2xx (refused nil), or a
// 4xx other than 429 that is not a refusal (404, 400, a 403 about
// permissions...). 429 and 5xx may come from a gateway before it checks the
// signature, and 1xx/3xx say nothing either: no verdict.
func acceptsCredentials(refused *APIError) bool {
	if refused == nil {
		return true
	}
	s := refused.StatusCode
	return s >= 400 && s < 500 && s != http.StatusTooManyRequests && !refusesCredentials(refused)
}

// settle records the answer to a signed request.
func (g *akskGate) settle(refused *APIError, answered bool, now func() time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.probe != nil {
		close(g.probe)
		g.probe = nil
	}
	switch {
	case !answered:
	case refused != nil && refusesCredentials(refused):
		t := now()
		g.refusals++
		g.prev, g.last = g.last, t
		wait := akskBackoffMax
		if g.refusals <= 5 {
			wait = min(akskBackoffBase<<(g.refusals-1), akskBackoffMax)
		}
		g.until = t.Add(wait)
		if !g.prev.IsZero() {
			if floor := g.prev.Add(refusalWindow + time.Second); g.until.Before(floor) {
				g.until = floor
			}
		}
		g.refusal = refused
	case acceptsCredentials(refused):
		g.refusals, g.until, g.refusal = 0, time.Time{}, nil
	}
}

// Authorize signs req, or fails with an *AuthBackoffError while backing off.
func (a *akskAuth) Authorize(ctx context.Context, req *http.Request, body []byte) error {
	if a.accessKey == "" || a.secretKey == "" {
		return errors.New("AK/SK credentials: access key or secret key is empty")
	}
	if err := a.gate.admit(ctx, a.now); err != nil {
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
	renewWait time.Duration // the constant renewWait; shorter in tests

	mu        sync.Mutex
	token     string    // "" when none or discarded by Renew
	fetchedAt time.Time // local clock
	refreshAt time.Time // local clock: fetch a new token from this time on
	expiresAt time.Time // local clock: the token's expiry
	// renewRetryAt: after a renewal failed for another reason than a
	// refusal while the cached token stays usable, no new renewal is tried
	// before this time (the cached token is used meanwhile).
	renewRetryAt time.Time
	flight       *tokenFlight
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

// Renewal while the cached token is still usable: the token is used until
// tokenExpiryMargin before its expiry when a renewal fails or IAM refuses
// logins; a failed renewal is tried again after renewRetryGap at the
// earliest; a caller waits at most renewWait for a renewal before using the
// cached token.
const (
	tokenExpiryMargin = time.Minute
	renewRetryGap     = 30 * time.Second
	renewWait         = 3 * time.Second
)

// tokenFlight is one token fetch shared by every caller that needs it.
type tokenFlight struct {
	done  chan struct{}
	token string
	err   error
	// slow is set (under passwordAuth.mu) once a caller stopped waiting
	// after renewWait; later callers with a usable token do not wait.
	slow bool
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
// opIAMToken (or a network or decode error) and are not cached. A renewal
// that fails (IAM error, timeout, refusal back-off) does not fail Authorize
// while the cached token has more than a minute left: the cached token is
// sent and the renewal is tried again 30 seconds later at the earliest (or
// after the refusal back-off); a caller waits at most 3 seconds for a
// renewal before using the cached token. The failed IAM requests are
// reported to the observers as usual.
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
		body: body, observer: o.observer, now: now, eng: eng, renewWait: renewWait,
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

// get returns the cached token or waits for a (shared) fetch. While the
// cached token is usable (more than tokenExpiryMargin before its expiry), a
// renewal that fails, is slow or is held back by a back-off yields the
// cached token.
func (p *passwordAuth) get(ctx context.Context) (string, error) {
	p.mu.Lock()
	now := p.now()
	if p.token != "" && now.Before(p.refreshAt) {
		tok := p.token
		p.mu.Unlock()
		return tok, nil
	}
	cached := ""
	if p.token != "" && now.Before(p.expiresAt.Add(-tokenExpiryMargin)) {
		cached = p.token
	}
	if p.refused != nil && now.Before(p.retryAt) {
		if cached != "" {
			p.mu.Unlock()
			return cached, nil
		}
		err := fmt.Errorf("%s: credentials refused, next login attempt after %s: %w",
			opIAMToken, p.retryAt.UTC().Format(time.RFC3339), p.refused)
		p.mu.Unlock()
		return "", err
	}
	f := p.flight
	if cached != "" && (f == nil && now.Before(p.renewRetryAt) || f != nil && f.slow) {
		p.mu.Unlock()
		return cached, nil
	}
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
	var slow <-chan time.Time
	if cached != "" {
		t := time.NewTimer(p.renewWait)
		defer t.Stop()
		slow = t.C
	}
	select {
	case <-f.done:
		if f.err != nil && cached != "" {
			return p.fallback(f.err)
		}
		return f.token, f.err
	case <-slow:
		p.mu.Lock()
		f.slow = true
		p.mu.Unlock()
		return p.fallback(fmt.Errorf("%s: token discarded while waiting for its renewal", opIAMToken))
	case <-ctx.Done():
		return "", fmt.Errorf("%s: waiting for a token: %w", opIAMToken, ctx.Err())
	}
}

// fallback is the token to use when a renewal failed or is slow: the newest
// token when one arrived meanwhile, else the cached one unless Renew
// discarded it (then err).
func (p *passwordAuth) fallback(err error) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token == "" {
		return "", err
	}
	return p.token, nil
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
		p.expiresAt = start.Add(lifetime)
		p.refused, p.refusals = nil, 0
		p.renewRetryAt = time.Time{}
	case errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusBadRequest ||
		apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden):
		p.refusals++
		backoff := refusalBackoffMax
		if p.refusals <= 5 {
			backoff = min(refusalBackoffBase<<(p.refusals-1), refusalBackoffMax)
		}
		p.refused, p.retryAt = err, p.now().Add(backoff)
	default:
		p.renewRetryAt = p.now().Add(renewRetryGap)
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
