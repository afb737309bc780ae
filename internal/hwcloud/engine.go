package hwcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/version"

	"github.com/vbs-exporter/vbs_exporter/internal/endpoints"
)

// Defaults of EngineOptions.
const (
	defaultMaxAttempts  = 4
	defaultMaxBodyBytes = 16 << 20
	defaultBackoffBase  = 200 * time.Millisecond
	defaultBackoffMax   = 10 * time.Second
	defaultHTTPTimeout  = 30 * time.Second
	// errorBodyBytes caps how much of a non-2xx body is read.
	errorBodyBytes = 64 << 10
)

// RequestEvent describes one HTTP attempt.
type RequestEvent struct {
	// Operation is the operation name of the request (Request.Op).
	Operation string
	// Method and Path are the request's HTTP method and URL path (escaped,
	// without the query string or host), for request traces; the path holds
	// identifiers such as the project ID, never a credential.
	Method, Path string
	// StatusCode is the HTTP status, 0 when no response arrived (network error).
	StatusCode int
	// Duration covers sending the request and reading the response body.
	Duration time.Duration
	// Attempt is 1-based.
	Attempt int
	// Retried is true when another attempt follows this one.
	Retried bool
	// RequestID is the X-Request-Id response header, if any.
	RequestID string
	// Err is the network, body-read or decode error of this attempt; nil when
	// an HTTP response arrived and (for 2xx) decoded fine. A non-2xx status
	// alone leaves Err nil: see StatusCode.
	Err error
}

// EngineOptions configures an Engine. Zero values select the defaults given
// per field.
type EngineOptions struct {
	// HTTPClient defaults to a client with a 30s overall timeout and
	// dial/TLS/response-header timeouts. Redirects are not followed unless
	// the given client sets CheckRedirect.
	HTTPClient *http.Client
	// MaxAttempts is the number of attempts per request including the
	// first, default 4. The retry after a 401 and a token renewal comes on
	// top.
	MaxAttempts int
	// MaxBodyBytes caps a 2xx response body, default 16 MiB; a larger one is
	// an error (errors.Is ErrBodyTooLarge) such as
	// "list_tasks: response body exceeds 16777216 bytes", not retried.
	MaxBodyBytes int64
	// BackoffBase is the first retry's backoff ceiling, default 200ms,
	// doubling per attempt; the wait is uniform in [0, ceiling] (full
	// jitter). A Retry-After header (seconds or HTTP date) replaces it.
	// Either is capped by BackoffMax.
	BackoffBase time.Duration
	// BackoffMax caps every wait, default 10s.
	BackoffMax time.Duration
	// UserAgent defaults to "vbs_exporter/" + version.Version
	// (github.com/prometheus/common/version), "vbs_exporter/unknown" when
	// that is empty.
	UserAgent string
	// Jitter picks the wait before a retry from [0, ceiling]; default
	// uniformly at random (full jitter). A result outside the range is
	// clamped to it.
	Jitter func(ceiling time.Duration) time.Duration
}

// Engine sends requests to Huawei Cloud APIs: authentication, retries with
// back-off, Retry-After, body limits and typed errors. It is safe for
// concurrent use.
//
// Requests are retried on network errors, on truncated JSON in a 2xx body,
// and on HTTP 429, 500, 502, 503 and 504, up to EngineOptions.MaxAttempts
// attempts, waiting as EngineOptions.BackoffBase describes. A wait that would
// pass the context's deadline is not started: the last error is returned at
// once. Other statuses are returned at once as *APIError; a 401 first calls
// Authenticator.Renew once and, if it reports true, retries once. Context
// cancellation ends a request promptly.
type Engine struct {
	hc          *http.Client
	ownsHTTP    bool
	maxAttempts int
	maxBody     int64
	backoffBase time.Duration
	backoffMax  time.Duration
	userAgent   string
	// jitter returns a wait in [0, d] (full jitter); injectable for tests.
	jitter func(d time.Duration) time.Duration
}

// NewEngine returns an Engine, checking the options and filling in defaults.
// Errors name the option: "Options.MaxAttempts is negative".
func NewEngine(o EngineOptions) (*Engine, error) {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxAttempts", int64(o.MaxAttempts)}, {"MaxBodyBytes", o.MaxBodyBytes},
		{"BackoffBase", int64(o.BackoffBase)}, {"BackoffMax", int64(o.BackoffMax)},
	} {
		if f.v < 0 {
			//lint:ignore ST1005 the message names the Options field of the client that wraps it ("vbs: Options.MaxAttempts is negative"), as vbs, cbr and evs do for their own fields
			return nil, fmt.Errorf("Options.%s is negative", f.name)
		}
	}
	jitter := o.Jitter
	if jitter == nil {
		jitter = fullJitter
	}
	hc, owned := httpClient(o.HTTPClient)
	return &Engine{
		hc:          hc,
		ownsHTTP:    owned,
		maxAttempts: orDefault(o.MaxAttempts, defaultMaxAttempts),
		maxBody:     orDefault(o.MaxBodyBytes, defaultMaxBodyBytes),
		backoffBase: orDefault(o.BackoffBase, defaultBackoffBase),
		backoffMax:  orDefault(o.BackoffMax, defaultBackoffMax),
		userAgent:   userAgent(o.UserAgent),
		jitter:      jitter,
	}, nil
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// CloseIdleConnections closes idle connections of the HTTP client that
// NewEngine created (nothing for a client passed in EngineOptions.HTTPClient).
func (e *Engine) CloseIdleConnections() {
	if e.ownsHTTP {
		e.hc.CloseIdleConnections()
	}
}

// Request is one logical call.
type Request struct {
	// Op names the operation in errors and RequestEvents, e.g. "list_tasks".
	Op string
	// Method is the HTTP method.
	Method string
	// URL is the full request URL (see JoinPath).
	URL *url.URL
	// Header holds extra headers (e.g. X-Project-Id), set before signing.
	Header http.Header
	// body is the request body; nil for none.
	body []byte
	// Auth authorizes every attempt; nil: none. Its secrets are redacted from
	// the errors of the request.
	Auth Authenticator
	// Decode handles a 2xx response. An error whose JSON ends early is
	// retried as a response cut short on the way; others are returned.
	Decode func(h http.Header, data []byte) error
	// Observe, when not nil, is called after every HTTP attempt.
	Observe func(RequestEvent)
	// redact removes secrets from server text; defaults to Auth's.
	redact func(string) string
}

// fullJitter is the default jitter: uniform in [0, d].
func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// Do runs r with retries (see Engine for the policy).
func (e *Engine) Do(ctx context.Context, r *Request) error {
	if r.redact == nil {
		if rd, ok := r.Auth.(redacter); ok {
			r.redact = rd.redact
		}
	}
	var lastErr error
	renewed := false
	maxAttempts := e.maxAttempts
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return ctxError(r.Op, err, lastErr)
		}
		var body io.Reader
		if r.body != nil {
			body = bytes.NewReader(r.body)
		}
		req, err := http.NewRequestWithContext(ctx, r.Method, r.URL.String(), body)
		if err != nil {
			return fmt.Errorf("%s: build request: %w", r.Op, err)
		}
		u := *r.URL
		req.URL, req.Host = &u, u.Host
		for k, vs := range r.Header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		req.Header.Set("User-Agent", e.userAgent)
		req.Header.Set("Accept", "application/json")
		if r.Auth != nil {
			if err := r.Auth.Authorize(withObserver(ctx, r.Observe), req, r.body); err != nil {
				if cerr := ctx.Err(); cerr != nil {
					return ctxError(r.Op, cerr, lastErr)
				}
				return fmt.Errorf("%s: authenticate: %w", r.Op, err)
			}
		}

		start := time.Now()
		resp, err := e.hc.Do(req)
		ev := RequestEvent{Operation: r.Op, Method: r.Method, Path: redactWith(r.redact, r.URL.EscapedPath()), Attempt: attempt}
		var data []byte
		if err == nil {
			ev.StatusCode = resp.StatusCode
			ev.RequestID = sanitize(redactWith(r.redact, resp.Header.Get("X-Request-Id")), 200)
			data, err = e.readBody(resp, r.Op)
			resp.Body.Close()
			if err != nil {
				err = bodyError(r.Op, resp, err, r.redact)
			}
		} else {
			err = netError(r.Op, r.Method, r.URL, err, r.redact)
		}
		ev.Duration = time.Since(start)
		var apiErr *APIError
		if ev.StatusCode != 0 && (ev.StatusCode < 200 || ev.StatusCode >= 300) {
			if err == nil {
				apiErr = newAPIError(r.Op, resp.StatusCode, resp.Header, data, r.redact)
			} else {
				apiErr = &APIError{Operation: r.Op, StatusCode: ev.StatusCode, RequestID: ev.RequestID}
			}
		}
		if t, ok := r.Auth.(outcomeTracker); ok {
			t.settle(apiErr, ev.StatusCode != 0)
		}

		var (
			attemptErr error // returned if no retry follows
			retry      bool
			retryAfter time.Duration = -1
			immediate  bool
		)
		switch {
		case err != nil:
			ev.Err = err
			attemptErr = err
			if cerr := ctx.Err(); cerr != nil {
				e.emit(r, ev)
				return ctxError(r.Op, cerr, nil)
			}
			retry = !errors.Is(err, ErrBodyTooLarge)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			derr := r.Decode(resp.Header, data)
			if derr == nil {
				e.emit(r, ev)
				return nil
			}
			attemptErr = decodeError(r.Op, resp, derr, r.redact)
			ev.Err = attemptErr
			// JSON that ends early looks like a response cut short on the
			// way (a proxy, a dropped chunked stream): worth another
			// attempt. Any other malformed or unexpected content is a
			// server bug that retrying won't fix, so it is returned at once.
			retry = truncatedJSON(derr)
		default:
			attemptErr = apiErr
			switch {
			case resp.StatusCode == http.StatusUnauthorized && !renewed && r.Auth != nil:
				renewed = true
				if r.Auth.Renew(ctx) {
					retry, immediate = true, true
					maxAttempts++ // the renewal retry is outside the retry budget
				}
			case retryableStatus(resp.StatusCode):
				retry = true
				retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			}
		}
		lastErr = attemptErr
		if !retry || attempt >= maxAttempts {
			e.emit(r, ev)
			return attemptErr
		}
		var wait time.Duration
		if !immediate {
			wait = e.backoff(attempt, retryAfter)
			if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
				e.emit(r, ev) // Retried stays false: no time for another attempt
				return attemptErr
			}
		}
		ev.Retried = true
		e.emit(r, ev)
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctxError(r.Op, ctx.Err(), lastErr)
			case <-t.C:
			}
		}
	}
	return lastErr // not reached: the loop returns on its last attempt
}

func (e *Engine) emit(r *Request, ev RequestEvent) {
	if r.Observe != nil {
		r.Observe(ev)
	}
}

// backoff is the wait after the failed attempt (1-based): Retry-After when
// given (retryAfter >= 0), else full jitter over base·2^(attempt-1); both
// capped by backoffMax.
func (e *Engine) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter >= 0 {
		// The server's word, not our back-off cap: retrying earlier feeds a
		// throttling storm. The caller's deadline check still applies, and
		// maxRetryAfter bounds a caller without a deadline.
		return min(retryAfter, maxRetryAfter)
	}
	d := e.backoffBase
	for i := 1; i < attempt && d < e.backoffMax; i++ {
		d *= 2
	}
	d = min(d, e.backoffMax)
	return min(max(e.jitter(d), 0), d)
}

// maxRetryAfter is the longest Retry-After honoured.
const maxRetryAfter = 5 * time.Minute

// parseRetryAfter parses a Retry-After value, seconds or an HTTP date; -1
// when absent or unparseable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return -1
		}
		if n > int64(24*time.Hour/time.Second) {
			return 24 * time.Hour
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

// readBody reads a response body: up to maxBody bytes for 2xx (more is
// ErrBodyTooLarge), up to errorBodyBytes for others (the rest is ignored).
func (e *Engine) readBody(resp *http.Response, op string) ([]byte, error) {
	limit := e.maxBody
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		limit = min(limit, errorBodyBytes)
		return io.ReadAll(io.LimitReader(resp.Body, limit))
	}
	if resp.ContentLength > limit {
		return nil, &bodyTooLargeError{op: op, limit: limit}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &bodyTooLargeError{op: op, limit: limit}
	}
	return data, nil
}

// decodeError wraps an error decoding a 2xx body. The decode error can
// quote the body (a timestamp it could not parse, say) and the request ID is
// the server's text: both are redacted. An error that redaction changed
// loses its chain (its cause still holds the secret).
func decodeError(op string, resp *http.Response, err error, redact func(string) string) error {
	err = redactError(redact, err)
	id := sanitize(redactWith(redact, resp.Header.Get("X-Request-Id")), 200)
	if id != "" {
		return fmt.Errorf("%s: decode response (HTTP %d, request_id %s): %w", op, resp.StatusCode, id, err)
	}
	return fmt.Errorf("%s: decode response (HTTP %d): %w", op, resp.StatusCode, err)
}

// bodyError adds the response's status and request ID to an error from
// reading its body (cut short, or over the size cap), so that the log line
// names the request like every other answered one.
func bodyError(op string, resp *http.Response, err error, redact func(string) string) error {
	where := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if id := sanitize(redactWith(redact, resp.Header.Get("X-Request-Id")), 200); id != "" {
		where += ", request_id " + id
	}
	if errors.Is(err, ErrBodyTooLarge) {
		return fmt.Errorf("%w (%s)", err, where)
	}
	return fmt.Errorf("%s: read response body (%s): %w", op, where, err)
}

// redactError returns err, or when redact changes its text, a new error with
// the redacted text (without the chain: the causes still hold the secret).
func redactError(redact func(string) string, err error) error {
	if msg := err.Error(); redactWith(redact, msg) != msg {
		return errors.New(redactWith(redact, msg))
	}
	return err
}

// redactWith applies redact (nil: none) to s.
func redactWith(redact func(string) string, s string) string {
	if redact == nil {
		return s
	}
	return redact(s)
}

// truncatedJSON reports whether a decode error says the JSON ended early.
func truncatedJSON(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) && strings.Contains(se.Error(), "unexpected end of JSON input")
}

// netError rewrites a transport error without the *url.Error wrapper and
// with the URL's user info removed. The transport can quote what the server
// sent (a malformed header line, say): that is redacted.
func netError(op, method string, u *url.URL, err error, redact func(string) string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	err = redactError(redact, err)
	clean := *u
	clean.User = nil
	return fmt.Errorf("%s: %s %s: %w", op, method, clean.String(), err)
}

// ctxError reports the end of the caller's context, with the last attempt's
// error when there was one.
func ctxError(op string, ctxErr, last error) error {
	if last != nil {
		return fmt.Errorf("%s: %w (last error: %w)", op, ctxErr, last)
	}
	return fmt.Errorf("%s: %w", op, ctxErr)
}

// httpClient returns hc, or a new default client; owned reports the latter.
// A caller's client is copied so that redirects are not followed (they would
// carry X-Auth-Token to another host and break AK/SK signatures) unless it
// sets its own CheckRedirect.
func httpClient(hc *http.Client) (c *http.Client, owned bool) {
	if hc != nil {
		cp := *hc
		if cp.CheckRedirect == nil {
			cp.CheckRedirect = noRedirect
		}
		return &cp, false
	}
	return &http.Client{
		Timeout:       defaultHTTPTimeout,
		CheckRedirect: noRedirect,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 25 * time.Second,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          16,
			MaxIdleConnsPerHost:   8,
		},
	}, true
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// userAgent returns ua or the default "vbs_exporter/<version>".
func userAgent(ua string) string {
	if ua != "" {
		return ua
	}
	v := version.Version
	if v == "" {
		v = "unknown"
	}
	return "vbs_exporter/" + v
}

// CheckPathSegment rejects an ID (what names it in the error: "project ID",
// "policy ID") that cannot be a single segment of a request path: empty,
// "." or "..", or holding a "/".
func CheckPathSegment(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%s is empty", what)
	case id == "." || id == "..", strings.Contains(id, "/"):
		return fmt.Errorf("%s %q is not a valid path segment", what, Truncate(id, 100))
	}
	return nil
}

// EndpointURL parses endpoint, an http or https base URL without user info,
// query or fragment (a path prefix is kept), or, when it is empty, returns
// the default host of service in region (endpoints.Default).
func EndpointURL(endpoint, region string, service endpoints.Service) (*url.URL, error) {
	if endpoint == "" {
		if region == "" {
			return nil, errors.New("neither endpoint nor region set")
		}
		for i := 0; i < len(region); i++ {
			c := region[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return nil, fmt.Errorf("bad region %q", Truncate(region, 64))
			}
		}
		endpoint = endpoints.Default(service, region)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: scheme must be http or https", u.Redacted())
	case u.Host == "":
		return nil, fmt.Errorf("%q: no host", u.Redacted())
	case u.User != nil:
		return nil, fmt.Errorf("%q: user info is not allowed", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%q: query and fragment are not allowed", u.Redacted())
	}
	return u, nil
}

// JoinPath returns base with the path segments appended, each escaped as
// AK/SK signing does (a trailing slash of base is tolerated), and the
// canonical query of q (sorted, escaped the same way), so that the URL sent
// is the URL signed.
func JoinPath(base *url.URL, segs []string, q url.Values) *url.URL {
	raw := strings.TrimRight(base.EscapedPath(), "/")
	for _, s := range segs {
		raw += "/" + escape(s)
	}
	path, err := url.PathUnescape(raw)
	if err != nil { // base.EscapedPath() is valid, escape output is valid
		path = raw
	}
	return &url.URL{Scheme: base.Scheme, Host: base.Host, Path: path, RawPath: raw, RawQuery: canonicalQuery(q)}
}

// CloseIdleConnections closes the idle connections of eng and, when it has
// any (NewPasswordAuth's IAM client), of auth: what a service client does
// when a reload drops it.
func CloseIdleConnections(eng *Engine, auth Authenticator) {
	eng.CloseIdleConnections()
	if a, ok := auth.(interface{ CloseIdleConnections() }); ok {
		a.CloseIdleConnections()
	}
}

// BackoffUntil returns the end of auth's back-off after the service (or
// IAM) refused its credentials: no request is sent before then. The zero
// time when there is none, or when auth has no back-off (NewAKSK's and
// NewPasswordAuth's have).
func BackoffUntil(auth Authenticator) time.Time {
	if b, ok := auth.(interface{ BackoffUntil() time.Time }); ok {
		return b.BackoffUntil()
	}
	return time.Time{}
}
