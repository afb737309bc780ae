package vbstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testEscape is the test's own implementation of the vendor's escaping,
// written independently of hwcloudtest's escape().
func testEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// signer signs requests the way a correct client does.
type signer struct {
	ak, sk  string
	project string
	token   string // X-Security-Token, if any
	now     func() time.Time
	extra   map[string]string // extra headers, signed too
}

func defaultSigner(s *Server) signer {
	o := s.Options()
	return signer{ak: o.AccessKey, sk: o.SecretKey, project: o.ProjectID, now: o.Now}
}

// request builds a signed GET of path with the query pairs in the given order
// (escaped per the vendor rules, so the raw query sent is the signed one).
func (sg signer) request(t testing.TB, base, method, path string, query [][2]string, body []byte) *http.Request {
	t.Helper()
	var raw []string
	for _, kv := range query {
		raw = append(raw, testEscape(kv[0])+"="+testEscape(kv[1]))
	}
	u := base + path
	if len(raw) > 0 {
		u += "?" + strings.Join(raw, "&")
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	date := sg.now().UTC().Format("20060102T150405Z")
	hdr := map[string]string{
		"host":         req.URL.Host,
		"x-sdk-date":   date,
		"x-project-id": sg.project,
	}
	if sg.token != "" {
		hdr["x-security-token"] = sg.token
	}
	for k, v := range sg.extra {
		hdr[strings.ToLower(k)] = v
	}
	var names []string
	for k, v := range hdr {
		names = append(names, k)
		if k != "host" {
			req.Header.Set(k, v)
		}
	}
	sort.Strings(names)
	// Canonical query: sort pairs by key, then value.
	pairs := append([][2]string(nil), query...)
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	var cq []string
	for _, kv := range pairs {
		cq = append(cq, testEscape(kv[0])+"="+testEscape(kv[1]))
	}
	var ch strings.Builder
	for _, n := range names {
		ch.WriteString(n + ":" + strings.TrimSpace(hdr[n]) + "\n")
	}
	segs := strings.Split(path, "/")
	for i := range segs {
		seg, err := url.PathUnescape(segs[i])
		if err != nil {
			t.Fatal(err)
		}
		segs[i] = testEscape(seg)
	}
	curi := strings.Join(segs, "/")
	if !strings.HasSuffix(curi, "/") {
		curi += "/"
	}
	bh := sha256.Sum256(body)
	bodyHash := hex.EncodeToString(bh[:])
	if hdr["x-sdk-content-sha256"] == "UNSIGNED-PAYLOAD" {
		bodyHash = "UNSIGNED-PAYLOAD"
	}
	canonical := strings.Join([]string{method, curi, strings.Join(cq, "&"), ch.String(), strings.Join(names, ";"), bodyHash}, "\n")
	ch2 := sha256.Sum256([]byte(canonical))
	m := hmac.New(sha256.New, []byte(sg.sk))
	m.Write([]byte("SDK-HMAC-SHA256\n" + date + "\n" + hex.EncodeToString(ch2[:])))
	req.Header.Set("Authorization", fmt.Sprintf("SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s", sg.ak, strings.Join(names, ";"), hex.EncodeToString(m.Sum(nil))))
	return req
}

type result struct {
	status int
	header http.Header
	body   string
}

func do(t testing.TB, req *http.Request) result {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// get sends a signed GET and returns the result.
func get(t testing.TB, s *Server, path string, query ...[2]string) result {
	t.Helper()
	return do(t, defaultSigner(s).request(t, s.URL(), http.MethodGet, path, query, nil))
}

func tasksPath(s *Server, policyID string) string {
	return "/v2/" + s.Options().ProjectID + "/backuppolicy/" + policyID + "/backuptasks"
}

func policiesPath(s *Server) string { return "/v2/" + s.Options().ProjectID + "/backuppolicy" }

type taskJSON struct {
	Status     string `json:"status"`
	JobID      string `json:"job_id"`
	CreatedAt  string `json:"created_at"`
	FinishedAt string `json:"finished_at"`
	ResourceID string `json:"resource_id"`
}

type tasksJSON struct {
	Tasks []taskJSON `json:"tasks"`
	Count int        `json:"count"`
}

func decodeTasks(t testing.TB, r result) tasksJSON {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var out tasksJSON
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
	return out
}

func ids(ts []taskJSON) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.JobID
	}
	return out
}

// seqJobs returns n jobs with IDs "job-00000".. and created_at one minute
// apart, the oldest first.
func seqJobs(n int, base time.Time) []Job {
	jobs := make([]Job, n)
	for i := range jobs {
		jobs[i] = Job{
			JobID:        fmt.Sprintf("job-%05d", i),
			Status:       StatusExecuteSuccess,
			ResourceID:   fmt.Sprintf("vol-%d", i%7),
			ResourceType: "volume",
			BackupName:   fmt.Sprintf("autobk_%04d", i),
			CreatedAt:    base.Add(time.Duration(i) * time.Minute),
			FinishedAt:   base.Add(time.Duration(i)*time.Minute + 30*time.Second),
		}
	}
	return jobs
}

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func newTestServer(t testing.TB, o Options) (*Server, *clock) {
	t.Helper()
	c := newClock(testNow)
	if o.Now == nil {
		o.Now = c.Now
	}
	s := NewServer(o)
	t.Cleanup(s.Close)
	return s, c
}
