package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// perfDaily makes every generated policy run once a day, so that a history's
// job count is exactly policies x disks x days.
var perfDaily = []vbstest.Policy{{Name: "daily", StartTime: "02:00", Frequency: 1, Enabled: true}}

// perfRSS returns the resident set size of process pid in bytes.
func perfRSS(t testing.TB, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// TestSlowClientsDoNotStarveScrapes: 45 connections that request /metrics
// uncompressed and never read do not make a real scrape fail or miss its
// deadline, and raise the binary's RSS by at most 48 MiB at 1,000 disks.
func TestSlowClientsDoNotStarveScrapes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := exporterBin
	dir := t.TempDir()
	sim := testkit.SimWithKeyFile(t, dir)
	sim.Load(vbstest.Generate(vbstest.GenOptions{
		Policies: 2, Disks: 500, Days: 7, Seed: 1, Now: time.Now().Add(-time.Hour),
		FailRate: 0.05, TimeoutRate: 0.01, SkipRate: 0.01, Schedules: perfDaily,
	}))
	cfg := filepath.Join(dir, "vbs.yml")
	e2eWrite(t, cfg, "targets:\n"+testkit.SimTargetYAML("big", sim, "    page_size: 100\n"))
	p := e2eStart(t, bin, "--config.file="+cfg)
	p.waitHealthy(t)
	pid := p.cmd.Process.Pid

	scrape := func() (int, int, time.Duration) {
		req, _ := http.NewRequest(http.MethodGet, p.url("/metrics"), nil)
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
		client := &http.Client{Timeout: 10 * time.Second}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("real scrape: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("real scrape: reading the body: %v", err)
		}
		return resp.StatusCode, len(body), time.Since(start)
	}
	for range 3 {
		if code, _, _ := scrape(); code != http.StatusOK {
			t.Fatalf("warm-up scrape: HTTP %d", code)
		}
	}
	baseline := perfRSS(t, pid)

	const slow = 45
	var conns []net.Conn
	for range slow {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.(*net.TCPConn).SetReadBuffer(4096)
		conns = append(conns, c)
		if _, err := fmt.Fprintf(c, "GET /metrics HTTP/1.1\r\nHost: %s\r\nUser-Agent: slow\r\n\r\n", p.addr); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	peak := baseline
	sample := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			peak = max(peak, perfRSS(t, pid))
		}
	}
	sample(3 * time.Second)
	code, n, took := scrape()
	sample(2 * time.Second)
	rise := peak - baseline
	t.Logf("RSS baseline %.1f MiB, peak with %d non-reading clients %.1f MiB (+%.1f MiB); real scrape: HTTP %d, %d bytes, %v",
		float64(baseline)/(1<<20), slow, float64(peak)/(1<<20), float64(rise)/(1<<20), code, n, took.Round(time.Millisecond))
	if code != http.StatusOK {
		t.Errorf("a real scrape beside %d non-reading clients: HTTP %d, want 200", slow, code)
	}
	if took > 10*time.Second {
		t.Errorf("a real scrape beside %d non-reading clients took %v, past its 10s deadline", slow, took)
	}
	if rise > 48<<20 {
		t.Errorf("RSS rose by %.1f MiB with %d non-reading clients, want at most 48 MiB", float64(rise)/(1<<20), slow)
	}
}
