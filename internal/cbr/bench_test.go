package cbr

import (
	"context"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/cbr/cbrtest"
)

// BenchmarkSteadyRefresh measures one steady refresh of a CBR target
// (Inventory, NewJobs from the cursor, Recheck of the run in flight) over
// a 10-policy, 150,150-task history; it reports the requests per refresh.
// Timings on a shared machine are noisy; the request count is not.
func BenchmarkSteadyRefresh(b *testing.B) {
	now := time.Date(2026, 11, 27, 3, 20, 0, 0, time.UTC)
	clk := &clock{t: now}
	sim := newSim(b, cbrtest.Options{}, clk)
	sc := cbrtest.Generate(cbrtest.GenOptions{Policies: 10, DisksPerPolicy: 50, Days: 301, Now: now})
	sim.Load(sc)
	var open []backup.Job
	for _, l := range sc.Logs {
		if s := MapStatus(l.Status); s.Open() {
			open = append(open, backup.Job{ID: l.ID, Status: s, Created: l.Created})
		}
	}
	c := newTestClient(b, sim, clk, nil)
	ctx := context.Background()
	cur := cursorOf(now)
	sim.ResetCounters()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Inventory(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := c.NewJobs(ctx, backup.JobQuery{Cursor: cur}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Recheck(ctx, open); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(sim.TotalRequests())/float64(b.N), "requests/op")
}
