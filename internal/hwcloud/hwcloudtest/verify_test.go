package hwcloudtest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// TestVendorTestVector checks the verifier's canonical request and signature
// against the vector from the vendor's Go SDK tests (vbs-api.md).
func TestVendorTestVector(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "https://example.huaweicloud.com/path?limit=1", nil)
	r.Header.Set("X-Sdk-Date", "20060102T150405Z")
	canonical, err := CanonicalRequest(r, []string{"x-sdk-date"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if canonical != want {
		t.Fatalf("canonical request\n got %q\nwant %q", canonical, want)
	}
	if got := Sign("SecretKey", "20060102T150405Z", canonical); got != "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624" {
		t.Errorf("signature %s", got)
	}
	a, ok := ParseAuthorization("SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date;host, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624")
	if !ok || a.Access != "AccessKey" || !slices.Equal(a.SignedHeaders, []string{"x-sdk-date", "host"}) || a.Signature != "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624" {
		t.Errorf("ParseAuthorization = %+v, %v", a, ok)
	}
	for _, h := range []string{"", "Bearer x", "SDK-HMAC-SHA256 Access=a, Signature=s", "SDK-HMAC-SHA256 SignedHeaders=host, Signature=s"} {
		if a, ok := ParseAuthorization(h); ok {
			t.Errorf("ParseAuthorization(%q) = %+v, true", h, a)
		}
	}
}

func TestCanonicalQueryAndURI(t *testing.T) {
	queries := map[string]string{
		"":                          "",
		"limit=1":                   "limit=1",
		"b=2&a=1&a=0":               "a=0&a=1&b=2",
		"q=a%20b":                   "q=a%20b",
		"q=a+b":                     "q=a%2Bb",
		"q=a%2Bb":                   "q=a%2Bb",
		"q=%E6%97%A5%E6%9C%AC":      "q=%E6%97%A5%E6%9C%AC",
		"empty=&flag":               "empty=&flag=",
		"k=%7e&k=-_.":               "k=-_.&k=~",
		"a%20b=1&&A=2":              "A=2&a%20b=1",
		"marker=x%2Fy&sort_dir=asc": "marker=x%2Fy&sort_dir=asc",
	}
	for raw, want := range queries {
		got, err := canonicalQuery(raw)
		if err != nil || got != want {
			t.Errorf("canonicalQuery(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	if _, err := canonicalQuery("a=%zz"); err == nil {
		t.Error("bad escape accepted")
	}
	uris := map[string]string{
		"":                   "/",
		"/":                  "/",
		"/v2/p/backuppolicy": "/v2/p/backuppolicy/",
		"/v2/p/":             "/v2/p/",
		"/a%20b/c":           "/a%20b/c/",
		"/a%2Fb":             "/a%2Fb/",
		"/a:b@c":             "/a%3Ab%40c/",
	}
	for in, want := range uris {
		got, err := canonicalURI(in)
		if err != nil || got != want {
			t.Errorf("canonicalURI(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "http://h:1/", nil)
	// Values are sorted as received, then trimmed (as the vendor's signer does).
	r.Header.Add("X-B", " two ")
	r.Header.Add("X-B", "one")
	r.Header.Set("X-A", "a")
	if got := canonicalHeaders(r, []string{"host", "x-a", "x-b"}); got != "host:h:1\nx-a:a\nx-b:two\nx-b:one\n" {
		t.Errorf("canonicalHeaders = %q", got)
	}
}

// TestCheck covers the gateway's checks before the key: the date, its skew
// and the headers that must be signed.
func TestCheck(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	signed := Authorization{Access: "ak", SignedHeaders: []string{"host", "x-sdk-date"}, Signature: "00"}
	for _, c := range []struct {
		date    string
		a       Authorization
		problem string
	}{
		{"20261202T030000Z", signed, ""},
		{"20261202T031459Z", signed, ""},
		{"", signed, "X-Sdk-Date is missing or malformed"},
		{"2026-12-02T03:00:00Z", signed, "X-Sdk-Date is missing or malformed"},
		{"20261202T031501Z", signed, "request expired: X-Sdk-Date is more than 15 minutes off"},
		{"20261202T024459Z", signed, "request expired: X-Sdk-Date is more than 15 minutes off"},
		{"20261202T030000Z", Authorization{SignedHeaders: []string{"x-sdk-date"}}, "SignedHeaders must include host and x-sdk-date"},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://h:1/v3/p/vaults?limit=1", nil)
		if c.date != "" {
			r.Header.Set("X-Sdk-Date", c.date)
		}
		canonical, problem := Check(r, c.a, nil, now)
		if problem != c.problem || (problem == "") != (canonical != "") {
			t.Errorf("Check(date %q, %v) = %q, %q; want problem %q", c.date, c.a.SignedHeaders, canonical, problem, c.problem)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "http://h:1/a", nil)
	r.URL.RawQuery = "q=%zz"
	r.Header.Set("X-Sdk-Date", "20261202T030000Z")
	if _, problem := Check(r, signed, nil, now); problem != "malformed request URI" {
		t.Errorf("bad URI: %q", problem)
	}
}
