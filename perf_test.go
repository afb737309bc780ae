package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vbs-exporter/vbs_exporter/collector"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// perfDaily makes every generated policy run once a day, so that a history's
// job count is exactly policies x disks x days.
var perfDaily = []vbstest.Policy{{Name: "daily", StartTime: "02:00", Frequency: 1, Enabled: true}}

// perfPrometheusAccept is the Accept header Prometheus sends.
const perfPrometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// perfSimEnv starts TestPerfSimProcess in a child process: its simulator
// holds the benchmark's history, so that the heap measured in this process is
// the exporter's alone.
const perfSimEnv = "VBS_PERF_SIM"

// TestPerfSimProcess is the simulator process of BenchmarkScrapeHTTP; it
// runs only when started by it (perfSimEnv set).
func TestPerfSimProcess(t *testing.T) {
	spec := os.Getenv(perfSimEnv)
	if spec == "" {
		t.Skip("the simulator process of BenchmarkScrapeHTTP; runs only when started by it")
	}
	var policies, disks, days int
	var latency time.Duration
	if _, err := fmt.Sscanf(spec, "%d %d %d %d", &policies, &disks, &days, &latency); err != nil {
		t.Fatalf("%s=%q: %v", perfSimEnv, spec, err)
	}
	sim := vbstest.NewServer(vbstest.Options{MaxLimit: 100})
	sim.Load(vbstest.Generate(vbstest.GenOptions{
		Policies: policies, Disks: disks, Days: days, Seed: 1, Now: time.Now().Add(-time.Hour),
		FailRate: 0.05, TimeoutRate: 0.01, SkipRate: 0.01, Schedules: perfDaily,
	}))
	sim.SetLatency(latency)
	o := sim.Options()
	fmt.Printf("SIM %s %s %s %s\n", sim.URL(), o.ProjectID, o.AccessKey, o.SecretKey)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark closes it
	sim.Close()
}

// perfSim is a simulator in a child process.
type perfSim struct {
	url, project, ak, sk string
}

func startPerfSim(tb testing.TB, policies, disks, days int, latency time.Duration) perfSim {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPerfSimProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d %d %d %d", perfSimEnv, policies, disks, days, int64(latency)))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 5 && f[0] == "SIM" {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return perfSim{url: f[1], project: f[2], ak: f[3], sk: f[4]}
		}
	}
	tb.Fatalf("the simulator process ended without giving its address")
	return perfSim{}
}

// perfServer serves one target named "bench" through the exporter's real
// handlers on a loopback HTTP server; naive walks the whole window on every
// refresh.
func perfServer(tb testing.TB, sim perfSim, naive bool) (*httptest.Server, *store.Target) {
	tb.Helper()
	api := collector.NewAPIMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(api, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ex := newExporter(api, hwcloud.NewAKSKGates(), log.NewNopLogger(), nil)
	client, err := vbs.New(vbs.Options{
		Region: "cn-north-4", Endpoint: sim.url, ProjectID: sim.project,
		Auth: hwcloud.NewAKSK(sim.ak, sim.sk, ""), PageSize: 100, Observer: api.Observer("bench"),
	})
	if err != nil {
		tb.Fatal(err)
	}
	target := store.NewTarget(store.TargetOptions{
		Name: "bench", API: client, Lookback: 31 * 24 * time.Hour, DisableCache: naive,
	})
	ex.targets["bench"] = &builtTarget{target: target}
	ex.order = []string{"bench"}
	h := &handlers{ex: ex, gatherer: reg, logger: log.NewNopLogger(), reload: func() error { return nil },
		timeoutOffset: 500 * time.Millisecond, defaultTimeout: 10 * time.Minute, maxRequests: 40}
	mux, err := h.routes("/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv, target
}

// perfScrape GETs /metrics as Prometheus does (gzip, its Accept header) and
// returns how long the whole answer took and its compressed size.
func perfScrape(tb testing.TB, client *http.Client, url string) (time.Duration, int64) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", perfPrometheusAccept)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "120")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("scrape: HTTP %d, %v", resp.StatusCode, err)
	}
	return took, n
}

func perfCachedJobs(t *store.Target) int {
	n := 0
	if s := t.Last(); s != nil {
		for _, p := range s.Policies {
			n += p.CachedJobs
		}
	}
	return n
}

// BenchmarkScrapeHTTP measures, end to end over HTTP through the real
// handlers, the steady scrape of 150,000 jobs (10 policies x 500 disks x 30
// days, 20 ms API latency) for the cached exporter and the naive full walk,
// side by side, and the heap in use per cached job after a steady scrape.
func BenchmarkScrapeHTTP(b *testing.B) {
	const policies, disks, days = 10, 500, 30
	const latency = 20 * time.Millisecond
	jobs := policies * disks * days
	sim := startPerfSim(b, policies, disks, days, latency)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	var cachedFirst, cachedSteady, refreshOnly, naiveSteady time.Duration
	var size int64
	var heapPerJob float64
	for b.Loop() {
		srv, target := perfServer(b, sim, false)
		cachedFirst, _ = perfScrape(b, client, srv.URL)
		var steady []time.Duration
		for range 5 {
			d, n := perfScrape(b, client, srv.URL)
			steady = append(steady, d)
			size = n
		}
		slices.Sort(steady)
		cachedSteady = steady[len(steady)/2]
		// The same steady refresh without HTTP and rendering, for reference.
		var refreshes []time.Duration
		for range 5 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			start := time.Now()
			target.Refresh(ctx)
			refreshes = append(refreshes, time.Since(start))
			cancel()
		}
		slices.Sort(refreshes)
		refreshOnly = refreshes[len(refreshes)/2]
		if got := perfCachedJobs(target); got != jobs {
			b.Fatalf("cached %d jobs, want %d", got, jobs)
		}
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heapPerJob = float64(ms.HeapInuse) / float64(jobs)
		runtime.KeepAlive(target)
		srv.Close()

		nsrv, _ := perfServer(b, sim, true)
		perfScrape(b, client, nsrv.URL) // the naive walk keeps nothing: every scrape is a first one
		naiveSteady, _ = perfScrape(b, client, nsrv.URL)
		nsrv.Close()
	}
	ratio := float64(naiveSteady) / float64(cachedSteady)
	b.ReportMetric(float64(cachedSteady.Microseconds())/1000, "cached-steady-ms")
	b.ReportMetric(float64(naiveSteady.Microseconds())/1000, "naive-steady-ms")
	b.ReportMetric(ratio, "speedup")
	b.ReportMetric(heapPerJob, "heap-inuse-bytes/job")
	fmt.Printf("\nEnd to end over HTTP (GET /metrics, gzip, %v API latency, page size 100, concurrency 4), %d jobs (%d policies x %d disks x %d days):\n\n",
		latency, jobs, policies, disks, days)
	fmt.Println("| scrape | naive full walk | cached | speed-up |")
	fmt.Println("|---|---:|---:|---:|")
	fmt.Printf("| first | %s | %s | |\n", naiveSteady.Round(time.Millisecond), cachedFirst.Round(time.Millisecond))
	fmt.Printf("| steady (median of 5) | %s | %s | %.0fx |\n", naiveSteady.Round(time.Millisecond), cachedSteady.Round(time.Millisecond), ratio)
	fmt.Printf("| steady refresh alone, no HTTP (median of 5) | | %s | |\n", refreshOnly.Round(time.Millisecond))
	fmt.Printf("\nHeap in use after a steady scrape (whole process, after GC): %.0f bytes per cached job; gzip exposition %d bytes\n", heapPerJob, size)
}

// perfFDs counts this process's open file descriptors.
func perfFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestReloadRebuildsReleaseConnections: 300 reloads that each rebuild a
// target (its page size changes) and scrape it return the goroutines and
// file descriptors to the baseline: the old clients' idle connections close.
func TestReloadRebuildsReleaseConnections(t *testing.T) {
	dir := t.TempDir()
	sim := testkit.SimWithKeyFile(t, dir)
	sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 2, Days: 2, Seed: 1, Now: time.Now().Add(-time.Hour), Schedules: perfDaily}))
	cfg := filepath.Join(dir, "vbs.yml")
	write := func(i int) {
		writeFile(t, cfg, "targets:\n"+testkit.SimTargetYAML("rebuilt", sim, fmt.Sprintf("    page_size: %d\n", 10+i%2)))
	}
	write(0)
	a := newTestApp(t, cfg, testAppOptions{defaultTimeout: 10 * time.Second}).app
	probe := func() {
		rec := httptest.NewRecorder()
		a.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/probe?target=rebuilt", nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `vbs_up{target="rebuilt"} 1`) {
			t.Fatalf("probe: HTTP %d:\n%s", rec.Code, htShort(rec.Body.String()))
		}
	}
	probe()
	time.Sleep(100 * time.Millisecond)
	baseG, baseFD := runtime.NumGoroutine(), perfFDs(t)
	const reloads = 300 // the contract; a leak of one connection per rebuild would be 60 times the tolerance
	for i := 1; i <= reloads; i++ {
		write(i)
		if err := a.reload(); err != nil {
			t.Fatal(err)
		}
		probe()
	}
	// Connections close asynchronously: give the goroutines a moment.
	var g, fds int
	for end := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		g, fds = runtime.NumGoroutine(), perfFDs(t)
		if (g <= baseG+5 && fds <= baseFD+5) || time.Now().After(end) {
			break
		}
	}
	t.Logf("after %d rebuild reloads: goroutines %d (baseline %d), fds %d (baseline %d)", reloads, g, baseG, fds, baseFD)
	if g > baseG+5 || fds > baseFD+5 {
		t.Errorf("after %d rebuild reloads: %d goroutines (baseline %d) and %d fds (baseline %d): the rebuilt targets' connections leak",
			reloads, g, baseG, fds, baseFD)
	}
}
