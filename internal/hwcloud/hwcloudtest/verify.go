// Package hwcloudtest verifies SDK-HMAC-SHA256 request signatures the way
// the Huawei Cloud API gateway does, for the simulators of the services the
// exporter reads (vbstest, cbrtest). It is written from the vendor's
// description of the scheme, independently of the client's signer in
// package hwcloud, so that a simulator checks the signer against a second
// reading of the rules.
package hwcloudtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const (
	// Algorithm is the scheme named at the start of the Authorization header.
	Algorithm = "SDK-HMAC-SHA256"
	// DateLayout is the layout of the X-Sdk-Date header.
	DateLayout = "20060102T150405Z"
	// MaxClockSkew is how far X-Sdk-Date may be from the gateway's clock.
	MaxClockSkew = 15 * time.Minute
	// unsignedPayload in X-Sdk-Content-Sha256 leaves the body out of the
	// signature.
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// Authorization is a parsed "SDK-HMAC-SHA256 Access=..., SignedHeaders=...,
// Signature=..." header.
type Authorization struct {
	// Access is the access key (AK).
	Access string
	// SignedHeaders are the lower-case names of the signed headers.
	SignedHeaders []string
	// Signature is the hex signature as sent.
	Signature string
}

// ParseAuthorization parses an SDK-HMAC-SHA256 Authorization header; ok is
// false when it is of another scheme or lacks one of its three parts.
func ParseAuthorization(h string) (a Authorization, ok bool) {
	rest, ok := strings.CutPrefix(h, Algorithm+" ")
	if !ok {
		return a, false
	}
	var signed string
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Access":
			a.Access = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			a.Signature = v
		}
	}
	if a.Access == "" || signed == "" || a.Signature == "" {
		return Authorization{}, false
	}
	a.SignedHeaders = strings.Split(signed, ";")
	return a, true
}

// Check verifies everything of a signed request r (with body) but the key:
// X-Sdk-Date present and within MaxClockSkew of now, host and x-sdk-date
// signed, a decodable URI. It returns the canonical request, or the
// gateway's detail of what is wrong ("" canonical).
func Check(r *http.Request, a Authorization, body []byte, now time.Time) (canonical, problem string) {
	t, err := time.Parse(DateLayout, r.Header.Get("X-Sdk-Date"))
	if err != nil {
		return "", "X-Sdk-Date is missing or malformed"
	}
	if d := now.Sub(t); d > MaxClockSkew || d < -MaxClockSkew {
		return "", "request expired: X-Sdk-Date is more than 15 minutes off"
	}
	if !slices.Contains(a.SignedHeaders, "host") || !slices.Contains(a.SignedHeaders, "x-sdk-date") {
		return "", "SignedHeaders must include host and x-sdk-date"
	}
	canonical, err = CanonicalRequest(r, a.SignedHeaders, body)
	if err != nil {
		return "", "malformed request URI"
	}
	return canonical, ""
}

// Valid reports whether a's signature is the one secretKey gives for the
// canonical request of r (see Check).
func Valid(r *http.Request, a Authorization, canonical, secretKey string) bool {
	want := Sign(secretKey, r.Header.Get("X-Sdk-Date"), canonical)
	return hmac.Equal([]byte(want), []byte(strings.ToLower(a.Signature)))
}

// Sign returns the hex HMAC-SHA256, keyed with secretKey, of the string to
// sign made of the algorithm, the X-Sdk-Date value and the hash of the
// canonical request.
func Sign(secretKey, sdkDate, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write([]byte(Algorithm + "\n" + sdkDate + "\n" + hex.EncodeToString(sum[:])))
	return hex.EncodeToString(m.Sum(nil))
}

// CanonicalRequest builds the canonical request of r from the raw request:
// method, canonical URI, canonical query, canonical headers, signed header
// names and the hex SHA-256 of body (or UNSIGNED-PAYLOAD when the request
// says so in X-Sdk-Content-Sha256).
func CanonicalRequest(r *http.Request, signed []string, body []byte) (string, error) {
	uri, err := canonicalURI(r.URL.EscapedPath())
	if err != nil {
		return "", err
	}
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	bodyHash := unsignedPayload
	if r.Header.Get("X-Sdk-Content-Sha256") != unsignedPayload {
		sum := sha256.Sum256(body)
		bodyHash = hex.EncodeToString(sum[:])
	}
	return strings.Join([]string{r.Method, uri, query, canonicalHeaders(r, signed), strings.Join(signed, ";"), bodyHash}, "\n"), nil
}

// escape percent-escapes everything but A-Z a-z 0-9 - _ . ~, with
// upper-case hex ("%20" for a space).
func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
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

// canonicalURI decodes each segment of the escaped path and escapes it again
// for signing; the result always ends in "/".
func canonicalURI(escapedPath string) (string, error) {
	segs := strings.Split(escapedPath, "/")
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
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

// DecodeQuery splits a raw query the way the gateway reads it for signing:
// "&"-separated key=value pairs in order, percent-decoding only ("+" stays
// "+"), a key without "=" has an empty value, empty parts are skipped.
func DecodeQuery(raw string) ([][2]string, error) {
	var pairs [][2]string
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err := url.PathUnescape(k)
		if err != nil {
			return nil, err
		}
		if v, err = url.PathUnescape(v); err != nil {
			return nil, err
		}
		pairs = append(pairs, [2]string{k, v})
	}
	return pairs, nil
}

// canonicalQuery sorts the decoded keys bytewise and each key's values, and
// writes key=value pairs escaped, joined by "&" ("key=" for an empty value).
func canonicalQuery(raw string) (string, error) {
	decoded, err := DecodeQuery(raw)
	if err != nil {
		return "", err
	}
	vals := map[string][]string{}
	for _, kv := range decoded {
		vals[kv[0]] = append(vals[kv[0]], kv[1])
	}
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		vs := vals[k]
		slices.Sort(vs)
		for _, v := range vs {
			pairs = append(pairs, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(pairs, "&"), nil
}

// canonicalHeaders writes "name:trimmed-value\n" for each signed header (one
// line per value, values sorted as received); "host" is taken from r.Host.
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		vs := []string{r.Host}
		if !strings.EqualFold(name, "host") {
			vs = slices.Clone(r.Header.Values(name))
		}
		slices.Sort(vs)
		for _, v := range vs {
			b.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	return b.String()
}
