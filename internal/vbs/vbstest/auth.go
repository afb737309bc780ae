package vbstest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud/hwcloudtest"
)

const (
	// An AK is locked for lockoutDuration after lockoutFailures failed
	// signatures within lockoutWindow, as the API gateway does: every
	// request with it then gets 401, even a correctly signed one.
	lockoutFailures = 5
	lockoutWindow   = 5 * time.Minute
	lockoutDuration = 5 * time.Minute
	// tokenTimeLayout is how IAM writes expires_at and issued_at.
	tokenTimeLayout = "2006-01-02T15:04:05.000000Z"
)

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
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, hwcloudtest.Algorithm) {
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
	a, ok := hwcloudtest.ParseAuthorization(h)
	if !ok {
		return authFailed(reqID, "malformed Authorization header"), false
	}
	now := s.now()
	s.mu.Lock()
	revoked, locked := s.akRevoked, now.Before(s.lockedUntil)
	s.mu.Unlock()
	if a.Access != s.opts.AccessKey || revoked {
		return authFailed(reqID, "access key not found"), false
	}
	if locked {
		return authFailed(reqID, "the access key is locked after too many failed signatures"), false
	}
	canonical, problem := hwcloudtest.Check(r, a, body, now)
	if problem != "" {
		return authFailed(reqID, problem), false
	}
	if st := s.opts.SecurityToken; st != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Security-Token")), []byte(st)) != 1 {
		return authFailed(reqID, "invalid security token"), false
	}
	rec.canonicalRequest = canonical
	s.mu.Lock()
	defer s.mu.Unlock()
	if !hwcloudtest.Valid(r, a, canonical, s.opts.SecretKey) {
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
