package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// benchSize is one history size of the scrape benchmark.
type benchSize struct {
	name                  string
	policies, disks, days int
}

var benchSizes = []benchSize{
	{"1x100x7", 1, 100, 7},
	{"10x500x30", 10, 500, 30},
}

// benchLatency is the simulated API latency per request.
const benchLatency = 20 * time.Millisecond

// dailyOnly makes every policy run once a day, so a size's job count is
// exactly policies x disks x days.
var dailyOnly = []vbstest.Policy{{Name: "daily", StartTime: "02:00", Frequency: 1, Enabled: true}}

type scrapeResult struct {
	wall     time.Duration
	requests int
	jobs     int
}

// BenchmarkScrape measures, for each size, the first and the steady-state
// scrape of the cached exporter and of the naive full walk, against the
// simulator with 20 ms latency per request, and prints them side by side.
func BenchmarkScrape(b *testing.B) {
	results := map[string]scrapeResult{}
	for _, size := range benchSizes {
		sc := vbstest.Generate(vbstest.GenOptions{
			Policies: size.policies, Disks: size.disks, Days: size.days, Seed: 1, Now: testNow,
			FailRate: 0.05, TimeoutRate: 0.01, SkipRate: 0.01, Schedules: dailyOnly,
		})
		for _, mode := range []string{"cached", "naive"} {
			for _, phase := range []string{"first", "steady"} {
				name := fmt.Sprintf("size=%s/mode=%s/phase=%s", size.name, mode, phase)
				b.Run(name, func(b *testing.B) {
					var last scrapeResult
					for b.Loop() {
						b.StopTimer()
						sim, client := newSim(b, 100)
						sim.Load(sc)
						target := store.NewTarget(store.TargetOptions{
							Name: "bench", API: client, Now: func() time.Time { return testNow },
							Lookback: time.Duration(size.days+1) * 24 * time.Hour, DisableCache: mode == "naive",
						})
						sim.SetLatency(benchLatency)
						if phase == "steady" {
							target.Refresh(ctxTimeout(b, 10*time.Minute))
						}
						sim.ResetCounters()
						b.StartTimer()
						start := time.Now()
						snap := target.Refresh(ctxTimeout(b, 10*time.Minute))
						last = scrapeResult{wall: time.Since(start), requests: sim.Requests(""), jobs: sc.JobCount()}
						b.StopTimer()
						for _, p := range snap.Policies {
							if !p.RefreshSuccess || p.CachedJobs != size.disks*size.days {
								b.Fatalf("policy %s: success=%v jobs=%d, want %d", p.Policy.Name, p.RefreshSuccess, p.CachedJobs, size.disks*size.days)
							}
						}
						sim.Close()
						b.StartTimer()
					}
					b.ReportMetric(float64(last.requests), "requests/scrape")
					b.ReportMetric(float64(last.wall.Milliseconds()), "ms/scrape")
					results[name] = last
				})
			}
		}
	}
	if len(results) == 0 {
		return
	}
	var t strings.Builder
	fmt.Fprintf(&t, "\nScrape cost with %v API latency per request (page size 100, concurrency 4):\n\n", benchLatency)
	fmt.Fprintln(&t, "| history | jobs | naive first | naive steady | cached first | cached steady | steady speed-up |")
	fmt.Fprintln(&t, "|---|---:|---:|---:|---:|---:|---:|")
	for _, size := range benchSizes {
		r := func(mode, phase string) scrapeResult {
			return results[fmt.Sprintf("size=%s/mode=%s/phase=%s", size.name, mode, phase)]
		}
		cell := func(x scrapeResult) string {
			return fmt.Sprintf("%s, %d req", x.wall.Round(time.Millisecond), x.requests)
		}
		ns, cs := r("naive", "steady"), r("cached", "steady")
		speedup := "n/a"
		if cs.wall > 0 {
			speedup = fmt.Sprintf("%.0fx", float64(ns.wall)/float64(cs.wall))
		}
		fmt.Fprintf(&t, "| %d policies x %d disks x %d days | %d | %s | %s | %s | %s | %s |\n",
			size.policies, size.disks, size.days, r("cached", "first").jobs,
			cell(r("naive", "first")), cell(ns), cell(r("cached", "first")), cell(cs), speedup)
	}
	fmt.Fprint(os.Stdout, t.String())
}

// longOpenLatency is the simulated API latency of BenchmarkScrapeLongOpenJob.
const longOpenLatency = 40 * time.Millisecond

// BenchmarkScrapeLongOpenJob measures the steady refresh of one policy with
// 1,000 disks backed up daily (7,000 jobs in its 7-day window) and one job
// RUNNING for 6 days, at 40 ms simulated latency per request (issue 9.2):
// task requests (the reliable number) and wall time (noisy on a shared CPU).
func BenchmarkScrapeLongOpenJob(b *testing.B) {
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 1000, Days: 8, Seed: 9, Now: testNow, Schedules: dailyOnly})
	pid := sc.Policies[0].ID
	open := ""
	for _, j := range sc.Jobs[pid] {
		if age := testNow.Sub(j.CreatedAt); age > 6*24*time.Hour-12*time.Hour && age <= 6*24*time.Hour+12*time.Hour {
			open = j.JobID
			break
		}
	}
	sim, client := newSim(b, 100)
	sim.Load(sc)
	if err := sim.UpdateJob(pid, open, func(j *vbstest.Job) { j.Status = "RUNNING"; j.FinishedAt = time.Time{} }); err != nil {
		b.Fatal(err)
	}
	target := store.NewTarget(store.TargetOptions{Name: "bench", API: client, Now: func() time.Time { return testNow }})
	if snap := target.Refresh(ctxTimeout(b, 10*time.Minute)); snap.Policies[0].CachedJobs != 7000 {
		b.Fatalf("%d jobs cached, want 7000", snap.Policies[0].CachedJobs)
	}
	sim.SetLatency(longOpenLatency)
	var requests int
	var wall time.Duration
	for b.Loop() {
		sim.ResetCounters()
		start := time.Now()
		snap := target.Refresh(ctxTimeout(b, 10*time.Minute))
		wall = time.Since(start)
		requests = sim.Requests(vbstest.OpListTasks)
		if p := snap.Policies[0]; !p.RefreshSuccess || p.CachedJobs != 7000 {
			b.Fatalf("success=%v cached=%d", p.RefreshSuccess, p.CachedJobs)
		}
	}
	b.ReportMetric(float64(requests), "task-requests/scrape")
	b.ReportMetric(float64(wall.Milliseconds()), "ms/scrape")
	fmt.Fprintf(os.Stdout, "\nSteady refresh, 7,000-job policy with a job open for 6 days, %v latency: %d task requests, %v\n",
		longOpenLatency, requests, wall.Round(time.Millisecond))
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkCacheMemory measures the heap the job cache holds per job, after
// runtime.GC, for 150,000 jobs (10 policies x 500 disks x 30 days).
func BenchmarkCacheMemory(b *testing.B) {
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 10, Disks: 500, Days: 30, Seed: 1, Now: testNow,
		FailRate: 0.05, TimeoutRate: 0.01, SkipRate: 0.01, Schedules: dailyOnly})
	api := newMemSource(sc, 100)
	var perJob float64
	for b.Loop() {
		before := heapAlloc()
		target := store.NewTarget(store.TargetOptions{Name: "bench", API: api, Now: func() time.Time { return testNow }, Lookback: 31 * 24 * time.Hour})
		snap := target.Refresh(context.Background())
		after := heapAlloc()
		jobs := 0
		for _, p := range snap.Policies {
			jobs += p.CachedJobs
		}
		if jobs != sc.JobCount() {
			b.Fatalf("cached %d jobs, want %d", jobs, sc.JobCount())
		}
		perJob = float64(after-before) / float64(jobs)
		runtime.KeepAlive(target)
	}
	b.ReportMetric(perJob, "heap-bytes/job")
	fmt.Fprintf(os.Stdout, "\nCache heap: %.1f bytes per cached job (150,000 jobs, after runtime.GC, derived per-disk stats included)\n", perJob)
}

// BenchmarkRender measures rendering /metrics for 5,000 disks (10 policies x
// 500 disks, 30 days of history) from a refreshed target.
func BenchmarkRender(b *testing.B) {
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 10, Disks: 500, Days: 30, Seed: 1, Now: testNow,
		FailRate: 0.05, TimeoutRate: 0.01, SkipRate: 0.01, Schedules: dailyOnly})
	target := store.NewTarget(store.TargetOptions{Name: "bench", API: newMemSource(sc, 100), Now: func() time.Time { return testNow }, Lookback: 31 * 24 * time.Hour})
	snap := target.Refresh(context.Background())
	var size int
	var series int
	start := time.Now()
	n := 0
	for b.Loop() {
		reg := prometheus.NewRegistry()
		reg.MustRegister(snapshotCollector{snap})
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
		series = 0
		for _, mf := range mfs {
			series += len(mf.Metric)
			if err := enc.Encode(mf); err != nil {
				b.Fatal(err)
			}
		}
		size = buf.Len()
		n++
	}
	per := time.Since(start) / time.Duration(n)
	b.ReportMetric(float64(size), "bytes/render")
	b.ReportMetric(float64(series), "series")
	fmt.Fprintf(os.Stdout, "\nRender: %v and %d bytes per /metrics for 5,000 disks (%d series)\n", per.Round(10*time.Microsecond), size, series)
}
