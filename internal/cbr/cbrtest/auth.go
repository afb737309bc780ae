package cbrtest

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud/hwcloudtest"
)

func authFailed(reqID, detail string) response {
	return gatewayError(http.StatusUnauthorized, CodeAuthFailed, "Incorrect IAM authentication information: "+detail, reqID)
}

// authenticate checks a request's credentials; ok false means resp is the
// error to send.
func (s *Server) authenticate(r *http.Request, body []byte, reqID string) (resp response, ok bool) {
	if s.opts.SkipAuth {
		return response{}, true
	}
	if p := r.Header.Get("X-Project-Id"); p != "" && p != s.opts.ProjectID {
		return authFailed(reqID, "the project in X-Project-Id is not accessible"), false
	}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, hwcloudtest.Algorithm+" ") {
		return s.verifySignature(r, h, body, reqID)
	}
	if tok := r.Header.Get("X-Auth-Token"); tok != "" {
		for _, t := range s.opts.Tokens {
			if subtle.ConstantTimeCompare([]byte(tok), []byte(t)) == 1 {
				return response{}, true
			}
		}
		return authFailed(reqID, "the token is invalid"), false
	}
	return authFailed(reqID, "neither a signature nor a token was found"), false
}

func (s *Server) verifySignature(r *http.Request, h string, body []byte, reqID string) (response, bool) {
	a, ok := hwcloudtest.ParseAuthorization(h)
	switch {
	case !ok:
		return authFailed(reqID, "malformed Authorization header"), false
	case a.Access != s.opts.AccessKey:
		return authFailed(reqID, "access key not found"), false
	}
	canonical, problem := hwcloudtest.Check(r, a, body, s.opts.Now())
	if problem != "" {
		return authFailed(reqID, problem), false
	}
	if st := s.opts.SecurityToken; st != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Security-Token")), []byte(st)) != 1 {
		return authFailed(reqID, "invalid security token"), false
	}
	if !hwcloudtest.Valid(r, a, canonical, s.opts.SecretKey) {
		return authFailed(reqID, "verify aksk signature fail"), false
	}
	return response{}, true
}
