package vbstest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	signAlgorithm = "SDK-HMAC-SHA256"
	sdkDateLayout = "20060102T150405Z"
	maxClockSkew  = 15 * time.Minute
	// An AK is locked for lockoutDuration after lockoutFailures failed
	// signatures within lockoutWindow, as the API gateway does: every
	// request with it then gets 401, even a correctly signed one.
	lockoutFailures = 5
	lockoutWindow   = 5 * time.Minute
	lockoutDuration = 5 * time.Minute
	// tokenTimeLayout is how IAM writes expires_at and issued_at.
	tokenTimeLayout = "2006-01-02T15:04:05.000000Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// shouldEscape reports whether c is escaped in canonical URIs and queries:
// everything except A-Z a-z 0-9 - _ . ~ is.
func shouldEscape(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return false
	case c == '-' || c == '_' || c == '.' || c == '~':
		return false
	}
	return true
}

// escape percent-escapes s for signing, with uppercase hex ("%20" for space).
func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if shouldEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pathUnescape decodes %XX sequences only ("+" stays "+").
func pathUnescape(s string) (string, error) { return url.PathUnescape(s) }

// canonicalURI decodes each segment of the escaped path and escapes it again
// for signing; the result always ends in "/".
func canonicalURI(escapedPath string) (string, error) {
	segs := strings.Split(escapedPath, "/")
	for i, seg := range segs {
		u, err := pathUnescape(seg)
		if err != nil {
			return "", err
		}
		segs[i] = escape(u)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
}

// canonicalQuery sorts the decoded keys bytewise and each key's values, and
// writes key=value pairs escaped, joined by "&" ("key=" for an empty value).
func canonicalQuery(raw string) (string, error) {
	vals := map[string][]string{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err := pathUnescape(k)
		if err != nil {
			return "", err
		}
		v, err = pathUnescape(v)
		if err != nil {
			return "", err
		}
		vals[k] = append(vals[k], v)
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var pairs []string
	for _, k := range keys {
		vs := vals[k]
		slices.Sort(vs)
		for _, v := range vs {
			pairs = append(pairs, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(pairs, "&"), nil
}

// canonicalHeaders writes "name:trimmed-value\n" for each signed header (one
// line per value, values sorted); "host" is taken from r.Host.
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		var vs []string
		if strings.EqualFold(name, "host") {
			vs = []string{r.Host}
		} else {
			vs = slices.Clone(r.Header.Values(name))
		}
		slices.Sort(vs)
		for _, v := range vs {
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(strings.TrimSpace(v))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// canonicalRequest builds the SDK-HMAC-SHA256 canonical request of r from the
// raw request: method, canonical URI, canonical query, canonical headers,
// signed header names and the hex SHA-256 of body.
func canonicalRequest(r *http.Request, signed []string, body []byte) (string, error) {
	uri, err := canonicalURI(r.URL.EscapedPath())
	if err != nil {
		return "", err
	}
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	var bodyHash string
	if r.Header.Get("X-Sdk-Content-Sha256") == unsignedPayload {
		bodyHash = unsignedPayload
	} else {
		sum := sha256.Sum256(body)
		bodyHash = hex.EncodeToString(sum[:])
	}
	return strings.Join([]string{r.Method, uri, query, canonicalHeaders(r, signed), strings.Join(signed, ";"), bodyHash}, "\n"), nil
}

// signature returns the hex HMAC-SHA256 of the string to sign.
func signature(secret, sdkDate, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	sts := signAlgorithm + "\n" + sdkDate + "\n" + hex.EncodeToString(sum[:])
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(sts))
	return hex.EncodeToString(m.Sum(nil))
}

type authorization struct {
	access, signedHeaders, signature string
}

// parseAuthorization parses "SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...".
func parseAuthorization(h string) (authorization, bool) {
	var a authorization
	rest, ok := strings.CutPrefix(h, signAlgorithm+" ")
	if !ok {
		return a, false
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Access":
			a.access = v
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	return a, a.access != "" && a.signedHeaders != "" && a.signature != ""
}

func authFailed(reqID, detail string) response {
	return gatewayError(http.StatusUnauthorized, codeAuthFailed, "Incorrect IAM authentication information: "+detail, reqID)
}

// authenticate checks the credentials of a VBS request; ok false means resp
// is the error to send.
func (s *Server) authenticate(r *http.Request, body []byte, reqID string, rec *RequestRecord) (resp response, ok bool) {
	if s.opts.SkipAuth {
		rec.Auth = "none"
		return response{}, true
	}
	if p := r.Header.Get("X-Project-Id"); p != "" && p != s.opts.ProjectID {
		return authFailed(reqID, "the project in X-Project-Id is not accessible"), false
	}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, signAlgorithm) {
		rec.Auth = "aksk"
		return s.verifySignature(r, h, body, reqID, rec)
	}
	if tok := r.Header.Get("X-Auth-Token"); tok != "" {
		rec.Auth = "token"
		return s.verifyToken(tok, reqID)
	}
	return authFailed(reqID, "neither a signature nor a token was found"), false
}

func (s *Server) verifySignature(r *http.Request, h string, body []byte, reqID string, rec *RequestRecord) (response, bool) {
	a, ok := parseAuthorization(h)
	if !ok {
		return authFailed(reqID, "malformed Authorization header"), false
	}
	now := s.now()
	s.mu.Lock()
	revoked, locked := s.akRevoked, now.Before(s.lockedUntil)
	s.mu.Unlock()
	if a.access != s.opts.AccessKey || revoked {
		return authFailed(reqID, "access key not found"), false
	}
	if locked {
		return authFailed(reqID, "the access key is locked after too many failed signatures"), false
	}
	date := r.Header.Get("X-Sdk-Date")
	t, err := time.Parse(sdkDateLayout, date)
	if err != nil {
		return authFailed(reqID, "X-Sdk-Date is missing or malformed"), false
	}
	if d := now.Sub(t); d > maxClockSkew || d < -maxClockSkew {
		return authFailed(reqID, "request expired: X-Sdk-Date is more than 15 minutes off"), false
	}
	signed := strings.Split(a.signedHeaders, ";")
	if !slices.Contains(signed, "host") || !slices.Contains(signed, "x-sdk-date") {
		return authFailed(reqID, "SignedHeaders must include host and x-sdk-date"), false
	}
	if st := s.opts.SecurityToken; st != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Security-Token")), []byte(st)) != 1 {
		return authFailed(reqID, "invalid security token"), false
	}
	canonical, err := canonicalRequest(r, signed, body)
	if err != nil {
		return authFailed(reqID, "malformed request URI"), false
	}
	rec.canonicalRequest = canonical
	want := signature(s.opts.SecretKey, date, canonical)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(a.signature))) {
		s.sigFailures = append(slices.DeleteFunc(s.sigFailures, func(t time.Time) bool {
			return !t.After(now.Add(-lockoutWindow))
		}), now)
		if len(s.sigFailures) >= lockoutFailures {
			s.sigFailures = nil
			s.lockedUntil = now.Add(lockoutDuration)
		}
		return authFailed(reqID, "verify aksk signature fail"), false
	}
	return response{}, true
}

type tokenState struct {
	issuedAt, expiresAt time.Time
	revoked             bool
}

func (s *Server) verifyToken(tok, reqID string) (response, bool) {
	now := s.now()
	s.mu.Lock()
	t := s.tokens[tok]
	var revoked, expired bool
	if t != nil {
		revoked, expired = t.revoked, !now.Before(t.expiresAt)
	}
	s.mu.Unlock()
	switch {
	case t == nil || revoked:
		return authFailed(reqID, "decrypt token fail"), false
	case expired:
		return vbsError(http.StatusUnauthorized, codeTokenExpired, "The token has expired."), false
	}
	return response{}, true
}

// newToken registers a fresh token valid for tokenTTL. Callers hold s.mu.
func (s *Server) newToken(now time.Time) (string, *tokenState) {
	tok := "MII" + rand.Text() + rand.Text() + rand.Text()
	t := &tokenState{issuedAt: now, expiresAt: now.Add(s.opts.tokenTTL)}
	s.tokens[tok] = t
	s.issued = append(s.issued, tok)
	return tok, t
}

// IssuedTokens returns every token issued so far, oldest first (for tests
// that check secrets do not leak).
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// RevokeTokens invalidates every token issued so far: requests carrying one get
// 401 APIGW.0301. Tokens issued later are valid.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.revoked = true
	}
}

// ExpireTokens makes every token issued so far expire now: requests carrying
// one get 401 AutoBackup.0003. Tokens issued later are valid.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, t := range s.tokens {
		if now.Before(t.expiresAt) {
			t.expiresAt = now
		}
	}
}

// RevokeAccessKey makes AK/SK requests fail with 401 APIGW.0301.
func (s *Server) RevokeAccessKey() {
	s.mu.Lock()
	s.akRevoked = true
	s.mu.Unlock()
}

// RestoreAccessKey undoes RevokeAccessKey and lifts an access-key lockout.
func (s *Server) RestoreAccessKey() {
	s.mu.Lock()
	s.akRevoked = false
	s.lockedUntil = time.Time{}
	s.sigFailures = nil
	s.mu.Unlock()
}

// AccessKeyLocked reports whether the access key is locked after failed
// signatures (per the Options.Now clock).
func (s *Server) AccessKeyLocked() bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Before(s.lockedUntil)
}

type tokenRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *struct {
					Name     string `json:"name"`
					Password string `json:"password"`
					Domain   *struct {
						Name string `json:"name"`
					} `json:"domain"`
				} `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		Scope *struct {
			Project *struct {
				ID string `json:"id"`
			} `json:"project"`
		} `json:"scope"`
	} `json:"auth"`
}

// issueToken answers POST /v3/auth/tokens.
func (s *Server) issueToken(r *http.Request, body []byte) response {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return iamError(http.StatusBadRequest, "The request body must be application/json.")
	}
	var req tokenRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return iamError(http.StatusBadRequest, "The request body is not valid JSON.")
	}
	id := req.Auth.Identity
	if !slices.Contains(id.Methods, "password") || id.Password == nil || id.Password.User == nil || id.Password.User.Domain == nil {
		return iamError(http.StatusBadRequest, "auth.identity must have methods [\"password\"] and password.user with name, password and domain.name.")
	}
	if req.Auth.Scope == nil || req.Auth.Scope.Project == nil || req.Auth.Scope.Project.ID == "" {
		return iamError(http.StatusBadRequest, "auth.scope.project.id is required (the simulator issues project-scoped tokens only).")
	}
	u := id.Password.User
	okUser := subtle.ConstantTimeCompare([]byte(u.Name), []byte(s.opts.User)) == 1
	okPass := subtle.ConstantTimeCompare([]byte(u.Password), []byte(s.opts.Password)) == 1
	okDomain := u.Domain.Name == s.opts.Domain
	if !okUser || !okPass || !okDomain {
		return iamError(http.StatusUnauthorized, "The username or password is wrong.")
	}
	if req.Auth.Scope.Project.ID != s.opts.ProjectID {
		return iamError(http.StatusUnauthorized, "The user has no access to the requested project.")
	}
	s.mu.Lock()
	tok, t := s.newToken(s.now())
	issuedAt, expiresAt := t.issuedAt, t.expiresAt
	s.mu.Unlock()
	var out struct {
		Token struct {
			ExpiresAt string   `json:"expires_at"`
			IssuedAt  string   `json:"issued_at"`
			Methods   []string `json:"methods"`
			Project   struct {
				ID     string `json:"id"`
				Name   string `json:"name"`
				Domain struct {
					Name string `json:"name"`
				} `json:"domain"`
			} `json:"project"`
			User struct {
				Name   string `json:"name"`
				Domain struct {
					Name string `json:"name"`
				} `json:"domain"`
			} `json:"user"`
		} `json:"token"`
	}
	out.Token.ExpiresAt = expiresAt.UTC().Format(tokenTimeLayout)
	out.Token.IssuedAt = issuedAt.UTC().Format(tokenTimeLayout)
	out.Token.Methods = []string{"password"}
	out.Token.Project.ID = s.opts.ProjectID
	out.Token.Project.Name = "sim-region"
	out.Token.Project.Domain.Name = s.opts.Domain
	out.Token.User.Name = s.opts.User
	out.Token.User.Domain.Name = s.opts.Domain
	b, _ := json.Marshal(out)
	resp := jsonResponse(http.StatusCreated, b)
	resp.header.Set("X-Subject-Token", tok)
	return resp
}
