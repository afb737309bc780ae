package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vbs-exporter/vbs_exporter/internal/cbr/cbrtest"
	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// These tests run the binary (built once, in TestMain) as a user would:
// against a simulator in this process, with a config file and AK/SK auth.

// e2eClient talks to the exporter without keeping connections (or their
// goroutines) around between requests.
var e2eClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}

func TestE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end tests build and run the binary; skipped with -short")
	}
	bin := exporterBin
	t.Run("Metrics", func(t *testing.T) { t.Parallel(); e2eMetrics(t, bin) })
	t.Run("ConfigCheck", func(t *testing.T) { t.Parallel(); e2eConfigCheck(t, bin) })
	t.Run("Reload", func(t *testing.T) { t.Parallel(); e2eReload(t, bin) })
	t.Run("BadFlags", func(t *testing.T) { t.Parallel(); e2eBadFlags(t, bin) })
	t.Run("Demo", func(t *testing.T) { t.Parallel(); e2eDemo(t, bin) })
	t.Run("DemoLoopback", func(t *testing.T) { t.Parallel(); e2eDemoLoopback(t, bin) })
	t.Run("LogKeyOrder", func(t *testing.T) { t.Parallel(); e2eLogKeyOrder(t, bin) })
}

// e2eProc is a running exporter.
type e2eProc struct {
	cmd    *exec.Cmd
	addr   string // 127.0.0.1:port
	stdout testkit.SyncBuffer
	lines  chan string // stdout, line by line
	stderr testkit.SyncBuffer
	done   chan struct{}
	err    error // set when done is closed
}

// e2eFreeAddr returns a loopback address with a port that was free a moment ago.
func e2eFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// e2eStart starts the exporter listening on a free loopback port; it is
// stopped (SIGTERM, then SIGKILL) when the test ends.
func e2eStart(t *testing.T, bin string, args ...string) *e2eProc {
	t.Helper()
	addr := e2eFreeAddr(t)
	return e2eStartAt(t, bin, addr, append([]string{"--web.listen-address=" + addr, "--log.level=debug"}, args...)...)
}

// e2eStartAt starts the exporter with exactly args; addr is where it is
// expected to listen.
func e2eStartAt(t *testing.T, bin, addr string, args ...string) *e2eProc {
	t.Helper()
	p := &e2eProc{addr: addr, lines: make(chan string, 100), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = t.TempDir() // relative paths must not depend on the working directory
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			fmt.Fprintln(&p.stdout, sc.Text())
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
	}()
	go func() {
		<-scanned
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				t.Errorf("the exporter did not stop on SIGTERM")
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("exporter stdout:\n%s\nexporter stderr:\n%s", p.stdout.String(), p.stderr.String())
		}
	})
	return p
}

// url returns the exporter's URL for path.
func (p *e2eProc) url(path string) string { return "http://" + p.addr + path }

// waitHealthy waits until /-/healthy answers 200.
func (p *e2eProc) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("the exporter exited before serving: %v\nstderr:\n%s", p.err, p.stderr.String())
		default:
		}
		resp, err := e2eClient.Get(p.url("/-/healthy"))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(body) == "Healthy\n" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exporter is not healthy after 30s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// e2eGet GETs url and returns the status and body.
func e2eGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := e2eClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// e2eScrape GETs url, requires 200 and text format, checks that no sample
// carries a timestamp and returns the body and its samples.
func e2eScrape(t *testing.T, url string) (string, testkit.Metrics) {
	t.Helper()
	code, body := e2eGet(t, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d\n%s", url, code, body)
	}
	m := testkit.ParseMetrics(t, body)
	for name, mf := range m {
		for _, s := range mf.Metric {
			if s.TimestampMs != nil {
				t.Errorf("%s has an explicit timestamp", name)
			}
		}
	}
	return body, m
}

// e2ePromtool runs `promtool check metrics` on a scrape. Without promtool
// the lint is skipped, saying so, on a developer machine, and fails in CI
// (CI set, e.g. CI=true; .ci/run installs it). `make test` lints a scrape
// anyway through scripts/check-metrics.sh, which builds a pinned promtool.
func e2ePromtool(t *testing.T, what, body string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		msg := fmt.Sprintf("SKIPPED promtool check metrics on %s: promtool is not on PATH (apt-get install --no-install-recommends prometheus, or PATH=\"$(dirname \"$(scripts/tool.sh --path promtool)\"):$PATH\")", what)
		if os.Getenv("CI") != "" { // as e2e.requireTool: CI must not skip
			t.Error(msg)
		} else {
			t.Log(msg)
		}
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics on %s: %v\n%s", what, err, out)
	}
}

// e2eRun runs the binary to completion and returns its exit code and output.
func e2eRun(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		code = exit.ExitCode()
	default:
		t.Fatalf("running %s %q: %v (did it serve instead of exiting?)\n%s", bin, args, err, e.String())
	}
	return code, o.String(), e.String()
}

func e2eWrite(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func e2eMetrics(t *testing.T, bin string) {
	dir := t.TempDir()
	sim := testkit.SimWithKeyFile(t, dir)
	now := time.Now().UTC().Truncate(time.Second)
	sc := vbstest.Generate(vbstest.GenOptions{
		Policies: 4, Disks: 3, Days: 3, Now: now, Seed: 7,
		FailRate: 0.1, TimeoutRate: 0.05, SkipRate: 0.05, RunningLast: true,
	})
	sim.Load(sc)
	cfg := filepath.Join(dir, "vbs.yml")
	e2eWrite(t, cfg, "targets:\n"+testkit.SimTargetYAML("e2e", sim, ""))

	p := e2eStart(t, bin, "--config.file="+cfg)
	p.waitHealthy(t)
	body, m := e2eScrape(t, p.url("/metrics"))

	m.Expect(t, 1, "vbs_up", "target", "e2e")
	m.Expect(t, 1, "vbs_exporter_config_last_reload_successful")
	if mf := m["vbs_exporter_build_info"]; mf == nil || len(mf.Metric) != 1 {
		t.Errorf("vbs_exporter_build_info: %v, want one sample", mf)
	} else {
		s := m.Series("vbs_exporter_build_info")[0]
		if s["version"] != e2eVersion || mf.Metric[0].GetGauge().GetValue() != 1 {
			t.Errorf("vbs_exporter_build_info%v = %v, want version %q and 1", s, mf.Metric[0].GetGauge().GetValue(), e2eVersion)
		}
	}

	// Every job Generate planted is in the default lookback window (3 days
	// of history, a window of at least 7): per policy and status, the
	// exporter reports exactly the planted jobs.
	planted := map[string]int{}
	resources := 0
	for _, pol := range sc.Policies {
		pl := []string{"target", "e2e", "policy_id", pol.ID, "policy_name", pol.Name}
		m.Expect(t, 1, "vbs_policy_enabled", pl...)
		m.Expect(t, 3, "vbs_policy_resources", pl...)
		m.Expect(t, 1, "vbs_policy_refresh_success", pl...)
		jobs := sc.Jobs[pol.ID]
		byStatus := map[string]int{}
		for _, j := range jobs {
			byStatus[j.Status]++
			planted[j.Status]++
		}
		for _, status := range []string{"RUNNING", "WAITING", "EXECUTE_SUCCESS", "EXECUTE_FAIL", "EXECUTE_TIMEOUT", "SKIP", "UNKNOWN"} {
			m.Expect(t, float64(byStatus[status]), "vbs_policy_jobs", append(slices.Clone(pl), "status", status)...)
		}
		newest := slices.MaxFunc(jobs, func(a, b vbstest.Job) int { return a.CreatedAt.Compare(b.CreatedAt) })
		m.Expect(t, float64(newest.CreatedAt.Unix()), "vbs_policy_last_job_timestamp_seconds", pl...)

		// Each disk's last success is its newest successful job's finished_at.
		lastOK := map[string]vbstest.Job{}
		for _, j := range jobs {
			if j.Status != vbstest.StatusExecuteSuccess {
				continue
			}
			if prev, ok := lastOK[j.ResourceID]; !ok || j.CreatedAt.After(prev.CreatedAt) {
				lastOK[j.ResourceID] = j
			}
		}
		for res, j := range lastOK {
			rl := append(slices.Clone(pl), "resource_id", res, "resource_type", "volume")
			m.Expect(t, float64(j.FinishedAt.UnixMilli())/1000, "vbs_resource_last_success_timestamp_seconds", rl...)
			m.Expect(t, float64(j.FinishedAt.Sub(j.CreatedAt).Milliseconds())/1000, "vbs_resource_last_success_duration_seconds", rl...)
		}
		resources += len(lastOK)
	}
	if n := len(m.Series("vbs_resource_last_success_timestamp_seconds")); n != resources {
		t.Errorf("vbs_resource_last_success_timestamp_seconds has %d series, want %d", n, resources)
	}
	// The scenario is worth testing: it has every finished status.
	finished := planted["EXECUTE_SUCCESS"] + planted["EXECUTE_FAIL"] + planted["EXECUTE_TIMEOUT"] + planted["SKIP"]
	for status, rate := range map[string]float64{"EXECUTE_FAIL": 0.1, "EXECUTE_TIMEOUT": 0.05, "SKIP": 0.05} {
		if want := int(math.Round(float64(finished) * rate)); planted[status] != want || want == 0 {
			t.Errorf("the scenario has %d %s jobs, want %d > 0", planted[status], status, want)
		}
	}
	// One request per operation at least, all answered 200.
	for _, s := range m.Series("vbs_api_requests_total") {
		if s["code"] != "200" || s["target"] != "e2e" {
			t.Errorf("unexpected API request series %v", s)
		}
	}
	m.Expect(t, 1, "vbs_api_requests_total", "target", "e2e", "operation", "list_policies", "code", "200")
	m.Expect(t, float64(sim.Requests(vbstest.OpListTasks)), "vbs_api_requests_total", "target", "e2e", "operation", "list_tasks", "code", "200")
	for _, rec := range sim.RequestLog("") {
		if rec.Auth != "aksk" {
			t.Errorf("request %s %s authenticated with %q, want AK/SK", rec.Method, rec.Path, rec.Auth)
		}
	}
	e2ePromtool(t, "/metrics", body)

	probe, pm := e2eScrape(t, p.url("/probe?target=e2e"))
	pm.Expect(t, 1, "vbs_up", "target", "e2e")
	if pm["vbs_exporter_build_info"] != nil || pm["go_goroutines"] != nil {
		t.Errorf("/probe shows the exporter's own metrics")
	}
	e2ePromtool(t, "/probe", probe)
	if code, _ := e2eGet(t, p.url("/probe?target=nope")); code != http.StatusBadRequest {
		t.Errorf("/probe?target=nope: status %d, want 400", code)
	}
	// The secret key never shows, neither in /config nor in the log.
	_, cfgPage := e2eGet(t, p.url("/config"))
	if strings.Contains(cfgPage, sim.Options().SecretKey) || !strings.Contains(cfgPage, "secret_key_file: secrets/sk") {
		t.Errorf("/config:\n%s", cfgPage)
	}
	if strings.Contains(p.stderr.String(), sim.Options().SecretKey) {
		t.Errorf("the log shows the secret key")
	}
}

func e2eConfigCheck(t *testing.T, bin string) {
	dir := t.TempDir()
	sim := testkit.SimWithKeyFile(t, dir)
	valid := filepath.Join(dir, "valid.yml")
	e2eWrite(t, valid, "targets:\n"+testkit.SimTargetYAML("e2e", sim, ""))
	code, stdout, stderr := e2eRun(t, bin, "--config.check", "--config.file="+valid)
	if code != 0 || stdout != valid+": configuration is valid\n" || stderr != "" {
		t.Errorf("--config.check on a valid file: exit %d, stdout %q, stderr %q; want 0 and %q", code, stdout, stderr, valid+": configuration is valid\n")
	}

	invalid := filepath.Join(dir, "invalid.yml")
	text := "targets:\n" + testkit.SimTargetYAML("e2e", sim, "    lookbak: 7d\n    page_size: 0\n")
	e2eWrite(t, invalid, text)
	lines := strings.Split(text, "\n")
	lookbak := slices.Index(lines, "    lookbak: 7d") + 1
	pageSize := slices.Index(lines, "    page_size: 0") + 1
	want := fmt.Sprintf("%s:%d: target \"e2e\": unknown field \"lookbak\"\n%s:%d: target \"e2e\": field page_size: must be between 1 and 1000, got 0\n",
		invalid, lookbak, invalid, pageSize)
	code, stdout, stderr = e2eRun(t, bin, "--config.check", "--config.file="+invalid)
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("--config.check on an invalid file: exit %d, stdout %q, stderr\n%q\nwant 1 and\n%q", code, stdout, stderr, want)
	}

	// An unreadable secret file is an error of the check too.
	noSecret := filepath.Join(dir, "nosecret.yml")
	text = strings.Replace("targets:\n"+testkit.SimTargetYAML("e2e", sim, ""), "secrets/sk", "secrets/missing", 1)
	e2eWrite(t, noSecret, text)
	code, _, stderr = e2eRun(t, bin, "--config.check", "--config.file="+noSecret)
	line := slices.Index(strings.Split(text, "\n"), "      secret_key_file: secrets/missing") + 1
	// The path is not quoted (a secret pasted into the field would leak); the
	// line names the value.
	want = fmt.Sprintf("%s:%d: target \"e2e\": field auth.secret_key_file: cannot read secret file: no such file or directory\n", noSecret, line)
	if code != 1 || stderr != want {
		t.Errorf("--config.check with a missing secret file: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}

	// A short lookback is a warning: printed, and the file is still valid.
	short := filepath.Join(dir, "short.yml")
	text = "targets:\n" + testkit.SimTargetYAML("e2e", sim, "    lookback: 1d\n")
	e2eWrite(t, short, text)
	line = slices.Index(strings.Split(text, "\n"), "    lookback: 1d") + 1
	want = fmt.Sprintf("warning: %s:%d: target \"e2e\": field lookback: 1d is shorter than 2d, twice the interval of a daily schedule: a daily policy's last run can fall out of it and look missing\n", short, line)
	code, stdout, stderr = e2eRun(t, bin, "--config.check", "--config.file="+short)
	if code != 0 || stdout != short+": configuration is valid\n" || stderr != want {
		t.Errorf("--config.check with a short lookback: exit %d, stdout %q, stderr %q; want 0 and %q", code, stdout, stderr, want)
	}

	// A secret that looks like YAML is not echoed.
	yamlSecret := filepath.Join(dir, "yamlsecret.yml")
	text = strings.Replace("targets:\n"+testkit.SimTargetYAML("e2e", sim, ""), "secret_key_file: secrets/sk", "secret_key: *Yaml-Like-Secret-42", 1)
	e2eWrite(t, yamlSecret, text)
	line = slices.Index(strings.Split(text, "\n"), "      secret_key: *Yaml-Like-Secret-42") + 1
	want = fmt.Sprintf("%s:%d: field auth.secret_key: invalid YAML (details not shown: the line holds a secret)\n", yamlSecret, line)
	code, _, stderr = e2eRun(t, bin, "--config.check", "--config.file="+yamlSecret)
	if code != 1 || stderr != want || strings.Contains(stderr, "Yaml-Like-Secret") {
		t.Errorf("--config.check with a YAML-like secret: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}

	missing := filepath.Join(dir, "missing.yml")
	code, _, stderr = e2eRun(t, bin, "--config.check", "--config.file="+missing)
	if want := "config file " + missing + " does not exist: start from examples/vbs.yml (an annotated example in the vbs_exporter sources) " +
		"and point --config.file at it, or try --demo to run against a simulated account without any configuration\n"; code != 1 || stderr != want {
		t.Errorf("--config.check on a missing file: exit %d, stderr %q, want 1 and %q", code, stderr, want)
	}
	if n := sim.Requests(""); n != 0 {
		t.Errorf("--config.check made %d API requests, want none", n)
	}
}

func e2eReload(t *testing.T, bin string) {
	dir := t.TempDir()
	sim := testkit.SimWithKeyFile(t, dir)
	sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 2, Disks: 2, Days: 2, Now: time.Now().UTC().Truncate(time.Second), Seed: 11}))
	cfg := filepath.Join(dir, "vbs.yml")
	e2eWrite(t, cfg, "targets:\n"+testkit.SimTargetYAML("one", sim, ""))
	p := e2eStart(t, bin, "--config.file="+cfg)
	p.waitHealthy(t)
	_, m := e2eScrape(t, p.url("/metrics"))
	m.Expect(t, 1, "vbs_up", "target", "one")
	if _, ok := m.Value("vbs_up", "target", "two"); ok {
		t.Fatal("target two is testkit.Metrics before it is configured")
	}

	// scrapeUntil scrapes until ok holds or 15s passed.
	scrapeUntil := func(what string, ok func(testkit.Metrics) bool) testkit.Metrics {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, m := e2eScrape(t, p.url("/metrics"))
			if ok(m) {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not seen within 15s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// SIGHUP picks up a new target.
	e2eWrite(t, cfg, "targets:\n"+testkit.SimTargetYAML("one", sim, "")+testkit.SimTargetYAML("two", sim, ""))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	m = scrapeUntil("target two after SIGHUP", func(m testkit.Metrics) bool { _, ok := m.Value("vbs_up", "target", "two"); return ok })
	m.Expect(t, 1, "vbs_up", "target", "one")
	m.Expect(t, 1, "vbs_up", "target", "two")
	m.Expect(t, 1, "vbs_exporter_config_last_reload_successful")

	// SIGHUP with a broken file keeps the running config.
	e2eWrite(t, cfg, "targets:\n"+testkit.SimTargetYAML("one", sim, "    concurrency: 0\n"))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	m = scrapeUntil("the failed reload", func(m testkit.Metrics) bool {
		v, ok := m.Value("vbs_exporter_config_last_reload_successful")
		return ok && v == 0
	})
	m.Expect(t, 1, "vbs_up", "target", "one")
	m.Expect(t, 1, "vbs_up", "target", "two")
	if !strings.Contains(p.stderr.String(), "field concurrency: must be between 1 and 64, got 0") {
		t.Errorf("the log does not say why the reload failed")
	}
	select {
	case <-p.done:
		t.Fatalf("the exporter exited: %v", p.err)
	default:
	}

	// POST /-/reload over HTTP, back to one target.
	e2eWrite(t, cfg, "targets:\n"+testkit.SimTargetYAML("one", sim, ""))
	resp, err := e2eClient.Post(p.url("/-/reload"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "configuration reloaded\n" {
		t.Errorf("POST /-/reload: status %d body %q", resp.StatusCode, body)
	}
	_, m = e2eScrape(t, p.url("/metrics"))
	m.Expect(t, 1, "vbs_exporter_config_last_reload_successful")
	if _, ok := m.Value("vbs_up", "target", "two"); ok {
		t.Errorf("target two is still testkit.Metrics after it was removed")
	}
}

func e2eBadFlags(t *testing.T, bin string) {
	code, stdout, stderr := e2eRun(t, bin, "--no-such-flag")
	if want := "vbs_exporter: error: unknown long flag '--no-such-flag', try --help\n"; code != 2 || stdout != "" || stderr != want {
		t.Errorf("--no-such-flag: exit %d, stdout %q, stderr %q; want 2 and %q", code, stdout, stderr, want)
	}
	code, stdout, stderr = e2eRun(t, bin, "--log.format=xml")
	if want := "vbs_exporter: error: enum value must be one of logfmt,json, got 'xml', try --help\n"; code != 2 || stdout != "" || stderr != want {
		t.Errorf("--log.format=xml: exit %d, stdout %q, stderr %q; want 2 and %q", code, stdout, stderr, want)
	}
	code, _, stderr = e2eRun(t, bin, "--web.max-requests=many")
	if code != 2 || !strings.HasPrefix(stderr, "vbs_exporter: error: ") || !strings.HasSuffix(stderr, ", try --help\n") {
		t.Errorf("--web.max-requests=many: exit %d, stderr %q; want 2", code, stderr)
	}
	// --help and --version print on stdout, so that `| head` and `| grep` work.
	code, stdout, stderr = e2eRun(t, bin, "--version")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "vbs_exporter, version "+e2eVersion+" ") {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want 0 and \"vbs_exporter, version %s ...\" on stdout", code, stdout, stderr, e2eVersion)
	}
	code, stdout, stderr = e2eRun(t, bin, "--help")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "usage: vbs_exporter [<flags>]\n") || !strings.Contains(stdout, "web.systemd-socket") {
		t.Errorf("--help: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", code, stdout, stderr)
	}
}

// e2eDemoLoopback: --demo without --web.listen-address listens on
// 127.0.0.1:10097 only.
func e2eDemoLoopback(t *testing.T, bin string) {
	const addr = "127.0.0.1:10097"
	if l, err := net.Listen("tcp", addr); err != nil {
		t.Skipf("SKIPPED: the demo's default address %s is taken on this machine (%v); the loopback default is still covered by TestDemoListensOnLoopbackUnlessTold", addr, err)
	} else {
		l.Close()
	}
	p := e2eStartAt(t, bin, addr, "--demo")
	select {
	case line := <-p.lines:
		if want := "vbs_exporter demo: open http://" + addr + "/ (metrics at http://" + addr + "/metrics)"; line != want {
			t.Errorf("the demo printed %q, want %q", line, want)
		}
	case <-p.done:
		t.Fatalf("the demo exited: %v\n%s", p.err, p.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("the demo printed no URL within 30s")
	}
	p.waitHealthy(t)
	if !strings.Contains(p.stderr.String(), `msg="Listening on" address=`+addr+"\n") {
		t.Errorf("the demo's log does not say it listens on %s only:\n%s", addr, p.stderr.String())
	}
}

// e2eLogKeyOrder: every line the binary logs, its own and the exporter
// toolkit's, starts with ts, level, caller, msg, in both formats; at debug
// each API request is a line.
func e2eLogKeyOrder(t *testing.T, bin string) {
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			sim := testkit.SimWithKeyFile(t, dir)
			sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 1, Days: 1, Now: time.Now().UTC().Truncate(time.Second), Seed: 3}))
			cfg := filepath.Join(dir, "vbs.yml")
			e2eWrite(t, cfg, "targets:\n"+testkit.SimTargetYAML("logs", sim, ""))
			p := e2eStart(t, bin, "--config.file="+cfg, "--log.format="+format)
			p.waitHealthy(t)
			e2eScrape(t, p.url("/metrics"))
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			<-p.done
			lines := testkit.ParseLogLines(t, format, p.stderr.String())
			testkit.CheckLogKeyOrder(t, lines)
			seen := map[string]int{}
			for _, l := range lines {
				seen[l.Vals["msg"]]++
				if l.Vals["msg"] == "API request" {
					if l.Vals["level"] != "debug" || l.Vals["target"] != "logs" || l.Vals["status"] != "200" || l.Vals["attempt"] != "1" || l.Vals["latency"] == "" ||
						l.Vals["method"] != "GET" || !strings.HasPrefix(l.Vals["path"], "/v2/"+sim.Options().ProjectID+"/backuppolicy") || strings.Contains(l.Vals["path"], "?") {
						t.Errorf("API request line %v", l.Vals)
					}
					seen[l.Vals["operation"]]++
				}
			}
			// "Listening on" comes from the exporter toolkit (slog), the others from the exporter.
			for _, msg := range []string{"starting vbs_exporter", "Listening on", "API request", "list_policies", "list_tasks", "shutting down"} {
				if seen[msg] == 0 {
					t.Errorf("no %q line in the %s log:\n%s", msg, format, p.stderr.String())
				}
			}
			if want := sim.Requests(""); seen["API request"] != want {
				t.Errorf("%d API request lines, the simulator answered %d requests", seen["API request"], want)
			}
		})
	}
}

func e2eDemo(t *testing.T, bin string) {
	var p *e2eProc
	var line string
	// The listen address is picked free and released before the demo starts;
	// the demo's own simulator, bound first on an ephemeral port, can be
	// handed that very port. Try again on another one then.
	for attempt := 1; ; attempt++ {
		p = e2eStart(t, bin, "--demo")
		select {
		case line = <-p.lines:
		case <-p.done:
			if attempt < 3 && strings.Contains(p.stderr.String(), "address already in use") {
				continue
			}
			t.Fatalf("the demo exited: %v\n%s", p.err, p.stderr.String())
		case <-time.After(30 * time.Second):
			t.Fatal("the demo printed no URL within 30s")
		}
		break
	}
	started := time.Now().UTC()
	re := regexp.MustCompile(`^vbs_exporter demo: open (http://\S+/) \(metrics at (http://\S+/metrics)\)$`)
	sub := re.FindStringSubmatch(line)
	if sub == nil {
		t.Fatalf("the demo's first line is %q, want \"vbs_exporter demo: open http://... (metrics at http://.../metrics)\"", line)
	}
	if sub[1] != p.url("/") || sub[2] != p.url("/metrics") {
		t.Errorf("the demo points at %s and %s, want %s", sub[1], sub[2], p.url("/"))
	}
	p.waitHealthy(t)
	if code, page := e2eGet(t, sub[1]); code != http.StatusOK || !strings.Contains(page, `href="/metrics"`) {
		t.Errorf("GET %s: status %d", sub[1], code)
	}
	body, all := e2eScrape(t, sub[2])
	all.Expect(t, 1, "vbs_up", "target", "demo")
	// Beside the VBS target, the CBR target demo-cbr (cbrtest.DemoScenario;
	// its exact values are TestCBRExactMetrics's in internal/store/).
	all.Expect(t, 1, "vbs_up", "target", "demo-cbr")
	all.Expect(t, 1, "vbs_target_info", "target", "demo-cbr", "service", "cbr", "region", "eu-west-101", "project_id", cbrtest.DefaultProjectID)
	if n := len(all.Series("vbs_vault_info")); n != 2 {
		t.Errorf("demo-cbr: %d vaults, want 2", n)
	}
	m := onlyTarget(all, "demo")

	names := map[string]string{}
	resources := 0.0
	for _, s := range m.Series("vbs_policy_enabled") {
		names[s["policy_id"]] = s["policy_name"]
		v, _ := m.Value("vbs_policy_resources", "target", "demo", "policy_id", s["policy_id"], "policy_name", s["policy_name"])
		resources += v
	}
	want := map[string]string{
		vbstest.DemoDailyPolicyID: "daily-db-volumes", vbstest.DemoWeeklyPolicyID: "weekly-archive", vbstest.DemoTwiceDailyPolicyID: "twice-daily-app",
	}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("demo policies %v, want %v", names, want)
	}
	if resources != 20 {
		t.Errorf("demo disks: %v, want 20", resources)
	}
	// The demo turns resource_names on: every disk is named from the
	// simulator's EVS volume list (DemoScenario's names).
	evsNames := map[string]string{}
	for _, v := range vbstest.DemoScenario(started).Volumes {
		evsNames[v.ID] = v.Name
	}
	named := m.Series("vbs_resource_info")
	for _, s := range named {
		if want := evsNames[s["resource_id"]]; want == "" || s["resource_name"] != want {
			t.Errorf("vbs_resource_info %v: want resource_name %q", s, want)
		}
	}
	if len(named) != 20 || len(evsNames) != 20 {
		t.Errorf("%d disks named of %d volumes, want 20", len(named), len(evsNames))
	}
	codes := map[string]int{}
	for _, s := range m.Series("vbs_resource_last_failure_info") {
		codes[s["code"]]++
	}
	// At least the planted failure (code VolumeBackup.0064) and timeout (no code).
	if codes["VolumeBackup.0064"] < 1 || codes[""] < 1 {
		t.Errorf("last failure codes %v, want VolumeBackup.0064 and \"\"", codes)
	}

	jobs := map[string]float64{}
	for _, s := range m.Series("vbs_policy_jobs") {
		v, _ := m.Value("vbs_policy_jobs", "target", s["target"], "policy_id", s["policy_id"], "policy_name", s["policy_name"], "status", s["status"])
		jobs[s["status"]] += v
	}
	// DemoScenario has exactly one timeout and one skip, and some failures.
	if jobs["EXECUTE_TIMEOUT"] != 1 || jobs["SKIP"] != 1 || jobs["EXECUTE_FAIL"] < 1 || jobs["EXECUTE_SUCCESS"] < 100 {
		t.Errorf("demo jobs by status: %v, want 1 EXECUTE_TIMEOUT, 1 SKIP, some EXECUTE_FAIL", jobs)
	}

	// One disk is stuck RUNNING for hours. Other RUNNING series exist only
	// while a scheduled run (02:00, 14:00 UTC) is under 20 minutes old.
	stuck := 0
	var recent []string
	for _, s := range m.Series("vbs_resource_running_since_timestamp_seconds") {
		v, _ := m.Value("vbs_resource_running_since_timestamp_seconds", "target", "demo", "policy_id", s["policy_id"],
			"policy_name", s["policy_name"], "resource_id", s["resource_id"], "resource_type", s["resource_type"])
		since := time.UnixMilli(int64(v * 1000))
		switch {
		case started.Sub(since) >= 3*time.Hour && s["policy_id"] == vbstest.DemoDailyPolicyID:
			stuck++
		case started.Sub(since) < 25*time.Minute:
			recent = append(recent, s["resource_id"])
		default:
			t.Errorf("unexpected RUNNING series %v since %v", s, since)
		}
	}
	if stuck != 1 {
		t.Errorf("demo: %d disks stuck RUNNING for hours, want 1", stuck)
	}
	if len(recent) > 0 {
		hm := started.Hour()*60 + started.Minute()
		if !(hm >= 2*60 && hm < 2*60+25) && !(hm >= 14*60 && hm < 14*60+25) {
			t.Errorf("demo: RUNNING jobs %v outside a run window (now %v)", recent, started)
		}
		t.Logf("a demo run is in progress: %d more RUNNING disks", len(recent))
	} else if n := len(m.Series("vbs_resource_running_since_timestamp_seconds")); n != 1 {
		t.Errorf("vbs_resource_running_since_timestamp_seconds has %d series, want exactly 1", n)
	}
	e2ePromtool(t, "the demo's /metrics", body)

	probe, pm := e2eScrape(t, p.url("/probe?target=demo"))
	pm.Expect(t, 1, "vbs_up", "target", "demo")
	e2ePromtool(t, "the demo's /probe", probe)

	// The demo's simulator and files go away with the exporter.
	_, cfgPage := e2eGet(t, p.url("/config"))
	cfgDir := ""
	if i := strings.Index(cfgPage, "secret_key_file: "); i >= 0 {
		cfgDir = filepath.Dir(strings.TrimSpace(strings.SplitN(cfgPage[i+len("secret_key_file: "):], "\n", 2)[0]))
	}
	if cfgDir == "" || cfgDir == "." {
		t.Fatalf("/config of the demo names no secret file:\n%s", cfgPage)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the demo did not stop on SIGTERM")
	}
	if p.err != nil {
		t.Errorf("the demo exited with %v after SIGTERM, want 0", p.err)
	}
	if _, err := os.Stat(cfgDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the demo left %s behind (stat: %v)", cfgDir, err)
	}
}

// onlyTarget returns the series of m with target="name" (and those
// without a target label).
func onlyTarget(m testkit.Metrics, name string) testkit.Metrics {
	out := testkit.Metrics{}
	for fam, mf := range m {
		c := &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Unit: mf.Unit}
		for _, s := range mf.Metric {
			keep := true
			for _, lp := range s.Label {
				if lp.GetName() == "target" && lp.GetValue() != name {
					keep = false
				}
			}
			if keep {
				c.Metric = append(c.Metric, s)
			}
		}
		out[fam] = c
	}
	return out
}
