package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// flakyProxy sits between the exporter and a simulator and answers every
// failEvery-th request of each path (each API operation and policy) with
// HTTP 503 and "Retry-After: 0", so the exporter's retry reads the real
// answer at once: the API fails a fixed share of the calls, yet every
// refresh succeeds and the data stays fresh.
type flakyProxy struct {
	proxy     *httputil.ReverseProxy
	failEvery int

	mu       sync.Mutex
	perPath  map[string]int
	total    int
	failures int
}

// newFlakyProxy starts a flakyProxy on 127.0.0.1 in front of upstream and
// returns it with its URL. The Host header passes through unchanged, so the
// AK/SK signature the exporter made for the proxy's address still verifies.
func newFlakyProxy(t *testing.T, upstream string, failEvery int) (*flakyProxy, string) {
	t.Helper()
	requireLoopback(t, "flaky proxy upstream", upstream)
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{Proxy: nil}
	p := &flakyProxy{proxy: rp, failEvery: failEvery, perPath: map[string]int{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.perPath[r.URL.Path]++
	fail := p.perPath[r.URL.Path]%p.failEvery == 0
	p.total++
	if fail {
		p.failures++
	}
	p.mu.Unlock()
	if fail {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":"VBS.0001","message":"flaky proxy: service unavailable"}}`))
		return
	}
	p.proxy.ServeHTTP(w, r)
}

// counts returns the requests seen and the requests failed so far.
func (p *flakyProxy) counts() (total, failures int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total, p.failures
}
