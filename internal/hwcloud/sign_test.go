package hwcloud

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// TestVendorVector is the test vector of the vendor's Go SDK (vbs-api.md).
func TestVendorVector(t *testing.T) {
	u, err := url.Parse("https://example.huaweicloud.com/path?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	cq := canonicalQuery(u.Query())
	cr := canonicalRequest("GET", u.Path, cq, http.Header{"X-Sdk-Date": {"20060102T150405Z"}}, []string{"x-sdk-date"}, nil)
	wantCR := "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n" + emptySHA256
	if cr != wantCR {
		t.Fatalf("canonical request\n got %q\nwant %q", cr, wantCR)
	}
	const wantSig = "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
	if sig := sign("SecretKey", "20060102T150405Z", cr); sig != wantSig {
		t.Fatalf("signature %s, want %s", sig, wantSig)
	}
	wantAuth := "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=" + wantSig
	if got := authorizationHeader("AccessKey", []string{"x-sdk-date"}, wantSig); got != wantAuth {
		t.Fatalf("Authorization %q, want %q", got, wantAuth)
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"AZaz09-_.~":   "AZaz09-_.~",
		"a b":          "a%20b",
		"a+b":          "a%2Bb",
		"ä":            "%C3%A4",
		"/?#&=%":       "%2F%3F%23%26%3D%25",
		"\x00\x7f\xff": "%00%7F%FF",
		"日本":           "%E6%97%A5%E6%9C%AC",
		"!*'();:@$,[]": "%21%2A%27%28%29%3B%3A%40%24%2C%5B%5D",
	} {
		if got := escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "/",
		"/":                     "/",
		"/path":                 "/path/",
		"/path/":                "/path/",
		"/v2/p 1/a+b/ä":         "/v2/p%201/a%2Bb/%C3%A4/",
		"/v2/proj/backuppolicy": "/v2/proj/backuppolicy/",
	} {
		if got := canonicalURI(in); got != want {
			t.Errorf("CanonicalURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct {
		name string
		q    url.Values
		want string
	}{
		{"none", nil, ""},
		{"one", url.Values{"limit": {"1"}}, "limit=1"},
		{"sorted keys", url.Values{"sort_key": {"created_at"}, "limit": {"100"}, "marker": {"m"}, "sort_dir": {"desc"}},
			"limit=100&marker=m&sort_dir=desc&sort_key=created_at"},
		{"space", url.Values{"a b": {"x y"}}, "a%20b=x%20y"},
		{"plus", url.Values{"k": {"a+b"}}, "k=a%2Bb"},
		{"unicode", url.Values{"é": {"ü"}}, "%C3%A9=%C3%BC"},
		{"repeated keys, values sorted", url.Values{"k": {"b", "a", "c"}}, "k=a&k=b&k=c"},
		{"empty value", url.Values{"a": {""}, "b": {"1"}}, "a=&b=1"},
		{"mixed", url.Values{"b": {"x y", "a+b"}, "a": {""}, "é": {"ü"}, "c~": {"1.2_3-4"}},
			"a=&b=a%2Bb&b=x%20y&c~=1.2_3-4&%C3%A9=%C3%BC"},
	}
	for _, tt := range tests {
		if got := canonicalQuery(tt.q); got != tt.want {
			t.Errorf("%s: canonicalQuery = %q, want %q", tt.name, got, tt.want)
		}
	}
	// canonicalQuery must not reorder the caller's slices.
	q := url.Values{"k": {"b", "a"}}
	canonicalQuery(q)
	if q["k"][0] != "b" {
		t.Error("CanonicalQuery sorted the caller's values in place")
	}
}

// TestSignOwnCase checks a request with a security token, an escaped path and
// an awkward query against a signature computed independently (Python's
// hmac/hashlib over the canonical request written out by hand).
func TestSignOwnCase(t *testing.T) {
	q := url.Values{"b": {"x y", "a+b"}, "a": {""}, "é": {"ü"}, "c~": {"1.2_3-4"}}
	h := http.Header{}
	h.Set("Host", "vbs.cn-north-4.myhuaweicloud.com")
	h.Set("X-Project-Id", "p")
	h.Set("X-Sdk-Date", "20240102T030405Z")
	h.Set("X-Security-Token", " TOKEN ") // trimmed
	h.Set("Accept", "application/json")  // not signed
	signed := signedHeaders("X-Sdk-Date", "host", "x-security-token", "X-Project-Id", "host")
	if got := strings.Join(signed, ";"); got != "host;x-project-id;x-sdk-date;x-security-token" {
		t.Fatalf("SignedHeaders = %q", got)
	}
	cr := canonicalRequest("GET", "/v2/p/ä b+c", canonicalQuery(q), h, signed, nil)
	want := "GET\n/v2/p/%C3%A4%20b%2Bc/\na=&b=a%2Bb&b=x%20y&c~=1.2_3-4&%C3%A9=%C3%BC\n" +
		"host:vbs.cn-north-4.myhuaweicloud.com\nx-project-id:p\nx-sdk-date:20240102T030405Z\nx-security-token:TOKEN\n\n" +
		"host;x-project-id;x-sdk-date;x-security-token\n" + emptySHA256
	if cr != want {
		t.Fatalf("canonical request\n got %q\nwant %q", cr, want)
	}
	if sig := sign("SK-secret", "20240102T030405Z", cr); sig != "5e22e9f215f7c8ea7daa9e3135e8b7bb6cf29b21da07c5fe43fa06e756abaafa" {
		t.Fatalf("signature %s", sig)
	}

	// With a body and content-type.
	body := []byte(`{"a":1}`)
	h2 := http.Header{"Content-Type": {"application/json"}, "Host": {"h.example"}, "X-Sdk-Date": {"20240102T030405Z"}}
	cr = canonicalRequest("POST", "/v1/x", "", h2, signedHeaders("content-type", "host", "x-sdk-date"), body)
	want = "POST\n/v1/x/\n\ncontent-type:application/json\nhost:h.example\nx-sdk-date:20240102T030405Z\n\ncontent-type;host;x-sdk-date\n" +
		"015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
	if cr != want {
		t.Fatalf("canonical request\n got %q\nwant %q", cr, want)
	}
	if sig := sign("SK-secret", "20240102T030405Z", cr); sig != "253e04ddca4dd9e6edf8feafd81bfd6a6b47c492f18d7f89cb36b288b6a99e83" {
		t.Fatalf("signature %s", sig)
	}
}

// TestAKSKOverTheWire sends a signed request through the Client and checks,
// on the server side and without the package's signing helpers, that the
// query sent is the one signed and that the signature matches.
func TestAKSKOverTheWire(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.Write([]byte(`{"tasks":[],"count":0}`))
	}))
	defer srv.Close()
	auth := NewAKSK("AK-ID-1234", "SK-secret-5678", "STS-token-9")
	auth.(*akskAuth).now = func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)) }
	c := newTestClient(t, srv, func(o *testOptions) { o.Auth = auth; o.ProjectID = "proj 1" })
	q := url.Values{"sort_key": {"created_at"}, "sort_dir": {"desc"}, "limit": {"100"}, "status": {"EXECUTE_FAIL"}, "marker": {"job a"}}
	if _, err := c.get(context.Background(), opListTasks, q, "backuppolicy", "pol+1", "backuptasks"); err != nil {
		t.Fatal(err)
	}
	wantPath := "/v2/proj%201/backuppolicy/pol%2B1/backuptasks"
	if got.URL.EscapedPath() != wantPath {
		t.Errorf("path %q, want %q", got.URL.EscapedPath(), wantPath)
	}
	wantQuery := "limit=100&marker=job%20a&sort_dir=desc&sort_key=created_at&status=EXECUTE_FAIL"
	if got.URL.RawQuery != wantQuery {
		t.Errorf("query %q, want %q", got.URL.RawQuery, wantQuery)
	}
	if d := got.Header.Get("X-Sdk-Date"); d != "20240102T020405Z" {
		t.Errorf("X-Sdk-Date %q", d)
	}
	if v := got.Header.Get("X-Security-Token"); v != "STS-token-9" {
		t.Errorf("X-Security-Token %q", v)
	}
	if v := got.Header.Get("X-Project-Id"); v != "proj 1" {
		t.Errorf("X-Project-Id %q", v)
	}
	// Independent computation.
	canon := "GET\n/v2/proj%201/backuppolicy/pol%2B1/backuptasks/\n" + got.URL.RawQuery + "\n" +
		"host:" + got.Host + "\nx-project-id:proj 1\nx-sdk-date:20240102T020405Z\nx-security-token:STS-token-9\n\n" +
		"host;x-project-id;x-sdk-date;x-security-token\n" + emptySHA256
	sum := sha256.Sum256([]byte(canon))
	m := hmac.New(sha256.New, []byte("SK-secret-5678"))
	m.Write([]byte("SDK-HMAC-SHA256\n20240102T020405Z\n" + hex.EncodeToString(sum[:])))
	wantAuth := "SDK-HMAC-SHA256 Access=AK-ID-1234, SignedHeaders=host;x-project-id;x-sdk-date;x-security-token, Signature=" +
		hex.EncodeToString(m.Sum(nil))
	if a := got.Header.Get("Authorization"); a != wantAuth {
		t.Errorf("Authorization\n got %q\nwant %q", a, wantAuth)
	}
}

// TestAKSKRewritesQuery: Authorize replaces a non-canonical query with the
// canonical one it signs, and signs content-type when there is a body.
func TestAKSKRewritesQuery(t *testing.T) {
	auth := NewAKSK("AK", "SK-secret", "")
	auth.(*akskAuth).now = func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }
	body := []byte(`{"a":1}`)
	req, err := http.NewRequest("POST", "https://h.example/v1/x?z=1&b=x+y&a", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := auth.Authorize(context.Background(), req, body); err != nil {
		t.Fatal(err)
	}
	if req.URL.RawQuery != "a=&b=x%20y&z=1" {
		t.Errorf("RawQuery %q", req.URL.RawQuery)
	}
	if req.Header.Get("X-Security-Token") != "" {
		t.Error("X-Security-Token set without a token")
	}
	canon := "POST\n/v1/x/\na=&b=x%20y&z=1\ncontent-type:application/json\nhost:h.example\nx-sdk-date:20240102T030405Z\n\n" +
		"content-type;host;x-sdk-date\n015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
	want := authorizationHeader("AK", []string{"content-type", "host", "x-sdk-date"}, sign("SK-secret", "20240102T030405Z", canon))
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization\n got %q\nwant %q", got, want)
	}
	if auth.Renew(context.Background()) {
		t.Error("AK/SK Renew reported true")
	}
	if err := NewAKSK("", "", "").Authorize(context.Background(), req, nil); err == nil {
		t.Error("empty keys accepted")
	}
}
