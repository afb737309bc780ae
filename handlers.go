package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/vbs-exporter/vbs_exporter/config"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
)

// maxProbeQuery bounds the raw query string of /probe.
const maxProbeQuery = 512

// handlers serves the exporter's HTTP endpoints.
type handlers struct {
	ex             *exporter
	safe           *config.SafeConfig
	gatherer       prometheus.Gatherer // the exporter's own metrics, with every target's API metrics
	own            prometheus.Gatherer // the exporter's own metrics only
	ownMetricsOnly bool                // the telemetry path serves own only, not the targets
	logger         log.Logger
	reload         func() error
	timeoutOffset  time.Duration
	defaultTimeout time.Duration
	maxRequests    int
	inflight       chan struct{}
	negotiate      negotiator
	cache          *renderCache
}

// routes returns the exporter's HTTP routes. A telemetry path the mux cannot
// serve beside the other routes (no leading "/", taken by another endpoint,
// not a valid pattern) is an error rather than a panic.
func (h *handlers) routes(telemetryPath string) (_ *http.ServeMux, err error) {
	if !strings.HasPrefix(telemetryPath, "/") {
		return nil, fmt.Errorf("--web.telemetry-path %q: must start with /", telemetryPath)
	}
	switch telemetryPath {
	case "/probe", "/-/healthy", "/-/reload", "/config":
		return nil, fmt.Errorf("--web.telemetry-path %q: taken by another endpoint", telemetryPath)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("--web.telemetry-path %q: %v", telemetryPath, r)
		}
	}()
	if h.maxRequests > 0 {
		h.inflight = make(chan struct{}, h.maxRequests)
	}
	h.negotiate = newNegotiator(h.promhttpOpts())
	h.cache = &renderCache{}
	mux := http.NewServeMux()
	mux.Handle(telemetryPath, methods(http.HandlerFunc(h.metrics), http.MethodGet, http.MethodHead))
	mux.Handle("/probe", methods(http.HandlerFunc(h.probe), http.MethodGet, http.MethodHead))
	mux.Handle("/-/healthy", methods(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Healthy")
	}), http.MethodGet, http.MethodHead))
	// Prometheus's convention: POST or PUT reloads.
	mux.Handle("/-/reload", methods(http.HandlerFunc(h.reloadHandler), http.MethodPost, http.MethodPut))
	mux.Handle("/config", methods(http.HandlerFunc(h.configHandler), http.MethodGet, http.MethodHead))
	if telemetryPath != "/" {
		l := &landing{telemetryPath: telemetryPath, metricsTargets: !h.ownMetricsOnly, ex: h.ex, now: time.Now}
		if _, err := l.page(); err != nil {
			return nil, fmt.Errorf("landing page: %w", err)
		}
		mux.Handle("/", rootMethods(l))
	}
	return mux, nil
}

// methods answers 405, with an Allow header, to any method but allowed,
// before next sees the request: no other method triggers a refresh.
func methods(next http.Handler, allowed ...string) http.Handler {
	allow := strings.Join(allowed, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(allowed, r.Method) {
			w.Header().Set("Allow", allow)
			http.Error(w, fmt.Sprintf("method %s not allowed: use %s", r.Method, allow), http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// rootMethods guards the landing page ("/" only) like methods; other paths
// under "/" keep their 404.
func rootMethods(landing http.Handler) http.Handler {
	guarded := methods(landing, http.MethodGet, http.MethodHead)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			guarded.ServeHTTP(w, r)
			return
		}
		landing.ServeHTTP(w, r)
	})
}

// acquire takes one of the --web.max-requests slots for a scrape's refresh
// and render, or answers 503 and returns false. The sending of rendered bytes
// holds no slot: a client that does not read cannot starve the others.
func (h *handlers) acquire(w http.ResponseWriter) (release func(), ok bool) {
	if h.inflight == nil {
		return func() {}, true
	}
	select {
	case h.inflight <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-h.inflight }) }, true
	default:
		http.Error(w, fmt.Sprintf("too many concurrent scrapes (limit %d)", h.maxRequests), http.StatusServiceUnavailable)
		return nil, false
	}
}

// scrapeTimeout returns the scrape's timeout: Prometheus's
// X-Prometheus-Scrape-Timeout-Seconds, or --scrape.default-timeout.
func (h *handlers) scrapeTimeout(r *http.Request) time.Duration {
	timeout := h.defaultTimeout
	if v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 && secs < 86400 {
			timeout = time.Duration(secs * float64(time.Second))
		}
	}
	return min(timeout, maxScrapeTimeout)
}

// scrapeContext returns the request's context bounded by Prometheus's scrape
// timeout minus the offset.
func (h *handlers) scrapeContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), h.refreshTimeout(r))
}

// refreshTimeout is the time a scrape's refresh may take: the scrape timeout
// minus the offset (half the scrape timeout when the offset exceeds it).
func (h *handlers) refreshTimeout(r *http.Request) time.Duration {
	timeout := h.scrapeTimeout(r)
	if t := timeout - h.timeoutOffset; t > 0 {
		return t
	}
	return timeout / 2
}

// maxScrapeTimeout bounds a scrape's refresh below the server's WriteTimeout.
const maxScrapeTimeout = serverWriteTimeout - 30*time.Second

// writeMargin is the time a scrape's answer may take to send past its scrape
// timeout; a client that reads slower loses the connection.
const writeMargin = 5 * time.Second

func (h *handlers) promhttpOpts() promhttp.HandlerOpts {
	return promhttp.HandlerOpts{
		ErrorLog:      promLogger{h.logger},
		ErrorHandling: promhttp.ContinueOnError,
	}
}

// refreshAll refreshes targets in parallel within ctx's deadline.
func refreshAll(ctx context.Context, targets []*store.Target) []*store.Snapshot {
	snaps := make([]*store.Snapshot, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			snaps[i] = t.Refresh(ctx)
		}()
	}
	wg.Wait()
	return snaps
}

// scrape refreshes targets and answers with their metrics and own's (the
// exporter's own metrics, or the targets' API metrics for /probe), in the
// format and compression promhttp would negotiate. The targets' families come
// from the render cache under route; only the per-scrape part is encoded
// here. The slot is held for the refresh and the render, not for sending.
func (h *handlers) scrape(w http.ResponseWriter, r *http.Request, route string, targets []*store.Target, own prometheus.Gatherer) {
	wd := h.startWriteDeadline(w, r)
	defer wd.lift()
	release, ok := h.acquire(w)
	if !ok {
		return
	}
	defer release()
	ctx, cancel := h.scrapeContext(r)
	defer cancel()
	snaps := refreshAll(ctx, targets)

	hdr := h.negotiate.headers(r)
	format := expfmt.Format(hdr.Get("Content-Type"))
	encoding := hdr.Get("Content-Encoding")
	if encoding != "" && encoding != gzipEncoding {
		// A compression the cache does not hold: let promhttp do it all.
		reg := prometheus.NewRegistry()
		reg.MustRegister(snapshotsCollector(snaps))
		promhttp.HandlerFor(prometheus.Gatherers{reg, own}, h.promhttpOpts()).ServeHTTP(w, r)
		return
	}
	x := h.cache.get(route, targets, snaps, h.ex.all())
	cached, err := x.families(format, encoding)
	if err != nil {
		level.Error(h.logger).Log("msg", "rendering the targets' metrics failed", "err", err)
		cached = nil
	}
	dynReg := prometheus.NewRegistry()
	dynReg.MustRegister(dynamicSnapshots(snaps))
	dynamic, gerr := prometheus.Gatherers{dynReg, own}.Gather()
	if gerr != nil {
		promLogger{h.logger}.Println("error gathering metrics:", gerr)
		if len(dynamic) == 0 && len(cached) == 0 {
			http.Error(w, "An error has occurred while serving metrics:\n\n"+gerr.Error(), http.StatusInternalServerError)
			return
		}
	}
	var keep map[string]bool
	if names := r.URL.Query()["name[]"]; len(names) > 0 {
		keep = make(map[string]bool, len(names))
		for _, n := range names {
			keep[n] = true
		}
	}
	body, err := assemble(format, encoding, cached, dynamic, keep)
	if err != nil {
		level.Error(h.logger).Log("msg", "encoding the metrics failed", "err", err)
		http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
		return
	}
	release()
	for k, vs := range hdr {
		w.Header()[k] = vs
	}
	size := 0
	for _, b := range body {
		size += len(b)
	}
	w.Header().Set("Content-Length", strconv.Itoa(size))
	wd.renew()
	for _, b := range body {
		if _, err := w.Write(b); err != nil {
			return // the client went away or did not read in time
		}
	}
}

// metrics serves every target and the exporter's own metrics; with
// --no-web.metrics.targets, only the exporter's own metrics (no refresh, no
// target's series: /probe serves those), as blackbox_exporter does.
func (h *handlers) metrics(w http.ResponseWriter, r *http.Request) {
	if h.ownMetricsOnly {
		promhttp.HandlerFor(h.own, h.promhttpOpts()).ServeHTTP(w, r)
		return
	}
	h.scrape(w, r, "", h.ex.all(), h.gatherer)
}

// probe serves one configured target, named by ?target=, with its API
// request metrics.
func (h *handlers) probe(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.RawQuery) > maxProbeQuery {
		http.Error(w, fmt.Sprintf("query string longer than %d bytes", maxProbeQuery), http.StatusBadRequest)
		return
	}
	q, err := parseQueryStrict(r.URL.RawQuery)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	names := q["target"]
	switch {
	case len(names) == 0 || names[0] == "":
		http.Error(w, "the target parameter is missing: use /probe?target=NAME with a configured target name", http.StatusBadRequest)
		return
	case len(names) > 1:
		http.Error(w, "the target parameter is given more than once", http.StatusBadRequest)
		return
	}
	t, ok := h.ex.get(names[0])
	if !ok {
		http.Error(w, fmt.Sprintf("unknown target %q: not in the configuration; configured targets: %s", names[0], quoteList(h.ex.names())), http.StatusBadRequest)
		return
	}
	debug := false
	if d := q["debug"]; len(d) > 0 {
		if len(d) > 1 || d[0] != "true" && d[0] != "false" {
			http.Error(w, "the debug parameter must be given once, as true or false", http.StatusBadRequest)
			return
		}
		debug = d[0] == "true"
	}
	if debug {
		h.debugProbe(w, r, t)
		return
	}
	api := prometheus.NewRegistry()
	api.MustRegister(h.ex.api.For(t.Name()))
	h.scrape(w, r, "probe\x00"+t.Name(), []*store.Target{t}, api)
}

// writeDeadline bounds every write of a scrape's answer, so that a client
// that does not read holds its connection for the scrape timeout plus a
// margin at most. The deadline is the connection's: lift, deferred, removes
// it once the answer is sent (whole: it has a Content-Length), for the next
// request on the connection, which a server without WriteTimeout would not
// reset.
type writeDeadline struct {
	rc  *http.ResponseController
	d   time.Duration
	set bool
}

// startWriteDeadline sets the deadline of the answer to r.
func (h *handlers) startWriteDeadline(w http.ResponseWriter, r *http.Request) *writeDeadline {
	wd := &writeDeadline{rc: http.NewResponseController(w), d: h.scrapeTimeout(r) + writeMargin}
	wd.set = wd.rc.SetWriteDeadline(time.Now().Add(wd.d)) == nil
	return wd
}

// renew gives sending its full time again, whatever the refresh took.
func (wd *writeDeadline) renew() {
	if wd.set {
		_ = wd.rc.SetWriteDeadline(time.Now().Add(wd.d))
	}
}

// lift removes the deadline after a complete answer.
func (wd *writeDeadline) lift() {
	if wd.set && wd.rc.Flush() == nil {
		_ = wd.rc.SetWriteDeadline(time.Time{})
	}
}

// debugProbe runs a refresh of its own of t (not the one a scrape may be
// sharing, nor the last result) and answers, as text, what it did and the
// metrics /probe would have returned. It takes a --web.max-requests slot
// and the scrape's timeout like any scrape.
func (h *handlers) debugProbe(w http.ResponseWriter, r *http.Request, t *store.Target) {
	wd := h.startWriteDeadline(w, r)
	defer wd.lift()
	release, ok := h.acquire(w)
	if !ok {
		return
	}
	defer release()
	timeout := h.refreshTimeout(r)
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	snap, fresh := t.RefreshTraced(ctx)
	var buf bytes.Buffer
	writeDebug(&buf, t.Name(), snap, fresh, timeout, h.ex.api.For(t.Name()))
	release()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	wd.renew()
	_, _ = w.Write(buf.Bytes())
}

// reloadHandler reloads the configuration (POST or PUT).
func (h *handlers) reloadHandler(w http.ResponseWriter, _ *http.Request) {
	if err := h.reload(); err != nil {
		http.Error(w, fmt.Sprintf("failed to reload config: %v", err), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "configuration reloaded")
}

// configHandler shows the running configuration with every secret redacted.
func (h *handlers) configHandler(w http.ResponseWriter, _ *http.Request) {
	out, err := h.safe.Get().Redacted()
	if err != nil {
		http.Error(w, fmt.Sprintf("rendering the configuration failed: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(out)
}

// promLogger adapts the go-kit logger to promhttp's error log.
type promLogger struct{ logger log.Logger }

func (l promLogger) Println(v ...any) {
	level.Error(l.logger).Log("msg", fmt.Sprint(v...))
}

// quoteList quotes and joins names, "a", "b".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// parseQueryStrict parses /probe's query string: malformed escapes and any
// parameter other than target and debug are errors.
func parseQueryStrict(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("malformed query string: %w", err)
	}
	for k := range q {
		if k != "target" && k != "debug" {
			return nil, fmt.Errorf("unknown query parameter %q: /probe takes only target and debug", k)
		}
	}
	return q, nil
}
