package collector

import (
	"slices"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

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
	// series holds the label values of each target's series: Retain
	// deletes a removed target's, For collects one target's without
	// looking at the others'.
	series map[string]*targetSeries
}

// targetSeries are the operation and code label values of one target's
// series.
type targetSeries struct {
	requests  map[[2]string]bool // operation, code
	durations map[string]bool    // operation
}

// NewAPIMetrics returns empty API request metrics.
func NewAPIMetrics() *APIMetrics {
	return &APIMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vbs_api_requests_total",
			Help: "HTTP requests to the Huawei Cloud APIs (VBS, CBR, EVS, IAM), by operation and HTTP status code (\"error\" when no response arrived). Every attempt counts, retries included.",
		}, []string{"target", "operation", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vbs_api_request_duration_seconds",
			Help:    "Latency of HTTP requests to the Huawei Cloud APIs (VBS, CBR, EVS, IAM).",
			Buckets: apiDurationBuckets,
		}, []string{"target", "operation"}),
		series: make(map[string]*targetSeries),
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
	ts := m.series[target]
	if ts == nil {
		ts = &targetSeries{requests: make(map[[2]string]bool), durations: make(map[string]bool)}
		m.series[target] = ts
	}
	ts.requests[[2]string{e.Operation, code}] = true
	ts.durations[e.Operation] = true
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
	for t := range m.series {
		if !m.live[t] {
			m.requests.DeletePartialMatch(prometheus.Labels{"target": t})
			m.durations.DeletePartialMatch(prometheus.Labels{"target": t})
			delete(m.series, t)
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
	for i, t := range names {
		ts := m.series[t]
		if ts == nil || slices.Contains(names[:i], t) {
			continue
		}
		// The series exist (observe created them under mu, Retain deletes
		// them with their entry), so these lookups create nothing.
		for k := range ts.requests {
			ch <- m.requests.WithLabelValues(t, k[0], k[1])
		}
		for op := range ts.durations {
			ch <- m.durations.WithLabelValues(t, op).(prometheus.Metric)
		}
	}
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
