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

var (
	apiRequestsDesc = prometheus.NewDesc("vbs_api_requests_total",
		"HTTP requests to the VBS and IAM APIs, by operation and HTTP status code (\"error\" when no response arrived). Every attempt counts, retries included.",
		[]string{"target", "operation", "code"}, nil)
	apiDurationDesc = prometheus.NewDesc("vbs_api_request_duration_seconds",
		"Latency of HTTP requests to the VBS and IAM APIs.",
		[]string{"target", "operation"}, nil)
)

type apiRequestKey struct{ target, operation, code string }
type apiDurationKey struct{ target, operation string }

// APIMetrics counts the exporter's requests to the API per target. It lives
// as long as the process: its counters survive config reloads.
type APIMetrics struct {
	mu        sync.Mutex
	requests  map[apiRequestKey]uint64
	durations map[apiDurationKey]*histogramCounts
	// live holds the targets named by the last Retain; nil (no Retain yet)
	// accepts every target.
	live map[string]bool
}

type histogramCounts struct {
	counts []uint64 // cumulative per apiDurationBuckets
	count  uint64
	sum    float64
}

// NewAPIMetrics returns empty API request metrics.
func NewAPIMetrics() *APIMetrics {
	return &APIMetrics{
		requests:  make(map[apiRequestKey]uint64),
		durations: make(map[apiDurationKey]*histogramCounts),
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
	m.requests[apiRequestKey{target, e.Operation, code}]++
	dk := apiDurationKey{target, e.Operation}
	h := m.durations[dk]
	if h == nil {
		h = &histogramCounts{counts: make([]uint64, len(apiDurationBuckets))}
		m.durations[dk] = h
	}
	v := e.Duration.Seconds()
	for i, ub := range apiDurationBuckets {
		if v <= ub {
			h.counts[i]++
		}
	}
	h.count++
	h.sum += v
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
	for k := range m.requests {
		if !m.live[k.target] {
			delete(m.requests, k)
		}
	}
	for k := range m.durations {
		if !m.live[k.target] {
			delete(m.durations, k)
		}
	}
}

// Describe sends the API metrics' descriptors.
func (m *APIMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- apiRequestsDesc
	ch <- apiDurationDesc
}

// Collect sends the API metrics of every target.
func (m *APIMetrics) Collect(ch chan<- prometheus.Metric) { m.collect(ch, nil) }

// collect sends the API metrics of the named targets (all when names is nil).
func (m *APIMetrics) collect(ch chan<- prometheus.Metric, names []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	want := func(t string) bool { return names == nil || slices.Contains(names, t) }
	for k, v := range m.requests {
		if want(k.target) {
			ch <- prometheus.MustNewConstMetric(apiRequestsDesc, prometheus.CounterValue, float64(v), k.target, k.operation, k.code)
		}
	}
	for k, h := range m.durations {
		if !want(k.target) {
			continue
		}
		buckets := make(map[float64]uint64, len(apiDurationBuckets))
		for i, ub := range apiDurationBuckets {
			buckets[ub] = h.counts[i]
		}
		ch <- prometheus.MustNewConstHistogram(apiDurationDesc, h.count, h.sum, buckets, k.target, k.operation)
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
