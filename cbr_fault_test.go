package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/cbr/cbrtest"
)

// The CBR side of the fault suite (issue 12, "Parity"): each case runs its
// own exporter on two CBR simulators of the demo account, "cbr" (faulted)
// and "cbr2" (healthy), with page_size 5 so that the 12 tasks take pages.

// cbrFaultCase is one fault on the "cbr" target: a baseline scrape with
// every API healthy, then the faults, then one scrape per entry of up.
type cbrFaultCase struct {
	name    string
	timeout string // X-Prometheus-Scrape-Timeout-Seconds of the fault scrapes ("" = none)
	faults  []cbrtest.Fault
	// up and success are vbs_up{target="cbr"} and every policy's
	// vbs_policy_refresh_success (a CBR target reads its jobs in one walk
	// for all policies: they succeed or fail together) after each scrape.
	up, success []float64
	// requests are the simulator's requests of each operation in each
	// scrape (operations not named: not checked).
	requests map[string][]int
	// backoff: the credentials back-off must be in force after each scrape
	// (else vbs_auth_backoff_until_timestamp_seconds must be 0).
	backoff bool
	// logs are strings the exporter's log must hold after the fault scrapes.
	logs []string
}

// cbrOtherAK is the access key of the healthy target (same secret key).
const cbrOtherAK = "RELAKIDAKSKTARGET02"

// cbrFaultEnv is one case's exporter and simulators.
type cbrFaultEnv struct {
	app        *testApp
	sim, other *cbrtest.Server
}

// cbrPolicies are the demo's policy IDs (the pseudo-policy of manual
// backups, policy_id "", exports no vbs_policy_refresh_success).
var cbrPolicies = []string{"5b9e0c1d-2f3a-4b4c-8d5e-6f7a8b9c0d1e", "0c7d2e91-4a3b-4c5d-9e6f-7a8b9c0d1e2f", "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"}

func newCBRFaultEnv(t *testing.T, sink *relSink) *cbrFaultEnv {
	t.Helper()
	dir := t.TempDir()
	now := time.Now().UTC()
	e := &cbrFaultEnv{
		sim:   cbrtest.NewServer(cbrtest.Options{ProjectID: relProjectA, AccessKey: relAccessKey, SecretKey: relSecretKey}),
		other: cbrtest.NewServer(cbrtest.Options{ProjectID: relProjectB, AccessKey: cbrOtherAK, SecretKey: relSecretKey}),
	}
	t.Cleanup(e.sim.Close)
	t.Cleanup(e.other.Close)
	e.sim.Load(cbrtest.DemoScenario(now))
	e.other.Load(cbrtest.DemoScenario(now))
	writeFile(t, filepath.Join(dir, "secret_key"), relSecretKey+"\n")
	cfg := filepath.Join(dir, "vbs.yml")
	var b strings.Builder
	b.WriteString("targets:\n")
	// Distinct access keys: a key's credentials back-off is shared by the
	// targets signing with it, and the fault concerns only "cbr".
	for _, tg := range []struct {
		name, project, ak string
		sim               *cbrtest.Server
	}{{"cbr", relProjectA, relAccessKey, e.sim}, {"cbr2", relProjectB, cbrOtherAK, e.other}} {
		fmt.Fprintf(&b, `  - name: %s
    service: cbr
    region: eu-west-101
    project_id: %s
    endpoint: %s
    page_size: 5
    auth:
      access_key: %s
      secret_key_file: secret_key
`, tg.name, tg.project, tg.sim.URL(), tg.ak)
	}
	writeFile(t, cfg, b.String())
	e.app = newTestApp(t, cfg, testAppOptions{defaultTimeout: 10 * time.Second})
	e.app.sink = sink
	t.Cleanup(func() { sink.add("logs", e.app.logs.String()) })
	return e
}

// cbrOps are the simulator's operations, for the request counts.
var cbrOps = []string{cbrtest.OpListPolicies, cbrtest.OpListVaults, cbrtest.OpListOperationLogs, cbrtest.OpShowOperationLog}

// cbrHealthy are the requests of a healthy scrape of the demo account with
// page_size 5 in steady state: the policy list, the vault list (a page and
// the empty page that ends it), and 8 task-list pages: the read of new tasks
// from the kept cursor and the re-check of the 2 open tasks (running,
// waiting), each a walk of pages ending with an empty one.
var cbrHealthy = map[string]int{cbrtest.OpListPolicies: 1, cbrtest.OpListVaults: 2, cbrtest.OpListOperationLogs: 8, cbrtest.OpShowOperationLog: 0}

// cbrKeep are the metrics a failure legitimately changes; every other
// vbs_* line of the faulted target must keep its baseline value.
var cbrKeep = []string{"vbs_up", "vbs_policy_refresh_success", relBackoffMetric}

func cbrFaultCases() []cbrFaultCase {
	logs, pols, vaults := cbrtest.OpListOperationLogs, cbrtest.OpListPolicies, cbrtest.OpListVaults
	return []cbrFaultCase{
		{name: "429 storm on the operation logs", faults: []cbrtest.Fault{{Op: logs, Status: 429, Code: cbrtest.CodeThrottled, Message: "throttled"}},
			up: []float64{1, 1}, success: []float64{0, 0}, requests: map[string][]int{logs: {8, 8}, pols: {1, 1}, vaults: {2, 2}},
			logs: []string{`target=cbr operation=list_operation_logs status=429 code=APIGW.0308`}},
		{name: "503 burst of 2 within the retry budget", faults: []cbrtest.Fault{{Op: logs, Status: 503, Times: 2}},
			up: []float64{1}, success: []float64{1}, requests: map[string][]int{logs: {10}, pols: {1}, vaults: {2}}},
		{name: "500 on the operation logs", faults: []cbrtest.Fault{{Op: logs, Status: 500, Message: "internal error for key " + relSecretKey}},
			up: []float64{1, 1}, success: []float64{0, 0}, requests: map[string][]int{logs: {8, 8}, pols: {1, 1}, vaults: {2, 2}},
			logs: []string{`msg="reading the project's new jobs failed; keeping what was read, the next refresh resumes from there" component=collector target=cbr operation=list_operation_logs status=500 code=BackupService.9910`}},
		{name: "503 on the policy list", faults: []cbrtest.Fault{{Op: pols, Status: 503}},
			up: []float64{0, 0}, success: []float64{0, 0}, requests: map[string][]int{logs: {0, 0}, pols: {4, 4}, vaults: {0, 0}},
			logs: []string{`target=cbr operation=list_policies status=503 code=BackupService.9910`}},
		// 2.5 s scrapes: a 1.75 s refresh, time enough for the healthy
		// calls under -race on a loaded machine.
		{name: "hung connection on the operation logs (2.5 s scrape)", timeout: "2.5", faults: []cbrtest.Fault{{Op: logs, Delay: time.Hour}},
			up: []float64{1, 1}, success: []float64{0, 0}, requests: map[string][]int{logs: {1, 1}, pols: {1, 1}, vaults: {2, 2}},
			logs: []string{`target=cbr operation=list_operation_logs err="list_operation_logs: context deadline exceeded"`}},
		{name: "malformed JSON on the operation logs", faults: []cbrtest.Fault{{Op: logs, Body: []byte(`{"operation_logs": [{"id": 7,]}`)}},
			up: []float64{1, 1}, success: []float64{0, 0}, requests: map[string][]int{logs: {2, 2}, pols: {1, 1}, vaults: {2, 2}},
			logs: []string{`target=cbr operation=list_operation_logs err="list_operation_logs: decode response (HTTP 200, request_id `, "operation logs: invalid character ']' looking for beginning of object key string"}},
		{name: "truncated JSON on the operation logs", faults: []cbrtest.Fault{{Op: logs, Body: []byte(`{"operation_logs": [{"id": "0f`)}},
			up: []float64{1, 1}, success: []float64{0, 0}, requests: map[string][]int{logs: {8, 8}, pols: {1, 1}, vaults: {2, 2}},
			logs: []string{"operation logs: unexpected end of JSON input"}},
		{name: "401 APIGW.0301 on every call", faults: []cbrtest.Fault{{Status: 401, Code: cbrtest.CodeAuthFailed, Message: "Incorrect IAM authentication information: " + relSecretKey}},
			up: []float64{0, 0, 0}, success: []float64{0, 0, 0}, backoff: true,
			requests: map[string][]int{logs: {0, 0, 0}, pols: {1, 0, 0}, vaults: {0, 0, 0}},
			logs:     []string{"target=cbr operation=list_policies status=401 code=APIGW.0301", "no request is sent until the back-off ends"}},
		{name: "a server that ignores offset", faults: []cbrtest.Fault{{Op: logs, IgnoreOffset: true}},
			up: []float64{1, 1}, success: []float64{0, 0}, requests: map[string][]int{logs: {8, 8}, pols: {1, 1}, vaults: {2, 2}},
			logs: []string{"3 pages in a row held no new task at offset", "(is offset ignored?)"}},
		// The vault list failing after it was read once: the policies and
		// the jobs are read as usual and the last vault list stands in, so
		// no policy looks emptied of its resources (which would silence its
		// disks' alerts) and the target stays up.
		{name: "503 on the vault list", faults: []cbrtest.Fault{{Op: vaults, Status: 503}},
			up: []float64{1, 1}, success: []float64{1, 1}, requests: map[string][]int{logs: {8, 8}, pols: {1, 1}, vaults: {4, 4}},
			logs: []string{`msg="listing the vaults failed; the vaults and the policies' resource counts are those of the last list read" component=collector target=cbr operation=list_vaults status=503 code=BackupService.9910`}},
	}
}

func TestFaultSuiteCBR(t *testing.T) {
	t.Parallel()
	sink := &relSink{}
	start := time.Now()
	var mu sync.Mutex
	took := map[string]time.Duration{}
	t.Run("cases", func(t *testing.T) {
		for _, c := range cbrFaultCases() {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				cs := time.Now()
				cbrRunCase(t, newCBRFaultEnv(t, sink), c)
				mu.Lock()
				took[c.name] = time.Since(cs)
				mu.Unlock()
			})
		}
	})
	for _, c := range cbrFaultCases() {
		t.Logf("%-60s %v", c.name, took[c.name].Round(10*time.Millisecond))
	}
	t.Logf("CBR fault suite: %d cases in %v", len(took), time.Since(start).Round(10*time.Millisecond))
	t.Run("Secrets", func(t *testing.T) {
		n, _ := sink.scan(t)
		if n < 3*len(took) {
			t.Errorf("scanned only %d outputs", n)
		}
		t.Logf("scanned %d outputs for %d secrets", n, len(relSecrets))
	})
}

// cbrScrapeLimit is how long a scrape with the X-Prometheus-Scrape-Timeout-Seconds
// value timeout may take: the timeout plus 1 s; 0 (no limit) for none.
func cbrScrapeLimit(timeout string) time.Duration {
	secs, err := strconv.ParseFloat(timeout, 64)
	if timeout == "" || err != nil {
		return 0
	}
	return time.Duration(secs*float64(time.Second)) + time.Second
}

// cbrCounts returns the simulator's request count of each operation.
func cbrCounts(sim *cbrtest.Server) map[string]int {
	m := map[string]int{}
	for _, op := range cbrOps {
		m[op] = sim.Requests(op)
	}
	return m
}

func cbrRunCase(t *testing.T, e *cbrFaultEnv, c cbrFaultCase) {
	baseline := e.app.scrapeAll("")
	if v, _ := relValue(t, baseline, "vbs_up", "target", "cbr"); v != 1 {
		t.Fatalf("baseline: vbs_up{target=\"cbr\"} = %v\n%s", v, e.app.logs.String())
	}
	for _, p := range cbrPolicies {
		if v, ok := relValue(t, baseline, "vbs_policy_refresh_success", "target", "cbr", "policy_id", p); !ok || v != 1 {
			t.Fatalf("baseline: policy %q not refreshed (%v, %v)\n%s", p, v, ok, strings.Join(relSelect(baseline, "cbr", "", false), "\n"))
		}
	}
	for _, want := range []string{"vbs_policy_jobs", "vbs_vault_"} {
		if !strings.Contains(strings.Join(relSelect(baseline, "cbr", "", false), "\n"), want) {
			t.Fatalf("baseline lacks %s", want)
		}
	}
	// A second healthy scrape: the lines a healthy refresh exports (the
	// steady state the faults are compared to).
	hb := cbrCounts(e.sim)
	healthy := e.app.scrapeAll("")
	ha := cbrCounts(e.sim)
	for op, want := range cbrHealthy {
		if got := ha[op] - hb[op]; got != want {
			t.Errorf("a healthy scrape: %d %s requests, want %d", got, op, want)
		}
	}
	relSame(t, "a healthy second scrape", relSelect(baseline, "cbr", "", false), relSelect(healthy, "cbr", "", false))
	for _, f := range c.faults {
		e.sim.AddFault(f)
	}
	for i := range c.up {
		before := cbrCounts(e.sim)
		start := time.Now()
		body := e.app.scrapeAll(c.timeout)
		d := time.Since(start)
		after := cbrCounts(e.sim)
		if limit := cbrScrapeLimit(c.timeout); limit > 0 && d > limit {
			t.Errorf("scrape %d took %v with a %s s scrape timeout", i+1, d, c.timeout)
		}
		if v, _ := relValue(t, body, "vbs_up", "target", "cbr"); v != c.up[i] {
			t.Errorf("scrape %d: vbs_up{target=\"cbr\"} = %v, want %v", i+1, v, c.up[i])
		}
		for _, p := range cbrPolicies {
			if v, ok := relValue(t, body, "vbs_policy_refresh_success", "target", "cbr", "policy_id", p); !ok || v != c.success[i] {
				t.Errorf("scrape %d: vbs_policy_refresh_success{policy_id=%q} = %v (present %v), want %v", i+1, p, v, ok, c.success[i])
			}
		}
		for op, want := range c.requests {
			if got := after[op] - before[op]; got != want[i] {
				t.Errorf("scrape %d: %d %s requests, want %d", i+1, got, op, want[i])
			}
		}
		bo, _ := relValue(t, body, relBackoffMetric, "target", "cbr")
		if c.backoff && bo <= float64(time.Now().Unix()) {
			t.Errorf("scrape %d: %s = %v, want the back-off end in the future", i+1, relBackoffMetric, bo)
		}
		if !c.backoff && bo != 0 {
			t.Errorf("scrape %d: %s = %v, want 0", i+1, relBackoffMetric, bo)
		}
		// Last known (or, recovered, freshly read and identical) values.
		want, got := relSelect(baseline, "cbr", "", false, cbrKeep...), relSelect(body, "cbr", "", false, cbrKeep...)
		relSame(t, fmt.Sprintf("scrape %d: the faulted target's values", i+1), want, got)
		relSame(t, fmt.Sprintf("scrape %d: the healthy target", i+1), relSelect(baseline, "cbr2", "", false), relSelect(body, "cbr2", "", false))
		if !slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "vbs_policy_jobs{") }) {
			t.Errorf("scrape %d: no vbs_policy_jobs line left", i+1)
		}
	}
	for _, want := range c.logs {
		if !strings.Contains(e.app.logs.String(), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", e.app.logs.String())
	}
}
