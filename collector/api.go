package collector

import (
	"slices"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// apiDurationBuckets are the latency buckets of vbs_api_request_duration_seconds.
var apiDurationBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// APIMetrics counts the exporter's requests to the API per target. It lives
// as long as the process: its counters survive config reloads.
type APIMetrics struct {
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec

	// mu orders observations against Retain: a target's series are only
	// created while it is live, and a collection sees both vectors at once.
	mu sync.Mutex
	// live holds the targets named by the last Retain; nil (no Retain yet)
	// accepts every target.
	live map[string]bool
	// seen holds the targets that have series, for Retain to delete.
	seen map[string]bool
}

// NewAPIMetrics returns empty API request metrics.
func NewAPIMetrics() *APIMetrics {
	return &APIMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vbs_api_requests_total",
			Help: "HTTP requests to the VBS and IAM APIs, by operation and HTTP status code (\"error\" when no response arrived). Every attempt counts, retries included.",
		}, []string{"target", "operation", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vbs_api_request_duration_seconds",
			Help:    "Latency of HTTP requests to the VBS and IAM APIs.",
			Buckets: apiDurationBuckets,
		}, []string{"target", "operation"}),
		seen: make(map[string]bool),
	}
}

// Observer returns the function the API client of target calls after every
// HTTP attempt.
func (m *APIMetrics) Observer(target string) func(hwcloud.RequestEvent) {
	return func(e hwcloud.RequestEvent) { m.observe(target, e) }
}

func (m *APIMetrics) observe(target string, e hwcloud.RequestEvent) {
	code := "error"
	if e.StatusCode > 0 {
		code = strconv.Itoa(e.StatusCode)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live != nil && !m.live[target] {
		// A removed target's refresh that ends after the reload: its
		// series are gone and must not come back.
		return
	}
	m.seen[target] = true
	m.requests.WithLabelValues(target, e.Operation, code).Inc()
	m.durations.WithLabelValues(target, e.Operation).Observe(e.Duration.Seconds())
}

// Retain drops the metrics of every target not named: a target removed from
// the configuration stops being exported, and the requests its clients still
// make (a refresh that outlives the reload) are no longer counted.
func (m *APIMetrics) Retain(targets []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.live = make(map[string]bool, len(targets))
	for _, t := range targets {
		m.live[t] = true
	}
	for t := range m.seen {
		if !m.live[t] {
			m.requests.DeletePartialMatch(prometheus.Labels{"target": t})
			m.durations.DeletePartialMatch(prometheus.Labels{"target": t})
			delete(m.seen, t)
		}
	}
}

// Describe sends the API metrics' descriptors.
func (m *APIMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.durations.Describe(ch)
}

// Collect sends the API metrics of every target.
func (m *APIMetrics) Collect(ch chan<- prometheus.Metric) { m.collect(ch, nil) }

// collect sends the API metrics of the named targets (all when names is nil).
func (m *APIMetrics) collect(ch chan<- prometheus.Metric, names []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if names == nil {
		m.requests.Collect(ch)
		m.durations.Collect(ch)
		return
	}
	all := make(chan prometheus.Metric)
	go func() {
		defer close(all)
		m.requests.Collect(all)
		m.durations.Collect(all)
	}()
	for metric := range all {
		if slices.Contains(names, targetOf(metric)) {
			ch <- metric
		}
	}
}

// targetOf returns the value of metric's target label.
func targetOf(metric prometheus.Metric) string {
	var d dto.Metric
	if metric.Write(&d) != nil {
		return ""
	}
	for _, l := range d.GetLabel() {
		if l.GetName() == "target" {
			return l.GetValue()
		}
	}
	return ""
}

// For returns a collector of the API metrics of the named targets only, for
// a scrape that serves those targets.
func (m *APIMetrics) For(targets ...string) prometheus.Collector {
	return apiSubset{m: m, targets: append([]string{}, targets...)} // never nil: nil means every target
}

type apiSubset struct {
	m       *APIMetrics
	targets []string
}

func (s apiSubset) Describe(ch chan<- *prometheus.Desc) { s.m.Describe(ch) }
func (s apiSubset) Collect(ch chan<- prometheus.Metric) { s.m.collect(ch, s.targets) }
