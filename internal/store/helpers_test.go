package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/vbs-exporter/vbs_exporter/collector"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// testNow is the fixed clock of the collector tests.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// newSim starts a simulator and a client for it.
func newSim(t testing.TB, pageSize int) (*vbstest.Server, *vbs.Client) {
	t.Helper()
	sim := vbstest.NewServer(vbstest.Options{})
	t.Cleanup(sim.Close)
	o := sim.Options()
	client, err := vbs.New(vbs.Options{
		Region:    "cn-north-4",
		Endpoint:  sim.URL(),
		ProjectID: o.ProjectID,
		Auth:      hwcloud.NewAKSK(o.AccessKey, o.SecretKey, ""),
		PageSize:  pageSize,
		Engine:    hwcloud.EngineOptions{MaxAttempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return sim, client
}

// render gathers the collector and returns the text exposition.
func render(t testing.TB, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

// snapshotCollector exports fixed snapshots.
type snapshotCollector []*store.Snapshot

func (s snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	collector.Describe(ch)
}

func (s snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	for _, snap := range s {
		collector.Collect(snap, ch)
	}
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func at(s string) time.Time {
	ts, err := time.Parse("2006-01-02T15:04:05", s)
	if err != nil {
		panic(err)
	}
	return ts
}
