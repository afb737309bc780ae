package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/config"
	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// The handler tests wire the exporter exactly as run() does, in process,
// against two simulators:
//
//	alpha: project htProjectA, AK/SK with the secret key from a file,
//	       page_size 2, policy "alpha-daily" with seven planted jobs;
//	beta:  project htProjectB, AK/SK with inline secret key and security
//	       token, policy "beta-weekly" with one job.
const (
	htProjectA = "0605767f2f00d5d22f16c00e4e8f1d4a"
	htProjectB = "b2c3d4e5f60718293a4b5c6d7e8f9a0b"
	htAKA      = "ALPHAACCESSKEY01"
	htSKA      = "alpha-secret-Zq81vTkd"
	htAKB      = "BETAACCESSKEY002"
	htSKB      = "beta-secret-Pw93xLmc"
	htTokenB   = "beta-token-Hn27bQrs"

	htPolicyA = "aaaa1111-0000-4000-8000-00000000000a"
	htPolicyB = "bbbb2222-0000-4000-8000-00000000000b"
)

// plant loads the simulators' policies and jobs.
func (e *testApp) plant() {
	b := e.base
	e.simA.AddPolicy(vbstest.Policy{ID: htPolicyA, Name: "alpha-daily", StartTime: "02:00", Frequency: 1, RetentionNum: 7, Enabled: true, ResourceCount: 3})
	job := func(n int, res, status string, created time.Time, took time.Duration) vbstest.Job {
		j := vbstest.Job{JobID: fmt.Sprintf("a0000000-0000-4000-8000-%012d", n), Status: status, ResourceID: res, ResourceType: "volume", BackupName: fmt.Sprintf("autobk_%d", n), CreatedAt: created}
		if took >= 0 {
			j.FinishedAt = created.Add(took)
		}
		return j
	}
	e.simA.AddJobs(htPolicyA,
		job(1, "vol-1", vbstest.StatusExecuteSuccess, b.Add(-72*time.Hour), 10*time.Minute),
		job(2, "vol-1", vbstest.StatusExecuteSuccess, b.Add(-48*time.Hour), 12*time.Minute),
		job(3, "vol-1", vbstest.StatusExecuteSuccess, b.Add(-24*time.Hour), 15*time.Minute+30*time.Second+500*time.Millisecond),
		job(4, "vol-2", vbstest.StatusExecuteSuccess, b.Add(-48*time.Hour), 20*time.Minute),
		job(5, "vol-2", vbstest.StatusExecuteFail, b.Add(-24*time.Hour), 5*time.Minute),
		job(6, "vol-3", vbstest.StatusRunning, b.Add(-2*time.Hour), -1),
		job(7, "vol-3", vbstest.StatusExecuteSuccess, b.Add(-26*time.Hour), time.Minute),
	)
	e.simB.AddPolicy(vbstest.Policy{ID: htPolicyB, Name: "beta-weekly", StartTime: "01:00", WeekFrequency: []string{"MON"}, RetentionNum: 4, Enabled: true, ResourceCount: 1})
	e.simB.AddJobs(htPolicyB, vbstest.Job{JobID: "b0000000-0000-4000-8000-000000000001", Status: vbstest.StatusExecuteSuccess,
		ResourceID: "vol-b1", ResourceType: "volume", BackupName: "autobk_b1", CreatedAt: b.Add(-30 * time.Hour), FinishedAt: b.Add(-29 * time.Hour)})
}

// alphaBetaConfig returns the configuration: alpha and beta, with alphaExtra added
// to alpha's settings and extraTargets appended.
func (e *testApp) alphaBetaConfig(alphaExtra, extraTargets string) string {
	return fmt.Sprintf(`targets:
  - name: alpha
    region: cn-north-4
    project_id: %s
    endpoint: %s
    page_size: 2
%s    auth:
      access_key: %s
      secret_key_file: %s
  - name: beta
    region: cn-north-4
    project_id: %s
    endpoint: %s
    auth:
      access_key: %s
      secret_key: %s
      security_token: %s
%s`, htProjectA, e.simA.URL(), alphaExtra, htAKA, filepath.Join(e.dir, "alpha_sk"),
		htProjectB, e.simB.URL(), htAKB, htSKB, htTokenB, extraTargets)
}

// gammaTarget is a third target, on beta's simulator.
func (e *testApp) gammaTarget() string {
	return fmt.Sprintf(`  - name: gamma
    region: cn-north-4
    project_id: %s
    endpoint: %s
    auth:
      access_key: %s
      secret_key: %s
      security_token: %s
`, htProjectB, e.simB.URL(), htAKB, htSKB, htTokenB)
}

// scrape GETs path, requires 200 and returns the body and its parsed samples.
func (e *testApp) scrape(path string) (string, testkit.Metrics) {
	e.t.Helper()
	code, body, _ := e.get(path)
	if code != http.StatusOK {
		e.t.Fatalf("GET %s: status %d, want 200; body:\n%s", path, code, body)
	}
	return body, testkit.ParseMetrics(e.t, body)
}

// expectPolicyA checks alpha's planted policy and jobs.
func (e *testApp) expectPolicyA(t testing.TB, m testkit.Metrics) {
	t.Helper()
	pl := []string{"target", "alpha", "policy_id", htPolicyA, "policy_name", "alpha-daily"}
	m.Expect(t, 1, "vbs_policy_enabled", pl...)
	m.Expect(t, 3, "vbs_policy_resources", pl...)
	m.Expect(t, 86400, "vbs_policy_expected_interval_seconds", pl...)
	m.Expect(t, 1, "vbs_policy_refresh_success", pl...)
	for status, n := range map[string]float64{
		"RUNNING": 1, "WAITING": 0, "EXECUTE_SUCCESS": 5, "EXECUTE_FAIL": 1, "EXECUTE_TIMEOUT": 0, "SKIP": 0, "UNKNOWN": 0,
	} {
		m.Expect(t, n, "vbs_policy_jobs", append(slices.Clone(pl), "status", status)...)
	}
	m.Expect(t, float64(e.base.Add(-2*time.Hour).Unix()), "vbs_policy_last_job_timestamp_seconds", pl...)
	rl := func(res string) []string {
		return append(slices.Clone(pl), "resource_id", res, "resource_type", "volume")
	}
	vol1Done := e.base.Add(-24*time.Hour + 15*time.Minute + 30*time.Second + 500*time.Millisecond)
	m.Expect(t, float64(vol1Done.UnixMilli())/1000, "vbs_resource_last_success_timestamp_seconds", rl("vol-1")...)
	m.Expect(t, 930.5, "vbs_resource_last_success_duration_seconds", rl("vol-1")...)
	m.Expect(t, 1, "vbs_resource_consecutive_failures", rl("vol-2")...)
	m.Expect(t, 1, "vbs_resource_last_status", append(rl("vol-2"), "status", "EXECUTE_FAIL")...)
	m.Expect(t, 0, "vbs_resource_last_status", append(rl("vol-2"), "status", "EXECUTE_SUCCESS")...)
	m.Expect(t, float64(e.base.Add(-2*time.Hour).Unix()), "vbs_resource_running_since_timestamp_seconds", rl("vol-3")...)
	if n := len(m.Series("vbs_resource_running_since_timestamp_seconds")); n != 1 {
		t.Errorf("vbs_resource_running_since_timestamp_seconds has %d series, want 1 (vol-3)", n)
	}
}

// expectPolicyB checks beta's planted policy.
func (e *testApp) expectPolicyB(t testing.TB, m testkit.Metrics, target string) {
	t.Helper()
	pl := []string{"target", target, "policy_id", htPolicyB, "policy_name", "beta-weekly"}
	m.Expect(t, 1, "vbs_policy_enabled", pl...)
	m.Expect(t, 7*86400, "vbs_policy_expected_interval_seconds", pl...)
	m.Expect(t, 1, "vbs_policy_jobs", append(slices.Clone(pl), "status", "EXECUTE_SUCCESS")...)
	m.Expect(t, float64(e.base.Add(-29*time.Hour).Unix()), "vbs_resource_last_success_timestamp_seconds",
		append(slices.Clone(pl), "resource_id", "vol-b1", "resource_type", "volume")...)
}

// htShort shortens a response body for an error message.
func htShort(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// htLinesWith returns the lines of body that contain s.
func htLinesWith(body, s string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// htLines returns the sample lines of body (no comments) that start with prefix.
func htLines(body, prefix string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func TestHandlersProbeRejectsBadQueries(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	long := "target=" + strings.Repeat("a", 506) // 513 bytes
	for _, tc := range []struct {
		name, query, want string
	}{
		{"no query", "", "the target parameter is missing: use /probe?target=NAME with a configured target name\n"},
		{"empty target", "target=", "the target parameter is missing: use /probe?target=NAME with a configured target name\n"},
		{"unknown target", "target=nope", "unknown target \"nope\": not in the configuration; configured targets: \"alpha\", \"beta\"\n"},
		{"a URL is not a target", "target=http%3A%2F%2F127.0.0.1%3A1%2F", "unknown target \"http://127.0.0.1:1/\": not in the configuration; configured targets: \"alpha\", \"beta\"\n"},
		{"target twice", "target=alpha&target=beta", "the target parameter is given more than once\n"},
		{"same target twice", "target=alpha&target=alpha", "the target parameter is given more than once\n"},
		{"unknown parameter", "target=alpha&module=x", "unknown query parameter \"module\": /probe takes only target and debug\n"},
		{"debug not a boolean", "target=alpha&debug=1", "the debug parameter must be given once, as true or false\n"},
		{"debug twice", "target=alpha&debug=true&debug=true", "the debug parameter must be given once, as true or false\n"},
		{"debug of an unknown target", "target=nope&debug=true", "unknown target \"nope\": not in the configuration; configured targets: \"alpha\", \"beta\"\n"},
		{"malformed escape", "target=%zz", "malformed query string: invalid URL escape \"%zz\"\n"},
		{"query too long", long, "query string longer than 512 bytes\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "/probe"
			if tc.query != "" {
				target += "?" + tc.query
			}
			code, body, _ := e.get(target)
			if code != http.StatusBadRequest {
				t.Errorf("GET %s: status %d, want 400", target, code)
			}
			if body != tc.want {
				t.Errorf("GET %s: body %q, want %q", target, htShort(body), tc.want)
			}
		})
	}
	// The longest accepted query is 512 bytes: an unknown 505-byte name is
	// rejected as unknown, not as too long.
	code, body, _ := e.get("/probe?target=" + strings.Repeat("a", 505))
	if code != http.StatusBadRequest || !strings.HasPrefix(body, "unknown target ") {
		t.Errorf("512-byte query: status %d body %q, want 400 unknown target", code, htShort(body))
	}
	if n := e.simA.Requests("") + e.simB.Requests(""); n != 0 {
		t.Errorf("rejected probes made %d API requests, want 0", n)
	}
}

func TestHandlersProbeServesOneTarget(t *testing.T) {
	t.Parallel()
	e := newAlphaBetaApp(t, testAppOptions{})
	// A /metrics scrape first, so that beta has API request counters the
	// probe must leave out.
	e.scrape("/metrics")
	body, m := e.scrape("/probe?target=alpha")

	if got := htLines(body, "vbs_up"); !slices.Equal(got, []string{`vbs_up{target="alpha"} 1`}) {
		t.Errorf("vbs_up lines = %q, want exactly [vbs_up{target=\"alpha\"} 1]", got)
	}
	e.expectPolicyA(t, m)
	if strings.Contains(body, `target="beta"`) || strings.Contains(body, htPolicyB) {
		t.Errorf("probe of alpha shows beta's metrics: %q", htLinesWith(body, `target="beta"`))
	}
	for _, prefix := range []string{"go_", "process_", "promhttp_", "vbs_exporter_"} {
		if l := append(htLines(body, prefix), htLines(body, "# TYPE "+prefix)...); len(l) > 0 {
			t.Errorf("probe shows the exporter's own metrics: %d lines such as %q", len(l), l[0])
		}
	}
	// The API request metrics of alpha only: two /metrics+probe scrapes.
	m.Expect(t, 2, "vbs_api_requests_total", "target", "alpha", "operation", "list_policies", "code", "200")
	m.Expect(t, float64(e.simA.Requests(vbstest.OpListTasks)), "vbs_api_requests_total", "target", "alpha", "operation", "list_tasks", "code", "200")
	for _, s := range append(m.Series("vbs_api_requests_total"), m.Series("vbs_api_request_duration_seconds")...) {
		if s["target"] != "alpha" {
			t.Errorf("probe of alpha has an API metric of %v", s)
		}
	}
	if len(m.Series("vbs_api_request_duration_seconds")) != 2 {
		t.Errorf("vbs_api_request_duration_seconds: %v, want alpha's list_policies and list_tasks", m.Series("vbs_api_request_duration_seconds"))
	}

	// beta through the probe: only beta.
	body, m = e.scrape("/probe?target=beta")
	if got := htLines(body, "vbs_up"); !slices.Equal(got, []string{`vbs_up{target="beta"} 1`}) {
		t.Errorf("vbs_up lines = %q, want exactly [vbs_up{target=\"beta\"} 1]", got)
	}
	e.expectPolicyB(t, m, "beta")
	if strings.Contains(body, `target="alpha"`) {
		t.Errorf("probe of beta shows alpha's metrics: %q", htLinesWith(body, `target="alpha"`))
	}
}

func TestHandlersMetricsServesEverything(t *testing.T) {
	t.Parallel()
	e := newAlphaBetaApp(t, testAppOptions{})
	const scrapes = 3
	var body string
	var m testkit.Metrics
	for range scrapes {
		body, m = e.scrape("/metrics")
	}
	m.Expect(t, 1, "vbs_up", "target", "alpha")
	m.Expect(t, 1, "vbs_up", "target", "beta")
	e.expectPolicyA(t, m)
	e.expectPolicyB(t, m, "beta")
	// Each scrape lists each target's policies once; the counters include
	// the scrape that shows them.
	m.Expect(t, scrapes, "vbs_api_requests_total", "target", "alpha", "operation", "list_policies", "code", "200")
	m.Expect(t, scrapes, "vbs_api_requests_total", "target", "beta", "operation", "list_policies", "code", "200")
	if n := e.simA.Requests(vbstest.OpListPolicies); n != scrapes {
		t.Errorf("simulator alpha saw %d list_policies requests, want %d", n, scrapes)
	}
	m.Expect(t, float64(e.simA.Requests(vbstest.OpListTasks)), "vbs_api_requests_total", "target", "alpha", "operation", "list_tasks", "code", "200")
	m.Expect(t, float64(e.simB.Requests(vbstest.OpListTasks)), "vbs_api_requests_total", "target", "beta", "operation", "list_tasks", "code", "200")
	// The first scrape walked alpha's seven jobs in pages of two (4 pages,
	// then the empty page that ends a walk); the later ones read one page each.
	if n := e.simA.Requests(vbstest.OpListTasks); n != 5+scrapes-1 {
		t.Errorf("simulator alpha saw %d list_tasks requests, want %d (a backfill of 4 pages and an empty one, then 1 per scrape)", n, 5+scrapes-1)
	}

	if mf := m["vbs_exporter_build_info"]; mf == nil || len(mf.Metric) != 1 || mf.Metric[0].GetGauge().GetValue() != 1 {
		t.Errorf("vbs_exporter_build_info: %v, want one sample of 1", mf)
	}
	m.Expect(t, 1, "vbs_exporter_config_last_reload_successful")
	if v, ok := m.Value("vbs_exporter_config_last_reload_success_timestamp_seconds"); !ok || v < float64(e.base.Unix()-60) {
		t.Errorf("vbs_exporter_config_last_reload_success_timestamp_seconds = %v (%v), want about now", v, ok)
	}
	if m["go_goroutines"] == nil {
		t.Errorf("/metrics lacks the Go runtime metrics")
	}
	for _, s := range m.Series("vbs_api_requests_total") {
		if s["code"] != "200" {
			t.Errorf("unexpected API request result %v", s)
		}
	}
	if t.Failed() {
		t.Logf("last scrape:\n%s", body)
	}
}

func TestHandlersScrapeTimeoutHeader(t *testing.T) {
	t.Parallel()
	// Without the header the deadline would be 30s: the test would time out
	// its 10s bound below.
	e := newAlphaBetaApp(t, testAppOptions{defaultTimeout: 30 * time.Second, timeoutOffset: 500 * time.Millisecond})
	e.simA.AddFault(vbstest.Fault{Kind: vbstest.FaultHang, Operation: vbstest.OpListPolicies})
	// /metrics gets longer: beta, which is fine, must be refreshed within
	// the deadline (a 2.25 s refresh) even on a machine loaded with the
	// other tests.
	for path, timeout := range map[string]string{"/probe?target=alpha": "1", "/metrics": "3"} {
		hdr := http.Header{"X-Prometheus-Scrape-Timeout-Seconds": []string{timeout}}
		start := time.Now()
		code, body, _ := htRead(t, e.do(context.Background(), http.MethodGet, path, hdr))
		elapsed := time.Since(start)
		if code != http.StatusOK {
			t.Fatalf("GET %s: status %d; body:\n%s", path, code, body)
		}
		if elapsed > 10*time.Second {
			t.Errorf("GET %s took %v: the scrape timeout header was not honoured", path, elapsed)
		}
		m := testkit.ParseMetrics(t, body)
		m.Expect(t, 0, "vbs_up", "target", "alpha")
		if _, ok := m.Value("vbs_refresh_duration_seconds", "target", "alpha"); !ok {
			t.Errorf("GET %s: vbs_refresh_duration_seconds{target=alpha} missing", path)
		}
		if path == "/metrics" {
			// The hung target does not hide the other one.
			m.Expect(t, 1, "vbs_up", "target", "beta")
			e.expectPolicyB(t, m, "beta")
			m.Expect(t, 1, "vbs_exporter_config_last_reload_successful")
		}
		t.Logf("GET %s with a hung API answered in %v", path, elapsed.Round(time.Millisecond))
	}
	if n := e.simA.Requests(vbstest.OpListPolicies); n < 1 {
		t.Errorf("the hung simulator saw %d list_policies requests", n)
	}
}

func TestHandlersReload(t *testing.T) {
	t.Parallel()
	e := newAlphaBetaApp(t, testAppOptions{})

	// Only POST and PUT (Prometheus's convention).
	for _, method := range []string{http.MethodGet, http.MethodDelete, http.MethodHead} {
		code, _, resp := htRead(t, e.do(context.Background(), method, "/-/reload", nil))
		if code != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST, PUT" {
			t.Errorf("%s /-/reload: status %d Allow %q, want 405 and POST, PUT", method, code, resp.Header.Get("Allow"))
		}
	}
	code, body, _ := e.get("/-/reload")
	if code != http.StatusMethodNotAllowed || body != "method GET not allowed: use POST, PUT\n" {
		t.Errorf("GET /-/reload: status %d body %q", code, body)
	}
	if code, body, _ := htRead(t, e.do(context.Background(), http.MethodPut, "/-/reload", nil)); code != http.StatusOK || body != "configuration reloaded\n" {
		t.Errorf("PUT /-/reload: status %d body %q, want 200", code, body)
	}

	// The first scrape backfills alpha: seven jobs in pages of two, then the
	// empty page that ends a walk.
	e.scrape("/metrics")
	if n := e.simA.Requests(vbstest.OpListTasks); n != 5 {
		t.Fatalf("first scrape: alpha's simulator saw %d list_tasks requests, want 5", n)
	}
	alpha, _ := e.ex.get("alpha")
	beta, _ := e.ex.get("beta")

	// A valid change: gamma added, beta's lookback changed, alpha unchanged.
	betaChanged := strings.Replace(e.alphaBetaConfig("", e.gammaTarget()),
		"      security_token: "+htTokenB+"\n  - name: gamma",
		"      security_token: "+htTokenB+"\n    lookback: 240h\n  - name: gamma", 1)
	if !strings.Contains(betaChanged, "lookback: 240h") {
		t.Fatal("test bug: beta's lookback not set")
	}
	e.writeConfig(betaChanged)
	code, body, _ = htRead(t, e.do(context.Background(), http.MethodPost, "/-/reload", nil))
	if code != http.StatusOK || body != "configuration reloaded\n" {
		t.Fatalf("POST /-/reload: status %d body %q, want 200", code, body)
	}
	if a, _ := e.ex.get("alpha"); a != alpha {
		t.Errorf("the unchanged target alpha was rebuilt by the reload: its job cache is lost")
	}
	if b, _ := e.ex.get("beta"); b == beta {
		t.Errorf("the changed target beta was not rebuilt by the reload")
	}
	e.simA.ResetCounters()
	_, m := e.scrape("/metrics")
	for _, name := range []string{"alpha", "beta", "gamma"} {
		m.Expect(t, 1, "vbs_up", "target", name)
	}
	e.expectPolicyA(t, m)
	e.expectPolicyB(t, m, "gamma")
	if n := e.simA.Requests(vbstest.OpListTasks); n != 1 {
		t.Errorf("after the reload, alpha's scrape made %d list_tasks requests, want 1 (its cache kept, no new backfill)", n)
	}
	m.Expect(t, 1, "vbs_exporter_config_last_reload_successful")
	_, probe := e.scrape("/probe?target=gamma")
	probe.Expect(t, 1, "vbs_up", "target", "gamma")

	// A broken file: 500 naming file, line and field; the running config stays.
	broken := e.alphaBetaConfig("    lookback: 7x\n", e.gammaTarget())
	line := slices.Index(strings.Split(broken, "\n"), "    lookback: 7x") + 1
	e.writeConfig(broken)
	code, body, _ = htRead(t, e.do(context.Background(), http.MethodPost, "/-/reload", nil))
	want := fmt.Sprintf("failed to reload config: %s:%d: target \"alpha\": field lookback: invalid duration (examples: 90s, 30m, 168h, 7d, 1w): unknown unit \"x\" in duration \"7x\"\n", e.cfgPath, line)
	if code != http.StatusInternalServerError || body != want {
		t.Errorf("POST /-/reload with a broken file: status %d body\n%q\nwant 500 and\n%q", code, body, want)
	}
	if a, _ := e.ex.get("alpha"); a != alpha {
		t.Errorf("a failed reload replaced alpha")
	}
	_, m = e.scrape("/metrics")
	for _, name := range []string{"alpha", "beta", "gamma"} {
		m.Expect(t, 1, "vbs_up", "target", name)
	}
	m.Expect(t, 0, "vbs_exporter_config_last_reload_successful")
	if _, cfg, _ := e.get("/config"); !strings.Contains(cfg, "name: gamma") || strings.Contains(cfg, "7x") {
		t.Errorf("/config after a failed reload does not show the running config:\n%s", cfg)
	}

	// Fixed again: gamma removed.
	e.writeConfig(e.alphaBetaConfig("", ""))
	code, body, _ = htRead(t, e.do(context.Background(), http.MethodPost, "/-/reload", nil))
	if code != http.StatusOK {
		t.Fatalf("POST /-/reload: status %d body %q", code, body)
	}
	_, m = e.scrape("/metrics")
	m.Expect(t, 1, "vbs_exporter_config_last_reload_successful")
	if _, ok := m.Value("vbs_up", "target", "gamma"); ok {
		t.Errorf("the removed target gamma is still testkit.Metrics")
	}
	if code, _, _ := e.get("/probe?target=gamma"); code != http.StatusBadRequest {
		t.Errorf("probe of the removed target gamma: status %d, want 400", code)
	}
	if a, _ := e.ex.get("alpha"); a != alpha {
		t.Errorf("the unchanged target alpha was rebuilt by the second reload")
	}
}

func TestHandlersConfigRedactsSecrets(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	code, body, resp := e.get("/config")
	if code != http.StatusOK {
		t.Fatalf("GET /config: status %d", code)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, secret := range []string{htSKA, htSKB, htTokenB} {
		if strings.Contains(body, secret) {
			t.Errorf("/config shows the secret %q:\n%s", secret, body)
		}
	}
	for _, want := range []string{
		"      secret_key: <secret>\n",
		"      security_token: <secret>\n",
		"      secret_key_file: " + filepath.Join(e.dir, "alpha_sk") + "\n",
		"      access_key: " + htAKA + "\n",
		"      access_key: " + htAKB + "\n",
		"  - name: alpha # credentials: AK/SK\n",
		"  - name: beta # credentials: temporary AK/SK with security token\n",
		"    page_size: 2\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/config lacks %q:\n%s", want, body)
		}
	}
	if n := strings.Count(body, "<secret>"); n != 2 {
		t.Errorf("/config has %d <secret> placeholders, want 2 (beta's secret key and token)", n)
	}
	// What /config shows is a loadable configuration.
	if _, err := config.Parse([]byte(body), "redacted.yml", e.dir, noEnv); err != nil {
		t.Errorf("/config does not parse back: %v", err)
	}
}

func TestHandlersHealthyAndLandingPage(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	code, body, _ := e.get("/-/healthy")
	if code != http.StatusOK || body != "Healthy\n" {
		t.Errorf("GET /-/healthy: status %d body %q", code, body)
	}

	code, body, resp := e.get("/")
	if code != http.StatusOK {
		t.Fatalf("GET /: status %d", code)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET /: Content-Type %q", ct)
	}
	var hrefs []string
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		hrefs = append(hrefs, html.UnescapeString(m[1]))
	}
	// The Probe link and the target list lead to real targets.
	for _, want := range []string{"/metrics", "/probe?target=alpha", "/probe?target=beta", "/probe?target=alpha&debug=true", "/probe?target=beta&debug=true", "/config", "/-/healthy"} {
		if !slices.Contains(hrefs, want) {
			t.Errorf("the landing page does not link %s; links: %q", want, hrefs)
		}
	}
	// Every local link leads somewhere.
	for _, href := range hrefs {
		if !strings.HasPrefix(href, "/") {
			continue
		}
		if code, body, _ := e.get(href); code != http.StatusOK {
			t.Errorf("the landing page links %s, which answers %d: %s", href, code, htShort(body))
		}
	}
	// A reload that adds a target lists it.
	e.writeConfig(e.alphaBetaConfig("", e.gammaTarget()))
	if err := e.h.reload(); err != nil {
		t.Fatal(err)
	}
	if _, body, _ := e.get("/"); !strings.Contains(body, `href="/probe?target=gamma"`) {
		t.Errorf("after a reload that added gamma, the landing page does not link its probe:\n%s", htShort(body))
	}
	if code, _, _ := e.get("/nonexistent"); code != http.StatusNotFound {
		t.Errorf("GET /nonexistent: status %d, want 404", code)
	}
}

func TestHandlersMaxRequests(t *testing.T) {
	t.Parallel()
	// The hung scrape holds the only slot for 3.5 s (a 4 s default timeout
	// less the offset): time for the requests below on a loaded machine.
	e := newAlphaBetaApp(t, testAppOptions{maxRequests: 1, defaultTimeout: 4 * time.Second})
	fault := e.simA.AddFault(vbstest.Fault{Kind: vbstest.FaultHang, Operation: vbstest.OpListPolicies})

	var wg sync.WaitGroup
	var firstCode int
	var firstBody string
	wg.Add(1)
	go func() {
		defer wg.Done()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, req)
		firstCode, firstBody = rec.Code, rec.Body.String()
	}()
	// The first scrape is in flight once it reached the (hung) API.
	deadline := time.Now().Add(10 * time.Second)
	for e.simA.Requests(vbstest.OpListPolicies) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first scrape never reached the simulator")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, path := range []string{"/metrics", "/probe?target=beta", "/probe?target=beta&debug=true"} {
		code, body, _ := e.get(path)
		if code != http.StatusServiceUnavailable || body != "too many concurrent scrapes (limit 1)\n" {
			t.Errorf("GET %s beyond the limit: status %d body %q, want 503", path, code, htShort(body))
		}
	}
	// The limit covers scrapes only.
	for _, path := range []string{"/-/healthy", "/config", "/"} {
		if code, _, _ := e.get(path); code != http.StatusOK {
			t.Errorf("GET %s while scrapes are saturated: status %d, want 200", path, code)
		}
	}
	wg.Wait()
	if firstCode != http.StatusOK {
		t.Fatalf("the hung scrape: status %d body %q", firstCode, htShort(firstBody))
	}
	testkit.ParseMetrics(t, firstBody).Expect(t, 0, "vbs_up", "target", "alpha")

	// Once the slot is free (and alpha's background refresh has given up),
	// scrapes are served again.
	e.simA.RemoveFault(fault)
	alpha, _ := e.ex.get("alpha")
	for alpha.Last() == nil {
		if time.Now().After(deadline) {
			t.Fatal("alpha's hung refresh never ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, m := e.scrape("/metrics")
	m.Expect(t, 1, "vbs_up", "target", "alpha")
	m.Expect(t, 1, "vbs_up", "target", "beta")
}

func TestHandlersTelemetryPath(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	for path, want := range map[string]string{
		"metrics":    `--web.telemetry-path "metrics": must start with /`,
		"/probe":     `--web.telemetry-path "/probe": taken by another endpoint`,
		"/-/healthy": `--web.telemetry-path "/-/healthy": taken by another endpoint`,
		"/-/reload":  `--web.telemetry-path "/-/reload": taken by another endpoint`,
		"/config":    `--web.telemetry-path "/config": taken by another endpoint`,
		"/m/{x":      `--web.telemetry-path "/m/{x": `, // the mux's own complaint follows
	} {
		h := *e.h
		mux, err := h.routes(path)
		if err == nil || !strings.HasPrefix(err.Error(), want) || mux != nil {
			t.Errorf("routes(%q) = %v, %v; want the error %q", path, mux, err, want)
		}
	}

	h := *e.h
	mux, err := h.routes("/vbs/metrics")
	if err != nil {
		t.Fatal(err)
	}
	e.mux = mux
	_, m := e.scrape("/vbs/metrics")
	m.Expect(t, 1, "vbs_up", "target", "alpha")
	m.Expect(t, 1, "vbs_up", "target", "beta")
	if code, _, _ := e.get("/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics with --web.telemetry-path=/vbs/metrics: status %d, want 404", code)
	}
	if _, page, _ := e.get("/"); !strings.Contains(page, `href="/vbs/metrics"`) {
		t.Errorf("the landing page does not link /vbs/metrics")
	}
}
