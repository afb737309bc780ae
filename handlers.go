package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/vbs-exporter/vbs_exporter/collector"
	"github.com/vbs-exporter/vbs_exporter/config"
)

// maxProbeQuery bounds the raw query string of /probe.
const maxProbeQuery = 512

// handlers serves the exporter's HTTP endpoints.
type handlers struct {
	ex             *exporter
	safe           *config.SafeConfig
	gatherer       prometheus.Gatherer // the exporter's own metrics
	logger         log.Logger
	reload         func() error
	timeoutOffset  time.Duration
	defaultTimeout time.Duration
	maxRequests    int
	inflight       chan struct{}
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
	mux := http.NewServeMux()
	mux.Handle(telemetryPath, h.limit(http.HandlerFunc(h.metrics)))
	mux.Handle("/probe", h.limit(http.HandlerFunc(h.probe)))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/reload", h.reloadHandler)
	mux.HandleFunc("/config", h.configHandler)
	if telemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "VBS Exporter",
			Description: "Prometheus exporter for Huawei Cloud VBS disk backup jobs",
			Version:     version.Info(),
			// Probe one target by name, like blackbox_exporter's form.
			Form: web.LandingForm{Action: "/probe", Inputs: []web.LandingFormInput{
				{Label: "Target", Type: "text", Name: "target", Placeholder: "a configured target name"},
			}},
			// /-/reload takes a POST (as does SIGHUP's equivalent, curl -X POST).
			ExtraHTML: `<div><form action="/-/reload" method="post">Reload the configuration file: ` +
				`<input type="submit" value="Reload"></form></div>`,
			// The toolkit links /debug/pprof/* unless told not to; this
			// exporter does not serve them, so the links would be 404s.
			Profiling: "false",
			Links: []web.LandingLinks{
				{Address: telemetryPath, Text: "Metrics", Description: "Every target plus the exporter's own metrics"},
				{Address: "/probe?target=", Text: "Probe", Description: "One configured target: /probe?target=NAME"},
				{Address: "/config", Text: "Configuration", Description: "The running configuration, secrets redacted"},
				{Address: "/-/healthy", Text: "Health", Description: "Liveness check"},
			},
		})
		if err != nil {
			return nil, fmt.Errorf("landing page: %w", err)
		}
		mux.Handle("/", landing)
	}
	return mux, nil
}

// limit rejects requests beyond --web.max-requests with 503.
func (h *handlers) limit(next http.Handler) http.Handler {
	if h.inflight == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case h.inflight <- struct{}{}:
			defer func() { <-h.inflight }()
			next.ServeHTTP(w, r)
		default:
			http.Error(w, fmt.Sprintf("too many concurrent scrapes (limit %d)", h.maxRequests), http.StatusServiceUnavailable)
		}
	})
}

// scrapeContext returns the request's context bounded by Prometheus's scrape
// timeout minus the offset.
func (h *handlers) scrapeContext(r *http.Request) (context.Context, context.CancelFunc) {
	timeout := h.defaultTimeout
	if v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 && secs < 86400 {
			timeout = time.Duration(secs * float64(time.Second))
		}
	}
	if t := timeout - h.timeoutOffset; t > 0 {
		timeout = t
	} else {
		timeout /= 2
	}
	// Past the server's write timeout the answer could not be sent anyway.
	return context.WithTimeout(r.Context(), min(timeout, maxScrapeTimeout))
}

// maxScrapeTimeout bounds a scrape's refresh below the server's WriteTimeout.
const maxScrapeTimeout = serverWriteTimeout - 30*time.Second

func (h *handlers) serve(w http.ResponseWriter, r *http.Request, g prometheus.Gatherer) {
	promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      promLogger{h.logger},
		ErrorHandling: promhttp.ContinueOnError,
	}).ServeHTTP(w, r)
}

// metrics serves every target and the exporter's own metrics.
func (h *handlers) metrics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.scrapeContext(r)
	defer cancel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.NewScrapeCollector(ctx, nil, h.ex.all()...))
	// The scrape registry goes first: gathering it runs the refresh, so the
	// API request metrics gathered after it include this scrape's requests.
	h.serve(w, r, prometheus.Gatherers{reg, h.gatherer})
}

// probe serves one configured target, named by ?target=, in a fresh registry.
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
		http.Error(w, fmt.Sprintf("unknown target %q: not in the configuration", names[0]), http.StatusBadRequest)
		return
	}
	ctx, cancel := h.scrapeContext(r)
	defer cancel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.NewScrapeCollector(ctx, h.ex.api, t))
	h.serve(w, r, reg)
}

// reloadHandler reloads the configuration on POST.
func (h *handlers) reloadHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "this endpoint requires a POST request", http.StatusMethodNotAllowed)
		return
	}
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

// parseQueryStrict parses /probe's query string: malformed escapes and any
// parameter other than target are errors.
func parseQueryStrict(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("malformed query string: %w", err)
	}
	for k := range q {
		if k != "target" {
			return nil, fmt.Errorf("unknown query parameter %q: /probe takes only target", k)
		}
	}
	return q, nil
}
