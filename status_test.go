package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// htContains reports every snippet missing from body.
func htContains(t *testing.T, what, body string, snippets ...string) {
	t.Helper()
	for _, s := range snippets {
		if !strings.Contains(body, s) {
			t.Errorf("%s lacks %q; it is:\n%s", what, s, body)
		}
	}
}

// The status page shows each target's last refresh without calling the API:
// state, policies with refresh and backfill state, open jobs, the disks whose
// last backup failed, and the probe and debug links; every value from the
// configuration or the API is HTML-escaped.
func TestStatusPage(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	// beta's policy list is refused; alpha's policy name needs escaping.
	e.simA.AddPolicy(vbstest.Policy{ID: "cccc3333-0000-4000-8000-00000000000c", Name: `<b>x&y</b>`, StartTime: "03:00", Frequency: 1, Enabled: true})
	e.simB.AddFault(vbstest.Fault{Kind: vbstest.FaultStatus, Operation: vbstest.OpListPolicies, Status: 403,
		Body: `{"error_code":"APIGW.0301","error_msg":"<script>alert(1)</script>"}`})

	_, body, _ := e.get("/")
	htContains(t, "the status page before any refresh", body,
		`<tr><td><a href="#target-alpha">alpha</a></td><td>not refreshed yet</td><td>never</td><td>-</td><td>-</td><td>-</td><td>-</td>`+
			`<td><a href="/probe?target=alpha">probe</a> <a href="/probe?target=alpha&amp;debug=true">debug refresh</a></td></tr>`,
		`<h3 id="target-beta">Target beta</h3><p>Not refreshed yet: scrape /probe or the metrics to read it.</p>`)
	if n := e.simA.Requests("") + e.simB.Requests(""); n != 0 {
		t.Fatalf("the status page made %d API requests, want 0", n)
	}

	e.scrape("/metrics")
	alpha, _ := e.ex.get("alpha")
	newest := e.base.Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	_, body, resp := e.get("/")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want text/html", ct)
	}
	htContains(t, "the status page", body,
		// alpha: up, two policies, vol-3's job running, vol-2's last job failed.
		`<tr><td><a href="#target-alpha">alpha</a></td><td><span class="up">up</span></td><td>`+alpha.Last().Time.UTC().Format(time.RFC3339)+` (`,
		`</td><td>2</td><td>1</td><td>1</td><td><a href="/probe?target=alpha">probe</a> <a href="/probe?target=alpha&amp;debug=true">debug refresh</a></td></tr>`,
		`<tr><td>`+htPolicyA+`</td><td>alpha-daily</td><td>ok</td><td>complete</td><td>7</td><td>1</td><td>`+newest+`</td></tr>`,
		`<tr><td>cccc3333-0000-4000-8000-00000000000c</td><td>&lt;b&gt;x&amp;y&lt;/b&gt;</td><td>ok</td><td>complete</td><td>0</td><td>0</td><td>none</td></tr>`,
		`<p>Recent failures:</p><table class="vbs"><tr><th>Policy</th><th>Disk</th><th>Type</th><th>Status</th><th>In a row</th><th>Code</th><th>Message</th></tr>`+
			`<tr><td>alpha-daily</td><td>vol-2</td><td>volume</td><td>EXECUTE_FAIL</td><td>1</td><td>none</td><td>none</td></tr></table>`,
		// beta: down with the API's reason, escaped; no policy known.
		`<tr><td><a href="#target-beta">beta</a></td><td><span class="down">down</span>: list_policies: HTTP 403`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`<h3 id="target-beta">Target beta</h3><p>The API refused the credentials: no request is sent before `,
		`</p><p>Policies: none known.</p><p>Recent failures: none.</p>`,
		`<a href="/probe?target=beta&amp;debug=true">debug refresh</a>`,
	)
	for _, bad := range []string{"<script>", "<b>x&y</b>"} {
		if strings.Contains(body, bad) {
			t.Errorf("the status page holds %q unescaped", bad)
		}
	}
}

// whenText's first field is the refresh time; the rest ("(3s ago)") moves.
func TestStatusPageTimeText(t *testing.T) {
	at := time.Date(2026, 12, 2, 1, 2, 3, 0, time.UTC)
	if got := whenText(at, at.Add(90*time.Second)); got != "2026-12-02T01:02:03Z (1m30s ago)" {
		t.Errorf("whenText = %q", got)
	}
}

// /probe?target=NAME&debug=true runs a refresh of its own — even within
// min_refresh_interval — and tells every API request (with the simulator's
// status and request ID), the pages and job changes per policy, then the
// metrics /probe would have returned.
func TestDebugProbe(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	e.writeConfig(e.alphaBetaConfig("    min_refresh_interval: 1h\n", ""))
	if err := e.h.reload(); err != nil {
		t.Fatal(err)
	}
	e.scrape("/probe?target=alpha")
	e.simA.ResetCounters()
	if err := e.simA.FinishJob(htPolicyA, "a0000000-0000-4000-8000-000000000006", vbstest.StatusExecuteSuccess, e.base.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}

	code, body, resp := e.get("/probe?target=alpha&debug=true")
	if code != http.StatusOK {
		t.Fatalf("debug probe: status %d: %s", code, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	log := e.simA.RequestLog("")
	if len(log) == 0 {
		t.Fatal("the debug probe made no API request within min_refresh_interval")
	}
	var want []string
	tasks := 0
	for i, r := range log {
		want = append(want, fmt.Sprintf("%d. %s GET %s status=%d request_id=%s latency=", i+1, r.Op, r.Path, r.Status, r.RequestID))
		if r.Op == vbstest.OpListTasks {
			tasks++
		}
	}
	want = append(want,
		`Debug refresh of target "alpha"`,
		"State: up\n",
		fmt.Sprintf("API requests of the refresh (%d):\n1. list_policies GET /v2/%s/backuppolicy status=200", len(log), htProjectA),
		// vol-3's running job finished: one job updated, one page re-read it.
		fmt.Sprintf(`policy %s ("alpha-daily"): refresh ok; backfill complete; pages read %d; jobs new 0, updated 1, dropped 0; cached 7, open 0`, htPolicyA, tasks),
		"\n\n\nMetrics that would have been returned:\n",
		`vbs_up{target="alpha"} 1`,
		`vbs_policy_jobs{policy_id="`+htPolicyA+`",policy_name="alpha-daily",status="RUNNING",target="alpha"} 0`,
		`vbs_api_requests_total{code="200",operation="list_policies",target="alpha"} 2`,
	)
	htContains(t, "the debug output", body, want...)
	if strings.Contains(body, `target="beta"`) {
		t.Error("the debug output of alpha holds beta's series")
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, " GET ") && strings.Contains(line, "?") {
			t.Errorf("a request line holds a query string: %s", line)
		}
	}

	// A second debug refresh is one more refresh, with its own requests.
	e.simA.ResetCounters()
	_, body, _ = e.get("/probe?target=alpha&debug=true")
	if n := len(e.simA.RequestLog("")); n == 0 || !strings.Contains(body, fmt.Sprintf("API requests of the refresh (%d):", n)) {
		t.Errorf("second debug refresh: %d requests made; output:\n%s", n, body)
	}
	htContains(t, "the second debug output", body, fmt.Sprintf(`policy %s ("alpha-daily"): refresh ok; backfill complete; pages read 1; jobs new 0, updated 0, dropped 0; cached 7, open 0`, htPolicyA))
	// debug=false is an ordinary probe.
	if _, m := e.scrape("/probe?target=alpha&debug=false"); m["vbs_up"] == nil {
		t.Error("debug=false did not serve the metrics")
	}
}

// A debug refresh is bounded by the scrape timeout: a hung API ends it
// with the timeout's error; a debug refresh that waits in vain for a refresh
// already under way says so and shows what was known.
func TestDebugProbeTimeout(t *testing.T) {
	// Not parallel: it waits on wall-clock deadlines.
	e := newAlphaBetaApp(t, testAppOptions{})
	e.simA.AddFault(vbstest.Fault{Kind: vbstest.FaultHang, Operation: vbstest.OpListPolicies})
	// 2 s: a 1.5 s budget, whose refresh ends 250 ms (refreshMargin) before
	// it, so that a loaded machine still sees the hung refresh end before
	// the wait does.
	twoSeconds := http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"2"}}
	start := time.Now()
	code, body, _ := htRead(t, e.do(t.Context(), http.MethodGet, "/probe?target=alpha&debug=true", twoSeconds))
	if el := time.Since(start); el > 6*time.Second {
		t.Errorf("the debug probe took %v with a 2 s scrape timeout", el)
	}
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	htContains(t, "the debug output of a hung API", body,
		"State: down: list_policies: context deadline exceeded\n", "(timeout 1.5s)\n",
		fmt.Sprintf("API requests of the refresh (1):\n1. list_policies GET /v2/%s/backuppolicy status=no response request_id=none latency=", htProjectA),
		`vbs_up{target="alpha"} 0`)

	// A scrape with a longer timeout holds alpha's refresh; the debug
	// refresh waits for it to end to run its own, and gives up at its
	// deadline. (The scrape's refresh runs for 3.25 s, the 3.5 s budget of
	// a 4 s scrape timeout less refreshMargin: 1.75 s beyond the debug
	// probe's 1.5 s.)
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp := e.do(context.Background(), http.MethodGet, "/probe?target=alpha", http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"4"}})
		resp.Body.Close()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for e.simA.Requests(vbstest.OpListPolicies) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the scrape never reached the simulator")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, body, _ = htRead(t, e.do(t.Context(), http.MethodGet, "/probe?target=alpha&debug=true", twoSeconds))
	htContains(t, "the debug output behind a running refresh", body,
		"The refresh did not end within the timeout (1.5s); it goes on in the background. What follows is what was known before it.\n",
		"API requests of the refresh: not shown, the refresh had not ended.\n", `vbs_up{target="alpha"} 0`)
	<-done
	if n := e.simA.Requests(vbstest.OpListPolicies); n != 2 {
		t.Errorf("%d policy list requests, want 2: the debug refresh that gave up must not start one", n)
	}
}

// The status page and the debug refresh take GET and HEAD only; no other
// method refreshes anything.
func TestStatusAndDebugMethods(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	for _, path := range []string{"/", "/probe?target=alpha&debug=true"} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			code, body, resp := htRead(t, e.do(t.Context(), m, path, nil))
			if code != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" ||
				body != fmt.Sprintf("method %s not allowed: use GET, HEAD\n", m) {
				t.Errorf("%s %s: status %d Allow %q body %q", m, path, code, resp.Header.Get("Allow"), body)
			}
		}
	}
	if n := e.simA.Requests(""); n != 0 {
		t.Errorf("refused methods made %d API requests", n)
	}
	for _, path := range []string{"/", "/probe?target=alpha&debug=true"} {
		if code, _, _ := htRead(t, e.do(t.Context(), http.MethodHead, path, nil)); code != http.StatusOK {
			t.Errorf("HEAD %s: status %d", path, code)
		}
	}
}

// With --no-web.metrics.targets the telemetry path holds the exporter's own
// metrics only, without refreshing any target: the blackbox-style setup
// scrapes it once for the exporter and /probe per target, and no series is
// testkit.Metrics twice.
func TestOwnMetricsOnly(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	app := newTestApp(t, e.cfgPath, testAppOptions{runtimeMetrics: true, ownMetricsOnly: true}).app
	e.ex, e.h, e.mux = app.ex, app.handlers, app.mux
	e.scrape("/probe?target=alpha")
	body, m := e.scrape("/metrics")
	for _, name := range []string{"vbs_exporter_build_info", "go_goroutines", "process_start_time_seconds"} {
		if m[name] == nil {
			t.Errorf("/metrics lacks the exporter's own %s", name)
		}
	}
	for name := range m {
		if strings.HasPrefix(name, "vbs_") && name != "vbs_exporter_build_info" && !strings.HasPrefix(name, "vbs_exporter_") {
			t.Errorf("/metrics holds the target family %s", name)
		}
	}
	if strings.Contains(body, `target="`) {
		t.Errorf("/metrics holds a target's series:\n%s", htShort(body))
	}
	if n := e.simA.Requests(vbstest.OpListPolicies) + e.simB.Requests(""); n != 1 {
		t.Errorf("%d policy list requests (the probe's only), want 1: /metrics refreshed a target", n)
	}
	// /probe still serves the target and its API request metrics.
	_, pm := e.scrape("/probe?target=alpha")
	pm.Expect(t, 1, "vbs_up", "target", "alpha")
	pm.Expect(t, 2, "vbs_api_requests_total", "target", "alpha", "operation", "list_policies", "code", "200")
	if _, body, _ := e.get("/"); !strings.Contains(body, "The exporter&#39;s own metrics (targets: /probe; --web.metrics.targets is off)") &&
		!strings.Contains(body, "The exporter's own metrics (targets: /probe; --web.metrics.targets is off)") {
		t.Errorf("the status page does not say what /metrics holds:\n%s", htShort(body))
	}
}

// The flag: on by default (today's /metrics), off with --no-web.metrics.targets.
func TestMetricsTargetsFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{{nil, true}, {[]string{"--no-web.metrics.targets"}, false}, {[]string{"--web.metrics.targets"}, true}} {
		var stderr bytes.Buffer
		o, code, done := parseFlags(tc.args, io.Discard, &stderr)
		if done {
			t.Fatalf("%q: exit %d: %s", tc.args, code, stderr.String())
		}
		if o.metricsTargets != tc.want {
			t.Errorf("%q: metricsTargets %v, want %v", tc.args, o.metricsTargets, tc.want)
		}
	}
}

// Nothing the debug refresh or the status page shows holds a secret: the
// AK/SK target (secret key, security token) and the IAM target (password and
// the token it gets, whose request is in the debug output) are refreshed,
// failing and not, and everything served is scanned like the fault suite's.
func TestDebugAndStatusLeakNoSecret(t *testing.T) {
	t.Parallel()
	sink := &relSink{}
	t.Run("serve", func(t *testing.T) {
		e := newFaultApp(t, sink, testAppOptions{})
		for _, name := range []string{"aksk", "iam"} {
			code, body := e.serve(http.MethodGet, "/probe?target="+name+"&debug=true", nil)
			if code != http.StatusOK || !strings.Contains(body, "State: up") {
				t.Errorf("debug of %s: status %d:\n%s", name, code, body)
			}
			if name == "iam" && !strings.Contains(body, " iam_token POST /v3/auth/tokens status=201 request_id=") {
				t.Errorf("the IAM debug refresh does not show its token request:\n%s", body)
			}
		}
		// Failures: the API refuses, the token is renewed.
		e.aksk.sim.AddFault(vbstest.Fault{Kind: vbstest.FaultStatus, Operation: vbstest.OpListTasks, Status: 500})
		e.iam.sim.AddFault(vbstest.Fault{Kind: vbstest.FaultStatus, Operation: vbstest.OpListPolicies, Status: 401, Times: 1})
		for _, name := range []string{"aksk", "iam"} {
			e.serve(http.MethodGet, "/probe?target="+name+"&debug=true", nil)
		}
		e.serve(http.MethodGet, "/", nil)
	})
	n, toks := sink.scan(t)
	if toks == 0 {
		t.Error("no IAM token was issued: the scan would not test token leaks")
	}
	t.Logf("scanned %d outputs for %d secrets and %d IAM tokens", n, len(relSecrets), toks)
}

// With resource_names the recent failures show the disk's name, and every
// failing disk its newest failed job's code and message, escaped.
func TestStatusPageFailureReasonAndName(t *testing.T) {
	e := newAlphaBetaApp(t, testAppOptions{})
	e.simA.SetVolumes([]vbstest.Volume{{ID: "vol-2", Name: "db-data"}})
	e.simA.AddJobs(htPolicyA, vbstest.Job{JobID: "a0000000-0000-4000-8000-000000000099", Status: vbstest.StatusExecuteFail,
		ResourceID: "vol-4", ResourceType: "volume", CreatedAt: e.base.Add(-3 * time.Hour), FinishedAt: e.base.Add(-2 * time.Hour),
		Code: "VolumeBackup.0064", Message: "snapshot <failed> & quota\nexceeded"})
	e.writeConfig(e.alphaBetaConfig("    resource_names: true\n    evs_endpoint: "+e.simA.URL()+"\n", ""))
	if code, body, _ := htRead(t, e.do(context.Background(), http.MethodPost, "/-/reload", nil)); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	e.scrape("/metrics")
	_, body, _ := e.get("/")
	htContains(t, "the status page", body,
		`<tr><td>alpha-daily</td><td>vol-2 (db-data)</td><td>volume</td><td>EXECUTE_FAIL</td><td>1</td><td>none</td><td>none</td></tr>`,
		`<tr><td>alpha-daily</td><td>vol-4</td><td>volume</td><td>EXECUTE_FAIL</td><td>1</td><td>VolumeBackup.0064</td>`+
			`<td>snapshot &lt;failed&gt; &amp; quota exceeded</td></tr>`)
}
