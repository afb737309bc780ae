package hwcloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// signAlgorithm is the name of Huawei Cloud's AK/SK signing scheme.
const signAlgorithm = "SDK-HMAC-SHA256"

// sdkDateFormat is the time layout of the X-Sdk-Date header (always UTC).
const sdkDateFormat = "20060102T150405Z"

// escape percent-escapes s for signing: only A–Z a–z 0–9 - _ . ~ stay as
// they are, every other byte becomes %XX with upper-case hex (a space is %20,
// never +).
func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// canonicalURI returns the canonical URI of a (decoded) URL path: each
// "/"-separated segment escaped with escape, and always a trailing "/".
// "/path" gives "/path/"; "" gives "/".
func canonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	u := strings.Join(segs, "/")
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// canonicalQuery returns the canonical query string of q: keys sorted
// bytewise, each key's values sorted, "key=value" pairs with both parts
// escaped with escape ("key=" for an empty value), joined by "&". The client
// sends exactly this string as the request's query, so that the query sent is
// the query signed.
func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		vals := slices.Clone(q[k])
		slices.Sort(vals)
		ek := escape(k)
		for _, v := range vals {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek)
			b.WriteByte('=')
			b.WriteString(escape(v))
		}
	}
	return b.String()
}

// canonicalRequest builds the canonical request of the SDK-HMAC-SHA256
// scheme, lines joined by "\n": method, canonicalURI(path), the canonical
// query (as returned by canonicalQuery), the canonical headers (one
// "name:trimmed-value\n" line per signed header, several values of one header
// sorted and given one line each), the signed header names joined by ";", and
// the hex SHA-256 of body.
//
// signedHeaders must be lower-case and sorted (see signedHeaders). Header
// values are looked up case-insensitively in headers; "host" must be present
// there too (an http.Request keeps it in req.Host, so copy it in).
func canonicalRequest(method, path, canonicalQuery string, headers http.Header, signedHeaders []string, body []byte) string {
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(path))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery)
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		vals := slices.Clone(headers.Values(name))
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(strings.TrimSpace(v))
			b.WriteByte('\n')
		}
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(hexSHA256(body))
	return b.String()
}

// signedHeaders lower-cases, sorts and de-duplicates header names for
// canonicalRequest and the Authorization header.
func signedHeaders(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(strings.TrimSpace(n))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// stringToSign is "SDK-HMAC-SHA256\n<sdkDate>\n<hex SHA-256 of canonicalRequest>".
func stringToSign(canonicalRequest, sdkDate string) string {
	return signAlgorithm + "\n" + sdkDate + "\n" + hexSHA256([]byte(canonicalRequest))
}

// sign returns the hex HMAC-SHA256, keyed with the raw secret key, of
// stringToSign(canonicalRequest, sdkDate).
func sign(secretKey, sdkDate, canonicalRequest string) string {
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write([]byte(stringToSign(canonicalRequest, sdkDate)))
	return hex.EncodeToString(m.Sum(nil))
}

// authorizationHeader formats the Authorization header value:
// "SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2>, Signature=<hex>".
func authorizationHeader(accessKey string, signedHeaders []string, signature string) string {
	return signAlgorithm + " Access=" + accessKey + ", SignedHeaders=" + strings.Join(signedHeaders, ";") + ", Signature=" + signature
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
