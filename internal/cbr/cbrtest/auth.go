package cbrtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The SDK-HMAC-SHA256 verifier: this package's own implementation of the
// scheme, written from the vendor's description like vbstest's, so that a
// client's signer is checked against an independent reading.

const (
	signAlgorithm   = "SDK-HMAC-SHA256"
	sdkDateLayout   = "20060102T150405Z"
	maxClockSkew    = 15 * time.Minute
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// escape percent-escapes everything but A-Z a-z 0-9 - _ . ~, upper-case hex.
func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// canonicalRequest is method, URI (segments decoded and escaped again,
// trailing "/"), query (sorted, escaped), signed headers, their names and
// the body's hex SHA-256.
func canonicalRequest(r *http.Request, signed []string, body []byte) (string, bool) {
	segs := strings.Split(r.URL.EscapedPath(), "/")
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return "", false
		}
		segs[i] = escape(u)
	}
	uri := strings.Join(segs, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	type kv struct{ k, v string }
	var pairs []kv
	for part := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.PathUnescape(k)
		v, err2 := url.PathUnescape(v)
		if err1 != nil || err2 != nil {
			return "", false
		}
		pairs = append(pairs, kv{k, v})
	}
	slices.SortFunc(pairs, func(a, b kv) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	q := make([]string, len(pairs))
	for i, p := range pairs {
		q[i] = escape(p.k) + "=" + escape(p.v)
	}
	var hdr strings.Builder
	for _, name := range signed {
		vs := []string{r.Host}
		if name != "host" {
			vs = slices.Clone(r.Header.Values(name))
		}
		slices.Sort(vs)
		for _, v := range vs {
			hdr.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	bodyHash := unsignedPayload
	if r.Header.Get("X-Sdk-Content-Sha256") != unsignedPayload {
		sum := sha256.Sum256(body)
		bodyHash = hex.EncodeToString(sum[:])
	}
	return strings.Join([]string{r.Method, uri, strings.Join(q, "&"), hdr.String(), strings.Join(signed, ";"), bodyHash}, "\n"), true
}

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
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, signAlgorithm+" ") {
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
	var access, signedHeaders, sig string
	for part := range strings.SplitSeq(strings.TrimPrefix(h, signAlgorithm+" "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Access":
			access = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			sig = v
		}
	}
	if access == "" || signedHeaders == "" || sig == "" {
		return authFailed(reqID, "malformed Authorization header"), false
	}
	if access != s.opts.AccessKey {
		return authFailed(reqID, "access key not found"), false
	}
	date := r.Header.Get("X-Sdk-Date")
	t, err := time.Parse(sdkDateLayout, date)
	if err != nil {
		return authFailed(reqID, "X-Sdk-Date is missing or malformed"), false
	}
	if d := s.opts.Now().Sub(t); d > maxClockSkew || d < -maxClockSkew {
		return authFailed(reqID, "request expired: X-Sdk-Date is more than 15 minutes off"), false
	}
	signed := strings.Split(signedHeaders, ";")
	if !slices.Contains(signed, "host") || !slices.Contains(signed, "x-sdk-date") {
		return authFailed(reqID, "SignedHeaders must include host and x-sdk-date"), false
	}
	canonical, ok := canonicalRequest(r, signed, body)
	if !ok {
		return authFailed(reqID, "malformed request URI"), false
	}
	sum := sha256.Sum256([]byte(canonical))
	m := hmac.New(sha256.New, []byte(s.opts.SecretKey))
	m.Write([]byte(signAlgorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])))
	want := hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sig))) {
		return authFailed(reqID, "verify aksk signature fail"), false
	}
	return response{}, true
}
