package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// TestMethodsNotAllowed: every route answers only its methods; any other
// gets 405 with an Allow header and calls no API.
func TestMethodsNotAllowed(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	routes := []struct {
		path  string
		allow string
	}{
		{"/metrics", "GET, HEAD"},
		{"/probe?target=alpha", "GET, HEAD"},
		{"/config", "GET, HEAD"},
		{"/-/healthy", "GET, HEAD"},
		{"/", "GET, HEAD"},
		{"/-/reload", "POST, PUT"},
	}
	for _, r := range routes {
		for _, method := range []string{"DELETE", "PUT", "POST", "OPTIONS", "TRACE", "PATCH", "GET", "HEAD", "FROBNICATE"} {
			if strings.Contains(r.allow, method) {
				continue
			}
			code, body, resp := htRead(t, e.do(context.Background(), method, r.path, nil))
			if code != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != r.allow {
				t.Errorf("%s %s: HTTP %d, Allow %q; want 405 and Allow %q", method, r.path, code, resp.Header.Get("Allow"), r.allow)
			}
			if want := fmt.Sprintf("method %s not allowed: use %s\n", method, r.allow); method != "HEAD" && body != want {
				t.Errorf("%s %s: body %q, want %q", method, r.path, body, want)
			}
		}
	}
	if n := e.simA.Requests("") + e.simB.Requests(""); n != 0 {
		t.Errorf("refused methods made %d API requests, want 0", n)
	}
	// The allowed ones work; HEAD scrapes like GET.
	for _, path := range []string{"/metrics", "/probe?target=alpha", "/config", "/-/healthy", "/"} {
		for _, method := range []string{"GET", "HEAD"} {
			if code, _, _ := htRead(t, e.do(context.Background(), method, path, nil)); code != http.StatusOK {
				t.Errorf("%s %s: HTTP %d, want 200", method, path, code)
			}
		}
	}
	if code, _, _ := htRead(t, e.do(context.Background(), http.MethodDelete, "/nonexistent", nil)); code != http.StatusNotFound {
		t.Errorf("DELETE /nonexistent: HTTP %d, want 404", code)
	}
}

// renderEnv serves newAlphaBetaApp's targets through handlers whose own metrics do
// not change between two gathers (no Go runtime collector), so that an
// answer can be compared with promhttp's.
func renderEnv(t *testing.T) (*testApp, *handlers, http.Handler) {
	e := newAlphaBetaApp(t, testAppOptions{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector("vbs_exporter"), e.ex.api)
	h := &handlers{ex: e.ex, safe: e.safe, gatherer: reg, logger: log.NewNopLogger(), reload: func() error { return nil },
		timeoutOffset: 500 * time.Millisecond, defaultTimeout: 20 * time.Second, maxRequests: 4}
	mux, err := h.routes("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return e, h, mux
}

func renderServe(t *testing.T, h http.Handler, target string, hdr http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", target, rec.Code, htShort(rec.Body.String()))
	}
	return rec
}

// renderBody returns the body, decompressed when gzip.
func renderBody(t *testing.T, rec *httptest.ResponseRecorder) []byte {
	t.Helper()
	if rec.Header().Get("Content-Encoding") != "gzip" {
		return rec.Body.Bytes()
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRenderMatchesPromhttp: the cached, shared answer is byte for byte what
// promhttp writes for the same snapshots, in every format and compression
// it negotiates, for /metrics and /probe; a refresh that changed nothing
// renders nothing anew, and one that changed a job renders again.
func TestRenderMatchesPromhttp(t *testing.T) {
	t.Parallel()
	e, h, mux := renderEnv(t)
	accepts := []string{
		"",
		perfPrometheusAccept,
		"text/plain;version=0.0.4",
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
		"application/openmetrics-text;version=1.0.0",
	}
	for _, path := range []string{"/metrics", "/probe?target=alpha", "/metrics?name[]=vbs_up&name[]=vbs_policy_jobs"} {
		for _, accept := range accepts {
			for _, encoding := range []string{"", "gzip", "identity", "gzip;q=0"} {
				hdr := http.Header{}
				if accept != "" {
					hdr.Set("Accept", accept)
				}
				if encoding != "" {
					hdr.Set("Accept-Encoding", encoding)
				}
				got := renderServe(t, mux, path, hdr)

				// promhttp's answer for the snapshots just served.
				reg := prometheus.NewRegistry()
				var own prometheus.Gatherer = h.gatherer
				if strings.HasPrefix(path, "/probe") {
					alpha, _ := e.ex.get("alpha")
					reg.MustRegister(snapshotsCollector{alpha.Last()})
					api := prometheus.NewRegistry()
					api.MustRegister(e.ex.api.For("alpha"))
					own = api
				} else {
					var snaps snapshotsCollector
					for _, tg := range e.ex.all() {
						snaps = append(snaps, tg.Last())
					}
					reg.MustRegister(snaps)
				}
				want := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header = hdr
				promhttp.HandlerFor(prometheus.Gatherers{reg, own}, h.promhttpOpts()).ServeHTTP(want, req)

				what := fmt.Sprintf("GET %s Accept %q Accept-Encoding %q", path, accept, encoding)
				for _, k := range []string{"Content-Type", "Content-Encoding"} {
					if g, w := got.Header().Get(k), want.Header().Get(k); g != w {
						t.Errorf("%s: %s %q, promhttp %q", what, k, g, w)
					}
				}
				if g, w := got.Header().Values("Vary"), want.Header().Values("Vary"); fmt.Sprint(g) != fmt.Sprint(w) {
					t.Errorf("%s: Vary %q, promhttp %q", what, g, w)
				}
				gb, wb := renderBody(t, got), renderBody(t, want)
				if !bytes.Equal(gb, wb) {
					t.Errorf("%s: body differs from promhttp's (%d vs %d bytes):\n%s\n--- promhttp:\n%s", what, len(gb), len(wb), htShort(string(gb)), htShort(string(wb)))
				}
			}
		}
	}

	// Nothing changed: the next scrapes render nothing.
	before := h.cache.renders.Load()
	for range 3 {
		renderServe(t, mux, "/metrics", http.Header{"Accept-Encoding": {"gzip"}})
	}
	if n := h.cache.renders.Load() - before; n != 0 {
		t.Errorf("3 scrapes after refreshes that changed nothing rendered %d times, want 0", n)
	}
	// A new job: rendered once more, then shared again.
	e.simA.AddJobs(htPolicyA, vbstest.Job{JobID: "a0000000-0000-4000-8000-000000000099", Status: vbstest.StatusRunning,
		ResourceID: "vol-4", ResourceType: "volume", BackupName: "autobk_99", CreatedAt: e.base.Add(-time.Minute)})
	for range 3 {
		rec := renderServe(t, mux, "/metrics", http.Header{"Accept-Encoding": {"gzip"}})
		if !bytes.Contains(renderBody(t, rec), []byte(`resource_id="vol-4"`)) {
			t.Fatal("the new disk's job is not in the answer")
		}
	}
	if n := h.cache.renders.Load() - before; n != 1 {
		t.Errorf("3 scrapes after one new job rendered %d times, want 1", n)
	}
}

// TestRemovedTargetLateRefresh: a target removed while its refresh runs
// does not get its API request series back when that refresh ends.
func TestRemovedTargetLateRefresh(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sim := testkit.SimWithKeyFile(t, dir)
	sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 2, Days: 2, Seed: 1, Now: time.Now().Add(-time.Hour), Schedules: perfDaily}))
	cfg := filepath.Join(dir, "vbs.yml")
	writeFile(t, cfg, "targets:\n"+testkit.SimTargetYAML("kept", sim, "")+testkit.SimTargetYAML("gone", sim, ""))
	a := newTestApp(t, cfg, testAppOptions{defaultTimeout: 10 * time.Second}).app
	gone, _ := a.ex.get("gone")
	sim.SetLatency(300 * time.Millisecond)
	// The scraper hangs up at once; the refresh goes on in the background.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	rec := httptest.NewRecorder()
	a.mux.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/probe?target=gone", nil))
	cancel()
	writeFile(t, cfg, "targets:\n"+testkit.SimTargetYAML("kept", sim, ""))
	if err := a.reload(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); gone.Last() == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the removed target's refresh never ended")
		}
	}
	if sim.Requests("") == 0 {
		t.Fatal("the removed target's refresh made no request")
	}
	sim.SetLatency(0)
	rec = httptest.NewRecorder()
	a.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	if lines := htLinesWith(body, `target="gone"`); len(lines) > 0 {
		t.Errorf("the removed target's late refresh re-created its series:\n%s", strings.Join(lines, "\n"))
	}
	if len(htLinesWith(body, `vbs_api_requests_total{code="200",operation="list_policies",target="kept"}`)) != 1 {
		t.Errorf("the kept target's request series is missing:\n%s", htShort(body))
	}
}

// TestScrapeWriteDeadline: a client that stops reading loses the connection
// once the scrape timeout plus the margin has passed, instead of holding it
// (and its goroutine) for the server's 3-minute write timeout.
func TestScrapeWriteDeadline(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for the write deadline")
	}
	dir := t.TempDir()
	sim := testkit.SimWithKeyFile(t, dir)
	// 400 disks: an answer (~0.6 MB) far larger than the socket buffers,
	// which both ends set small (the server's below), so that the server's
	// write blocks as it would on a big answer with default buffers.
	sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 2, Disks: 200, Days: 2, Seed: 1, Now: time.Now().Add(-time.Hour), Schedules: perfDaily}))
	cfg := filepath.Join(dir, "vbs.yml")
	writeFile(t, cfg, "targets:\n"+testkit.SimTargetYAML("big", sim, "    page_size: 100\n"))
	a := newTestApp(t, cfg, testAppOptions{defaultTimeout: time.Minute}).app
	closed := make(chan string, 16)
	ts := httptest.NewUnstartedServer(a.mux)
	ts.Config = newServer(a.mux)
	ts.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- c.RemoteAddr().String()
		}
	}
	ts.Listener = smallSendBufferListener{ts.Listener}
	ts.Start()
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Get(ts.URL + "/metrics") // fills the cache
	if err != nil {
		t.Fatal(err)
	}
	full, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()

	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: 1\r\n\r\n")
	// The client reads nothing. The server must give up on it after the
	// scrape timeout plus writeMargin (6 s), not the server's WriteTimeout
	// (3 min); 60 s bounds the wait.
	start := time.Now()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case addr := <-closed:
			if addr != conn.LocalAddr().String() {
				continue
			}
			t.Logf("answer of %d bytes: the server closed the non-reading connection after %v", full, time.Since(start).Round(100*time.Millisecond))
			return
		case <-timeout:
			t.Fatalf("the server still holds a connection that has read nothing of a %d-byte answer after 60 s (scrape timeout 1 s)", full)
		}
	}
}

// smallSendBufferListener accepts TCP connections with a 4 KiB send buffer,
// so that a client that reads nothing blocks the server's write within
// kilobytes, not the megabytes of an autotuned loopback socket.
type smallSendBufferListener struct{ net.Listener }

func (l smallSendBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}
