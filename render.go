package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/vbs-exporter/vbs_exporter/collector"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
)

// One render per refresh, shared.
//
// A scrape's answer is made of metric families in name order, as promhttp
// writes them. Most of them (every vbs_* family of the targets' policies and
// disks) depend only on the targets' snapshots, which keep their Version
// while a refresh changes nothing: those are encoded once per snapshot
// versions, format and compression and then served to every scrape, the bytes
// shared. The rest — vbs_up and vbs_refresh_duration_seconds, which change
// with every refresh, and the exporter's own metrics — are small and encoded
// per scrape. With gzip, each cached family is a gzip member of its own and
// each run of per-scrape families one more: a multi-member gzip stream
// (RFC 1952), which decompresses to what promhttp would have written.

// gzipEncoding is the one compression served from the cache; any other that
// promhttp may negotiate is served by promhttp itself.
const gzipEncoding = "gzip"

// snapKey identifies what a snapshot renders to.
type snapKey struct {
	target  *store.Target
	version uint64
}

// renderCache holds one exposition per route: "" for the telemetry path
// (every target), a target's name for /probe.
type renderCache struct {
	mu      sync.Mutex
	entries map[string]*exposition
	// renders counts the variants rendered, for tests.
	renders atomic.Int64
}

// exposition is what one set of snapshots renders to, per negotiated format
// and compression, each built at most once.
type exposition struct {
	cache *renderCache
	key   []snapKey
	snaps []*store.Snapshot

	mu       sync.Mutex
	variants map[variantKey]*variant
}

type variantKey struct {
	format   expfmt.Format
	encoding string
}

type variant struct {
	once sync.Once
	fams []encodedFamily
	err  error
}

// encodedFamily is one metric family encoded in a variant's format (and, for
// gzip, compressed as a gzip member of its own).
type encodedFamily struct {
	name string
	data []byte
}

func sameKey(a, b []snapKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// get returns the exposition of snaps (of targets, in the same order) for
// route, reusing the cached one while every snapshot keeps its version.
// Entries of targets no longer in current are dropped.
func (c *renderCache) get(route string, targets []*store.Target, snaps []*store.Snapshot, current []*store.Target) *exposition {
	key := make([]snapKey, len(targets))
	for i, t := range targets {
		key[i] = snapKey{target: t, version: snaps[i].Version}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if x := c.entries[route]; x != nil && sameKey(x.key, key) {
		return x
	}
	x := &exposition{cache: c, key: key, snaps: snaps, variants: map[variantKey]*variant{}}
	if c.entries == nil {
		c.entries = map[string]*exposition{}
	}
	c.entries[route] = x
	live := make(map[*store.Target]bool, len(current))
	for _, t := range current {
		live[t] = true
	}
	for r, e := range c.entries {
		for _, k := range e.key {
			if !live[k.target] {
				delete(c.entries, r)
				break
			}
		}
	}
	return x
}

// families returns the cached families in format and encoding, rendering
// them on first use; concurrent callers share the one render.
func (x *exposition) families(format expfmt.Format, encoding string) ([]encodedFamily, error) {
	k := variantKey{format, encoding}
	x.mu.Lock()
	v := x.variants[k]
	if v == nil {
		v = &variant{}
		x.variants[k] = v
	}
	x.mu.Unlock()
	v.once.Do(func() { v.fams, v.err = x.render(format, encoding) })
	return v.fams, v.err
}

// render encodes every family of the snapshots except those the per-scrape
// part serves.
func (x *exposition) render(format expfmt.Format, encoding string) ([]encodedFamily, error) {
	x.cache.renders.Add(1)
	dynamic, err := gatherNames(dynamicSnapshots(x.snaps))
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(snapshotsCollector(x.snaps)); err != nil {
		return nil, fmt.Errorf("rendering the targets' metrics: %w", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("rendering the targets' metrics: %w", err)
	}
	out := make([]encodedFamily, 0, len(mfs))
	var buf bytes.Buffer
	for _, mf := range mfs {
		if dynamic[mf.GetName()] {
			continue
		}
		buf.Reset()
		if err := encodeFamilies(&buf, format, encoding, []*dto.MetricFamily{mf}); err != nil {
			return nil, err
		}
		out = append(out, encodedFamily{name: mf.GetName(), data: bytes.Clone(buf.Bytes())})
	}
	return out, nil
}

// encodeFamilies writes mfs to w in format, as one gzip member when encoding
// is gzip.
func encodeFamilies(w io.Writer, format expfmt.Format, encoding string, mfs []*dto.MetricFamily) error {
	var gz *gzip.Writer
	if encoding == gzipEncoding {
		gz = getGzip(w)
		defer gzipPool.Put(gz)
		w = gz
	}
	enc := expfmt.NewEncoder(w, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("encoding %s: %w", mf.GetName(), err)
		}
	}
	if gz != nil {
		return gz.Close()
	}
	return nil
}

// snapshotsCollector exports snapshots as they are.
type snapshotsCollector []*store.Snapshot

// Describe sends nothing: the families are checked when gathered.
func (snapshotsCollector) Describe(chan<- *prometheus.Desc) {}

func (c snapshotsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c {
		collector.Collect(s, ch)
	}
}

// dynamicSnapshots returns the part of snaps that changes with every
// refresh: the snapshots without their policies (vbs_up and the refresh
// duration).
func dynamicSnapshots(snaps []*store.Snapshot) snapshotsCollector {
	out := make(snapshotsCollector, len(snaps))
	for i, s := range snaps {
		d := *s
		d.Policies = nil
		out[i] = &d
	}
	return out
}

// gatherNames returns the names of the families c exports.
func gatherNames(c prometheus.Collector) (map[string]bool, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	names := make(map[string]bool, len(mfs))
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	return names, err
}

// negotiator runs promhttp's own content negotiation: the format and
// compression a scrape gets are the ones promhttp would choose.
type negotiator struct{ h http.Handler }

func newNegotiator(opts promhttp.HandlerOpts) negotiator {
	empty := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, nil })
	return negotiator{h: promhttp.HandlerFor(empty, opts)}
}

// headers returns the response headers promhttp sets for r: Content-Type,
// Content-Encoding when compressed, Vary.
func (n negotiator) headers(r *http.Request) http.Header {
	w := headerRecorder{h: http.Header{}}
	n.h.ServeHTTP(w, r)
	return w.h
}

type headerRecorder struct{ h http.Header }

func (w headerRecorder) Header() http.Header         { return w.h }
func (w headerRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (w headerRecorder) WriteHeader(int)             {}

// answer is a scrape's body: pieces written in order, the cached ones shared.
type answer [][]byte

// assemble merges the cached families with the per-scrape ones (both sorted
// by name, no name in both) into the body promhttp would write; keep, when
// not nil, selects families by name (promhttp's name[] parameter).
func assemble(format expfmt.Format, encoding string, cached []encodedFamily, dynamic []*dto.MetricFamily, keep map[string]bool) (answer, error) {
	var out answer
	var run []*dto.MetricFamily // per-scrape families not yet encoded
	flush := func(final bool) error {
		if len(run) == 0 && !final {
			return nil
		}
		var buf bytes.Buffer
		var gz *gzip.Writer
		w := io.Writer(&buf)
		if encoding == gzipEncoding {
			gz = getGzip(&buf)
			defer gzipPool.Put(gz)
			w = gz
		}
		enc := expfmt.NewEncoder(w, format)
		for _, mf := range run {
			if err := enc.Encode(mf); err != nil {
				return fmt.Errorf("encoding %s: %w", mf.GetName(), err)
			}
		}
		run = run[:0]
		if closer, ok := enc.(expfmt.Closer); ok && final {
			// OpenMetrics' "# EOF" line.
			if err := closer.Close(); err != nil {
				return err
			}
		}
		if gz != nil {
			if err := gz.Close(); err != nil {
				return err
			}
		}
		if buf.Len() > 0 && (gz == nil || !final || len(out) == 0 || buf.Len() > emptyGzipLen) {
			out = append(out, buf.Bytes())
		}
		return nil
	}
	i, j := 0, 0
	for i < len(cached) || j < len(dynamic) {
		if j == len(dynamic) || (i < len(cached) && cached[i].name < dynamic[j].GetName()) {
			if keep == nil || keep[cached[i].name] {
				if err := flush(false); err != nil {
					return nil, err
				}
				out = append(out, cached[i].data)
			}
			i++
			continue
		}
		if keep == nil || keep[dynamic[j].GetName()] {
			run = append(run, dynamic[j])
		}
		j++
	}
	if err := flush(true); err != nil {
		return nil, err
	}
	return out, nil
}

// gzipPool reuses gzip writers, whose compression state is large.
var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

func getGzip(w io.Writer) *gzip.Writer {
	gz := gzipPool.Get().(*gzip.Writer)
	gz.Reset(w)
	return gz
}

// emptyGzipLen is the size of a gzip member of nothing, which a body that
// already holds members can do without.
var emptyGzipLen = func() int {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	_ = gz.Close()
	return buf.Len()
}()
