package main

// Reliability and security tests (issue 5): the fault-injection suite against
// the internal/vbs/vbstest simulator, a scan of everything the exporter emitted during
// it for secrets, hostile and concurrent use of the HTTP endpoints. They run
// on testApp's fault fixture (newFaultApp, testapp_test.go).

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vbs-exporter/vbs_exporter/config"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// Distinctive credentials: the secrets scan looks for these (and for every
// IAM token the simulators issued) in everything the exporter emitted.
const (
	relAccessKey     = "RELAKIDAKSKTARGET01" // an identifier, not a secret
	relSecretKey     = "relSK-9f3e1c7a-SECRETKEY-5d2b80e4"
	relSecurityToken = "relST-4b8d61f2-SECURITYTOKEN-a1c9e7"
	relPassword      = "relPW-7c2a90b3-IAMPASSWORD-e5f01d"
	relDomain        = "rel-domain"
	relUser          = "rel-user"
	relProjectA      = "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0aaa"
	relProjectB      = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0bbb"
)

// relSecrets are the configured secret values.
var relSecrets = []string{relSecretKey, relSecurityToken, relPassword}

// ---------------------------------------------------------------------------
// Output capture

// relSink collects everything the exporter emitted, for the secrets scan.
type relSink struct {
	mu     sync.Mutex
	texts  []string
	tokens []string // IAM tokens the simulators issued
}

func (s *relSink) add(source, text string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append(s.texts, source+"\n"+text)
}

func (s *relSink) addTokens(toks []string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = append(s.tokens, toks...)
}

// scan reports every secret (configured or issued token) found in what was
// emitted; a secret is also looked for by an inner fragment, so that a cut or
// partly redacted value is caught too.
func (s *relSink) scan(t *testing.T) (texts, tokens int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	needles := map[string]string{}
	for _, sec := range relSecrets {
		needles[sec] = "configured secret"
		needles[sec[6:len(sec)-6]] = "fragment of a configured secret"
	}
	for _, tok := range s.tokens {
		needles[tok] = "IAM token"
		if len(tok) > 40 {
			needles[tok[10:40]] = "fragment of an IAM token"
		}
	}
	for _, text := range s.texts {
		for n, what := range needles {
			if i := strings.Index(text, n); i >= 0 {
				src, _, _ := strings.Cut(text, "\n")
				lo, hi := max(0, i-120), min(len(text), i+len(n)+40)
				t.Errorf("%s found in %s: …%s…", what, src, text[lo:hi])
			}
		}
	}
	return len(s.texts), len(s.tokens)
}

// ---------------------------------------------------------------------------
// The environment: two simulators, two targets, the exporter's handlers

// relTarget is one simulated project and the exporter target reading it.
type relTarget struct {
	name     string
	sim      *vbstest.Server
	sc       vbstest.Scenario
	policies []string // policy IDs in listing order
}

// relScenario generates three policies (daily, every 2 days, weekly) of four
// disks over three days: 12, 4-8 and 4 jobs, so that with page_size 10 the
// daily policy takes two pages.
func relScenario(now time.Time, seed int64) vbstest.Scenario {
	return vbstest.Generate(vbstest.GenOptions{
		Policies: 3, Disks: 4, Days: 3, Now: now, Seed: seed,
		FailRate: 0.15, TimeoutRate: 0.1, SkipRate: 0.1,
	})
}

// faultConfig renders the configuration: the aksk target discovers its policies,
// the iam target lists them. withIAM false leaves the iam target out.
func (e *testApp) faultConfig(withIAM bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `targets:
  - name: aksk
    region: cn-north-4
    project_id: %s
    endpoint: %s
    page_size: 10
    auth:
      access_key: %s
      secret_key_file: secret_key
      security_token_file: security_token
`, relProjectA, e.aksk.sim.URL(), relAccessKey)
	if withIAM {
		fmt.Fprintf(&b, `  - name: iam
    region: cn-north-4
    project_id: %s
    endpoint: %s
    page_size: 10
    policies: [%s]
    auth:
      iam_endpoint: %s
      domain: %s
      user: %s
      password_file: password
`, relProjectB, e.iam.sim.URL(), strings.Join(e.iam.policies, ", "), e.iam.sim.URL(), relDomain, relUser)
	}
	return b.String()
}

func (e *testApp) target(name string) *relTarget {
	if name == "iam" {
		return e.iam
	}
	return e.aksk
}

func (e *testApp) other(name string) *relTarget {
	if name == "iam" {
		return e.aksk
	}
	return e.iam
}

// scrapeAll GETs /metrics with the given X-Prometheus-Scrape-Timeout-Seconds
// ("" for none), requires 200 and a parseable body, and returns the body.
func (e *testApp) scrapeAll(timeout string) string {
	e.t.Helper()
	hdr := http.Header{}
	if timeout != "" {
		hdr.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout)
	}
	code, body := e.serve(http.MethodGet, "/metrics", hdr)
	if code != http.StatusOK {
		e.t.Fatalf("scrape: HTTP %d: %s", code, body)
	}
	relParse(e.t, body)
	return body
}

// relParse parses a text exposition.
func relParse(t testing.TB, body string) map[string]*dto.MetricFamily {
	t.Helper()
	if mfs, ok := relParsed.get(body); ok {
		return mfs
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, body)
	}
	relParsed.put(body, mfs)
	return mfs
}

// relParsed remembers the last expositions parsed: the cases read many
// values from each body, and parsing it again for each (under -race) was
// most of the fault suite's CPU time. Callers only read the result.
var relParsed = &parseCache{max: 64}

// parseCache maps exposition bodies to their parsed families; it forgets
// everything when it holds max bodies.
type parseCache struct {
	mu  sync.Mutex
	max int
	m   map[string]map[string]*dto.MetricFamily
}

func (c *parseCache) get(body string) (map[string]*dto.MetricFamily, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	mfs, ok := c.m[body]
	return mfs, ok
}

func (c *parseCache) put(body string, mfs map[string]*dto.MetricFamily) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]map[string]*dto.MetricFamily)
	}
	c.m[body] = mfs
}

// relValue returns the value of the sample of name whose labels include the
// given name/value pairs; ok false when there is none.
func relValue(t testing.TB, body, name string, kv ...string) (float64, bool) {
	t.Helper()
	mf := relParse(t, body)[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(kv); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == kv[i] && lp.GetValue() == kv[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// relVolatile are exposition lines that legitimately change between scrapes
// whatever happens: timings and request counters.
var relVolatile = []string{"vbs_refresh_duration_seconds", "vbs_api_", "vbs_exporter_", "go_", "process_", "promhttp_"}

// relSelect returns the vbs_* exposition lines of target (all of them when
// policy is ""; those of policy, or all but policy's when except is set),
// without the volatile ones and without the success metrics named in drop.
func relSelect(body, target, policy string, except bool, drop ...string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if l == "" || l[0] == '#' || !strings.HasPrefix(l, "vbs_") {
			continue
		}
		name := l[:strings.IndexAny(l, "{ ")]
		if slices.ContainsFunc(relVolatile, func(p string) bool { return strings.HasPrefix(name, p) }) || slices.Contains(drop, name) {
			continue
		}
		if !strings.Contains(l, `target="`+target+`"`) {
			continue
		}
		if policy != "" {
			has := strings.Contains(l, `policy_id="`+policy+`"`)
			if has == except {
				continue
			}
		}
		out = append(out, l)
	}
	return out
}

// relSame fails when two line sets differ, showing the difference.
func relSame(t testing.TB, what string, want, got []string) {
	t.Helper()
	if slices.Equal(want, got) {
		return
	}
	var missing, extra []string
	for _, l := range want {
		if !slices.Contains(got, l) {
			missing = append(missing, l)
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			extra = append(extra, l)
		}
	}
	t.Errorf("%s changed (%d lines before, %d now)\nmissing:\n  %s\nnew:\n  %s", what, len(want), len(got),
		strings.Join(missing, "\n  "), strings.Join(extra, "\n  "))
}

// policyPath is the path of a policy's tasks call as the simulator logs it.
func relPolicyPath(project, policy string) string {
	return "/v2/" + project + "/backuppolicy/" + policy + "/backuptasks"
}

// requestsFor returns the simulator's log of op requests, of one policy's
// tasks when policy is set.
func (rt *relTarget) requestsFor(op, project, policy string) []vbstest.RequestRecord {
	var out []vbstest.RequestRecord
	for _, r := range rt.sim.RequestLog(op) {
		if policy == "" || r.Path == relPolicyPath(project, policy) {
			out = append(out, r)
		}
	}
	return out
}

func (rt *relTarget) project() string {
	if rt.name == "iam" {
		return relProjectB
	}
	return relProjectA
}

// addJobs adds jobs to a policy, n of them newer than the generated history
// (one minute apart, on the policy's disks), tweaked by fn (may be nil).
func (e *testApp) addJobs(rt *relTarget, policy string, n int, fn func(i int, j *vbstest.Job)) []vbstest.Job {
	var disks []vbstest.Job
	seen := map[string]bool{}
	for _, j := range rt.sc.Jobs[policy] {
		if !seen[j.ResourceID] {
			seen[j.ResourceID] = true
			disks = append(disks, j)
		}
	}
	var jobs []vbstest.Job
	for i := range n {
		created := e.now.Add(time.Duration(i+1) * time.Minute)
		d := disks[i%len(disks)]
		j := vbstest.Job{
			JobID: fmt.Sprintf("rel-%s-%03d", policy[:8], i), Status: vbstest.StatusExecuteSuccess,
			ResourceID: d.ResourceID, ResourceType: d.ResourceType, BackupName: "rel-backup",
			CreatedAt: created, FinishedAt: created.Add(7 * time.Minute),
		}
		if fn != nil {
			fn(i, &j)
		}
		jobs = append(jobs, j)
	}
	rt.sim.AddJobs(policy, jobs...)
	return jobs
}

// ---------------------------------------------------------------------------
// The fault-injection suite

// relCase is one fault or input. The generic flow: a baseline scrape with
// every API healthy, then setup, then len(want) scrapes; after each the
// affected policy (scope "policy") or target (scope "target") must report
// want[i] in vbs_policy_refresh_success / vbs_up, the other target (and, for
// a policy fault, the target's other policies) must export exactly the
// baseline lines, and a failing policy or target must keep its last known
// values. A failure must be logged with target, policy_id (policy scope),
// operation and — when a response arrived — the vendor request ID.
type relCase struct {
	name    string
	target  string // "aksk" (AK/SK, discovered policies) or "iam" (IAM password, configured policies)
	scope   string // "policy" or "target"
	timeout string // X-Prometheus-Scrape-Timeout-Seconds of the fault scrapes ("" = none: 10s)
	setup   func(e *testApp, rt *relTarget, policy string)
	want    []bool
	// op is the operation the failure log line names; reqID says whether it
	// must carry the vendor request ID (false when no response arrived).
	op    string
	reqID bool
	// attempts, when set, is the number of requests of the affected policy
	// (or, for scope target, of the operation op) the simulator must see in
	// each fault scrape.
	attempts []int
	// transportRetries: Go's HTTP transport itself replays a GET that failed
	// on a reused connection, so each attempt may cost two requests.
	transportRetries bool
	// changesValues: the input legitimately changes the affected policy's
	// values (new jobs were read), so they are not compared to the baseline.
	changesValues bool
	// check runs after the fault scrapes with their bodies.
	check func(t *testing.T, e *testApp, rt *relTarget, policy string, baseline string, bodies []string)
	// run replaces the generic flow entirely.
	run func(t *testing.T, e *testApp)
}

func relStatusFault(status int, times int) func(e *testApp, rt *relTarget, p string) {
	return func(_ *testApp, rt *relTarget, p string) {
		rt.sim.AddFault(vbstest.Fault{Kind: vbstest.FaultStatus, Status: status, Operation: vbstest.OpListTasks, PolicyID: p, Times: times})
	}
}

func relFault(f vbstest.Fault) func(e *testApp, rt *relTarget, p string) {
	return func(_ *testApp, rt *relTarget, p string) {
		if f.Operation == vbstest.OpListTasks {
			f.PolicyID = p
		}
		rt.sim.AddFault(f)
	}
}

func relCases() []relCase {
	tasks := vbstest.OpListTasks
	cases := []relCase{
		{name: "429 storm without Retry-After", target: "aksk", scope: "policy",
			setup: relStatusFault(http.StatusTooManyRequests, 0), want: []bool{false, false},
			op: "list_tasks", reqID: true, attempts: []int{4, 4}},
		// 2.75 s: a 2 s refresh (2.25 s budget less refreshMargin), so that
		// the first attempt may come up to 1 s into it on a loaded machine
		// and still be retried after the 1 s wait, while a third attempt,
		// a second wait later, never fits.
		{name: "429 storm with Retry-After 1s", target: "iam", scope: "policy", timeout: "2.75",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultStatus, Status: 429, Operation: tasks, RetryAfter: "1"}),
			want:  []bool{false, false}, op: "list_tasks", reqID: true, attempts: []int{2, 2}},
		{name: "429 storm with Retry-After 3600s", target: "aksk", scope: "policy",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultStatus, Status: 429, Operation: tasks, RetryAfter: "3600"}),
			want:  []bool{false}, op: "list_tasks", reqID: true, attempts: []int{1}},
		{name: "500 burst of 5 that recovers", target: "aksk", scope: "policy",
			setup: relStatusFault(500, 5), want: []bool{false, true}, op: "list_tasks", reqID: true, attempts: []int{4, 2}},
		{name: "502 burst of 5 that recovers", target: "iam", scope: "policy",
			setup: relStatusFault(502, 5), want: []bool{false, true}, op: "list_tasks", reqID: true, attempts: []int{4, 2}},
		{name: "503 burst of 5 that recovers", target: "aksk", scope: "policy",
			setup: relStatusFault(503, 5), want: []bool{false, true}, op: "list_tasks", reqID: true, attempts: []int{4, 2}},
		{name: "504 burst of 5 that recovers", target: "iam", scope: "policy",
			setup: relStatusFault(504, 5), want: []bool{false, true}, op: "list_tasks", reqID: true, attempts: []int{4, 2}},
		{name: "503 burst of 2 within the retry budget", target: "aksk", scope: "policy",
			setup: relStatusFault(503, 2), want: []bool{true}, attempts: []int{3}},
		{name: "503 burst on the policy list that recovers", target: "aksk", scope: "target",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultStatus, Status: 503, Operation: vbstest.OpListPolicies, Times: 5}),
			want:  []bool{false, true}, op: "list_policies", reqID: true, attempts: []int{4, 2}},
		// 2.5 s scrapes: a 1.75 s refresh, time enough for the healthy
		// calls under -race on a loaded machine.
		{name: "hung connection on the jobs call", target: "aksk", scope: "policy", timeout: "2.5",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultHang, Operation: tasks}),
			want:  []bool{false, false}, op: "list_tasks", attempts: []int{1, 1}},
		{name: "hung connection on the policy list", target: "iam", scope: "target", timeout: "2.5",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultHang, Operation: vbstest.OpListPolicies}),
			want:  []bool{false, false}, op: "list_policies", attempts: []int{1, 1}},
		{name: "slow answer beyond the scrape timeout (3s latency, 2.5s scrape)", target: "aksk", scope: "policy", timeout: "2.5",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultLatency, Operation: tasks, Latency: 3 * time.Second}),
			want:  []bool{false}, op: "list_tasks", attempts: []int{1}},
		{name: "slow answer within the scrape timeout (300ms latency)", target: "iam", scope: "policy",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultLatency, Operation: tasks, Latency: 300 * time.Millisecond}),
			want:  []bool{true}, attempts: []int{1}},
		{name: "connection reset", target: "aksk", scope: "policy",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultReset, Operation: tasks}),
			want:  []bool{false, false}, op: "list_tasks", attempts: []int{4, 4}, transportRetries: true},
		{name: "connection reset on the IAM token call", target: "iam", scope: "target",
			setup: func(e *testApp, rt *relTarget, _ string) {
				rt.sim.AddFault(vbstest.Fault{Kind: vbstest.FaultReset, Operation: vbstest.OpIAMToken})
				relForceTokenFetch(e)
			},
			want: []bool{false}, op: "list_policies"},
		{name: "body cut short (Content-Length announced, connection dropped)", target: "iam", scope: "policy",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultCutBody, Operation: tasks}),
			want:  []bool{false}, op: "list_tasks", attempts: []int{4}, transportRetries: true},
		{name: "truncated JSON", target: "aksk", scope: "policy",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultTruncatedJSON, Operation: tasks}),
			want:  []bool{false, false}, op: "list_tasks", reqID: true, attempts: []int{4, 4}},
		{name: "malformed JSON", target: "iam", scope: "policy",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultMalformedJSON, Operation: tasks}),
			want:  []bool{false, false}, op: "list_tasks", reqID: true, attempts: []int{1, 1}},
		{name: "malformed JSON in the policy list", target: "aksk", scope: "target",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultMalformedJSON, Operation: vbstest.OpListPolicies}),
			want:  []bool{false}, op: "list_policies", reqID: true, attempts: []int{1}},
		{name: "empty 200 body", target: "aksk", scope: "policy",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultEmptyBody, Operation: tasks}),
			want:  []bool{false}, op: "list_tasks", reqID: true, attempts: []int{4}},
		{name: "HTML error page (502 from a proxy)", target: "aksk", scope: "policy",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultHTML, Operation: tasks}),
			want:  []bool{false, false}, op: "list_tasks", reqID: true, attempts: []int{4, 4}},
		{name: "HTML page with 200", target: "iam", scope: "policy",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultHTML, Status: 200, Operation: tasks}),
			want:  []bool{false}, op: "list_tasks", reqID: true, attempts: []int{1}},
		{name: "wrong Content-Type (text/plain) on a valid body", target: "aksk", scope: "policy",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultWrongContentType, Operation: tasks}),
			want:  []bool{true}, attempts: []int{1}},
		{name: "body over the 16 MiB cap (17 MiB, chunked)", target: "iam", scope: "policy",
			setup: relFault(vbstest.Fault{Kind: vbstest.FaultOversize, Operation: tasks}),
			want:  []bool{false}, op: "list_tasks", attempts: []int{1}},
		{name: "marker that never advances", target: "aksk", scope: "policy", changesValues: true,
			setup: func(e *testApp, rt *relTarget, p string) {
				e.addJobs(rt, p, 15, nil)
				rt.sim.AddFault(vbstest.Fault{Kind: vbstest.FaultStuckMarker, Operation: tasks, PolicyID: p})
			},
			want: []bool{false, false}, op: "list_tasks", attempts: []int{2, 2},
			check: func(t *testing.T, e *testApp, rt *relTarget, p, baseline string, bodies []string) {
				// Only the first page (10 of the 15 new jobs) can be read.
				before, _ := relValue(t, baseline, "vbs_policy_cached_jobs", "policy_id", p)
				for i, b := range bodies {
					got, _ := relValue(t, b, "vbs_policy_cached_jobs", "policy_id", p)
					if got != before+10 {
						t.Errorf("scrape %d: vbs_policy_cached_jobs = %v, want %v (baseline + the 10 jobs of page 1)", i+1, got, before+10)
					}
					if v, _ := relValue(t, b, "vbs_policy_backfill_complete", "policy_id", p); v != 0 {
						t.Errorf("scrape %d: vbs_policy_backfill_complete = %v, want 0", i+1, v)
					}
				}
			}},
		{name: "duplicate jobs across pages", target: "iam", scope: "policy", changesValues: true,
			setup: func(e *testApp, rt *relTarget, p string) {
				e.addJobs(rt, p, 15, nil)
				rt.sim.AddFault(vbstest.Fault{Kind: vbstest.FaultDuplicatePages, Operation: tasks, PolicyID: p})
			},
			want: []bool{true, true}, attempts: []int{2, 1},
			check: func(t *testing.T, e *testApp, rt *relTarget, p, baseline string, bodies []string) {
				// Each job counted once: 15 more successes, 15 more cached jobs.
				relCheckDelta(t, baseline, bodies[0], p, 15)
			}},
		{name: "unknown statuses", target: "aksk", scope: "policy", changesValues: true,
			setup: func(e *testApp, rt *relTarget, p string) {
				odd := []string{"PENDING_REVIEW", "execute_success", "", "EXECUTE_SUCCESS "}
				e.addJobs(rt, p, len(odd), func(i int, j *vbstest.Job) { j.Status = odd[i] })
			},
			want: []bool{true}, attempts: []int{1},
			check: func(t *testing.T, e *testApp, rt *relTarget, p, baseline string, bodies []string) {
				before, _ := relValue(t, baseline, "vbs_policy_jobs", "policy_id", p, "status", "UNKNOWN")
				got, _ := relValue(t, bodies[0], "vbs_policy_jobs", "policy_id", p, "status", "UNKNOWN")
				if got != before+4 {
					t.Errorf(`vbs_policy_jobs{status="UNKNOWN"} = %v, want %v`, got, before+4)
				}
			}},
		{name: "missing job fields", target: "iam", scope: "policy", changesValues: true,
			setup: relMissingFields, want: []bool{true}, attempts: []int{1}, check: relCheckMissingFields},
		{name: "missing policy fields (name, schedule, resource count)", target: "aksk", scope: "policy", changesValues: true,
			setup: func(e *testApp, rt *relTarget, p string) {
				pol := rt.sc.Policies[0]
				pol.Omit = []string{"backup_policy_name", "scheduled_policy", "policy_resource_count"}
				rt.sim.AddPolicy(pol)
			},
			want: []bool{true}, attempts: []int{1},
			check: func(t *testing.T, e *testApp, rt *relTarget, p, baseline string, bodies []string) {
				if v, ok := relValue(t, bodies[0], "vbs_policy_refresh_success", "policy_id", p, "policy_name", ""); !ok || v != 1 {
					t.Errorf(`vbs_policy_refresh_success{policy_name=""} = %v, %v; want 1`, v, ok)
				}
			}},
		{name: "every timestamp form", target: "aksk", scope: "policy", changesValues: true,
			setup: relTimestampForms, want: []bool{true}, check: relCheckTimestampForms},
		{name: "garbage timestamps", target: "iam", scope: "policy", run: relGarbageTimestamps},
		{name: "finished_at before created_at", target: "aksk", scope: "policy", changesValues: true,
			setup: func(e *testApp, rt *relTarget, p string) {
				e.addJobs(rt, p, 1, func(_ int, j *vbstest.Job) {
					j.ResourceID, j.ResourceType = "rel-backwards", "volume"
					j.FinishedAt = j.CreatedAt.Add(-time.Hour)
				})
			},
			want: []bool{true}, attempts: []int{1},
			check: func(t *testing.T, e *testApp, rt *relTarget, p, baseline string, bodies []string) {
				created := e.now.Add(time.Minute)
				ts, ok := relValue(t, bodies[0], "vbs_resource_last_success_timestamp_seconds", "resource_id", "rel-backwards")
				if !ok || ts != float64(created.Add(-time.Hour).UnixMilli())/1000 {
					t.Errorf("last success timestamp = %v, %v; want finished_at %v", ts, ok, created.Add(-time.Hour).Unix())
				}
				if d, ok := relValue(t, bodies[0], "vbs_resource_last_success_duration_seconds", "resource_id", "rel-backwards"); !ok || d != 0 {
					t.Errorf("last success duration = %v, %v; want 0 (a negative duration is clamped)", d, ok)
				}
				hb, _ := relValue(t, baseline, "vbs_policy_window_backup_duration_seconds", "policy_id", p)
				ha, _ := relValue(t, bodies[0], "vbs_policy_window_backup_duration_seconds", "policy_id", p)
				if ha != hb {
					t.Errorf("duration histogram count %v -> %v: a backwards job must not be observed", hb, ha)
				}
			}},
		{name: "revoked access key (401)", target: "aksk", scope: "target", run: relRevokedAK},
		{name: "wrong secret key (signature mismatch)", target: "aksk", scope: "target", run: relWrongSK},
		{name: "IAM token expired before the scrape", target: "iam", scope: "target", run: relTokenExpiredBetweenScrapes},
		{name: "IAM token expires mid-walk", target: "iam", scope: "policy", run: relTokenExpiresMidWalk},
		{name: "IAM token revoked, renewal refused (IAM 401)", target: "iam", scope: "target", run: relTokenRenewalRefused},
		{name: "policy deleted between the list and its job walk (404)", target: "aksk", scope: "policy", run: relPolicyDeletedMidWalk},
		{name: "configured policy deleted", target: "iam", scope: "policy", run: relConfiguredPolicyDeleted},
	}
	return cases
}

// relForceTokenFetch makes the iam target fetch a new token on its next
// scrape: the token is expired on the simulator and old enough (5 s) for the
// client to discard it on the 401.
func relForceTokenFetch(e *testApp) {
	relAgeToken(e)
	e.iam.sim.ExpireTokens()
}

// relAgeToken advances the targets' clock past the client's 5 s minimum
// token age for renewal, as waiting after the baseline scrape would.
func relAgeToken(e *testApp) {
	e.clock.advance(5100 * time.Millisecond)
}

// relCheckDelta checks that n successful jobs were added to the policy's
// counts, each exactly once.
func relCheckDelta(t *testing.T, baseline, body, p string, n float64) {
	t.Helper()
	for _, m := range []struct{ name, status string }{{"vbs_policy_cached_jobs", ""}, {"vbs_policy_jobs", "EXECUTE_SUCCESS"}} {
		kv := []string{"policy_id", p}
		if m.status != "" {
			kv = append(kv, "status", m.status)
		}
		before, _ := relValue(t, baseline, m.name, kv...)
		got, _ := relValue(t, body, m.name, kv...)
		if got != before+n {
			t.Errorf("%s%v = %v, want %v (baseline %v + %v)", m.name, kv, got, before+n, before, n)
		}
	}
}

// relMissingFields adds jobs with fields left out, each on its own disk.
func relMissingFields(e *testApp, rt *relTarget, p string) {
	omits := [][]string{
		{"job_id"},
		{"status"},
		{"finished_at"},
		{"created_at"},
		{"created_at", "finished_at"},
		{"resource_type"},
		{"backup_name"},
		{"status", "job_id", "created_at", "finished_at", "backup_name", "resource_id", "resource_type"},
	}
	e.addJobs(rt, p, len(omits), func(i int, j *vbstest.Job) {
		j.ResourceID, j.ResourceType = fmt.Sprintf("rel-miss-%d", i), "volume"
		j.Omit = omits[i]
	})
}

func relCheckMissingFields(t *testing.T, e *testApp, rt *relTarget, p, baseline string, bodies []string) {
	b := bodies[0]
	created := func(i int) time.Time { return e.now.Add(time.Duration(i+1) * time.Minute) }
	secs := func(tm time.Time) float64 { return float64(tm.UnixMilli()) / 1000 }
	// Without job_id: still counted (keyed by disk and creation time).
	if v, ok := relValue(t, b, "vbs_resource_last_success_timestamp_seconds", "resource_id", "rel-miss-0"); !ok || v != secs(created(0).Add(7*time.Minute)) {
		t.Errorf("job without job_id: last success = %v, %v", v, ok)
	}
	// Without status: not a success; counted as UNKNOWN.
	if _, ok := relValue(t, b, "vbs_resource_last_success_timestamp_seconds", "resource_id", "rel-miss-1"); ok {
		t.Errorf("job without status counted as a success")
	}
	// Without finished_at: the last success falls back to created_at.
	if v, ok := relValue(t, b, "vbs_resource_last_success_timestamp_seconds", "resource_id", "rel-miss-2"); !ok || v != secs(created(2)) {
		t.Errorf("job without finished_at: last success = %v, %v; want created_at", v, ok)
	}
	// Without created_at: placed by finished_at.
	if v, ok := relValue(t, b, "vbs_resource_last_success_timestamp_seconds", "resource_id", "rel-miss-3"); !ok || v != secs(created(3).Add(7*time.Minute)) {
		t.Errorf("job without created_at: last success = %v, %v", v, ok)
	}
	// Without any time: cannot be placed in the window, skipped.
	if _, ok := relValue(t, b, "vbs_resource_consecutive_failures", "resource_id", "rel-miss-4"); ok {
		t.Errorf("job without any timestamp was exported")
	}
	// Without resource_type: kept with resource_type="".
	if _, ok := relValue(t, b, "vbs_resource_last_success_timestamp_seconds", "resource_id", "rel-miss-5", "resource_type", ""); !ok {
		t.Errorf("job without resource_type missing")
	}
	before, _ := relValue(t, baseline, "vbs_policy_jobs", "policy_id", p, "status", "UNKNOWN")
	got, _ := relValue(t, b, "vbs_policy_jobs", "policy_id", p, "status", "UNKNOWN")
	if got != before+1 {
		t.Errorf(`vbs_policy_jobs{status="UNKNOWN"} = %v, want %v (the job without status)`, got, before+1)
	}
}

// relTimestampForms lists the timestamp forms tried, as (created_at as sent).
// finished_at is sent in the same form, 10 minutes later.
type relTSForm struct {
	name   string
	layout string // Go layout applied to the time in zone loc
	loc    *time.Location
	pad    string // surrounds the value
}

func relTSForms() []relTSForm {
	cst := time.FixedZone("+08", 8*3600)
	ist := time.FixedZone("-0530", -(5*3600 + 30*60))
	forms := []relTSForm{
		{name: "no fraction", layout: "2006-01-02T15:04:05", loc: time.UTC},
	}
	for n := 1; n <= 9; n++ {
		forms = append(forms, relTSForm{name: fmt.Sprintf("%d-digit fraction", n), layout: "2006-01-02T15:04:05." + strings.Repeat("0", n), loc: time.UTC})
	}
	forms = append(forms,
		relTSForm{name: "Z", layout: "2006-01-02T15:04:05.000Z", loc: time.UTC},
		relTSForm{name: "6 digits and Z", layout: "2006-01-02T15:04:05.000000Z", loc: time.UTC},
		relTSForm{name: "+08:00", layout: "2006-01-02T15:04:05.000-07:00", loc: cst},
		relTSForm{name: "+0800", layout: "2006-01-02T15:04:05-0700", loc: cst},
		relTSForm{name: "+08", layout: "2006-01-02T15:04:05-07", loc: cst},
		relTSForm{name: "-05:30", layout: "2006-01-02T15:04:05-07:00", loc: ist},
		relTSForm{name: "space separator and +08:00", layout: "2006-01-02 15:04:05-07:00", loc: cst},
		relTSForm{name: "lower-case t and z", layout: "2006-01-02t15:04:05.000z", loc: time.UTC},
		relTSForm{name: "surrounding white space", layout: "2006-01-02T15:04:05.000", loc: time.UTC, pad: " "},
	)
	return forms
}

// relTSBase is the created_at of timestamp form i: a fraction with nine
// significant digits so that every cut is visible.
func relTSBase(e *testApp, i int) time.Time {
	return e.now.Add(time.Duration(i+1)*time.Minute + 123456789*time.Nanosecond)
}

func relTimestampForms(e *testApp, rt *relTarget, p string) {
	forms := relTSForms()
	e.addJobs(rt, p, len(forms), func(i int, j *vbstest.Job) {
		f := forms[i]
		j.ResourceID, j.ResourceType = fmt.Sprintf("rel-ts-%02d", i), "volume"
		c := relTSBase(e, i)
		j.CreatedAt, j.FinishedAt = c, c.Add(10*time.Minute)
		j.RawCreatedAt = f.pad + c.In(f.loc).Format(f.layout) + f.pad
		j.RawFinishedAt = f.pad + c.Add(10*time.Minute).In(f.loc).Format(f.layout) + f.pad
	})
}

func relCheckTimestampForms(t *testing.T, e *testApp, rt *relTarget, p, baseline string, bodies []string) {
	for i, f := range relTSForms() {
		c := relTSBase(e, i)
		raw := c.Add(10 * time.Minute).In(f.loc).Format(f.layout)
		// What the form carries (its fraction digits), cut to the
		// milliseconds the exporter keeps.
		precision := time.Second
		if _, frac, ok := strings.Cut(f.layout, "."); ok {
			digits := len(frac) - len(strings.TrimLeft(frac, "0"))
			precision = time.Duration(math.Pow10(9 - digits))
		}
		want := c.Add(10 * time.Minute).Truncate(precision)
		wantSecs := float64(want.UnixMilli()) / 1000
		got, ok := relValue(t, bodies[0], "vbs_resource_last_success_timestamp_seconds", "resource_id", fmt.Sprintf("rel-ts-%02d", i))
		if !ok || got != wantSecs {
			t.Errorf("timestamp form %s (%q): last success = %v, %v; want %v", f.name, raw, got, ok, wantSecs)
		}
		dur, _ := relValue(t, bodies[0], "vbs_resource_last_success_duration_seconds", "resource_id", fmt.Sprintf("rel-ts-%02d", i))
		if math.Abs(dur-600) > 0.002 {
			t.Errorf("timestamp form %s: duration = %v, want 600", f.name, dur)
		}
	}
}

// TestFaultSuite runs every case of relCases in parallel, each against its own
// pair of simulators and exporter, then scans everything the exporter emitted
// for secrets and checks that no goroutine leaked.
func TestFaultSuite(t *testing.T) {
	t.Parallel()
	sink := &relSink{}
	start := time.Now()
	var resMu sync.Mutex
	results := map[string]string{}
	t.Run("cases", func(t *testing.T) {
		for _, c := range relCases() {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				e := newFaultApp(t, sink, testAppOptions{})
				cs := time.Now()
				if c.run != nil {
					c.run(t, e)
				} else {
					relRunCase(t, e, c)
				}
				resMu.Lock()
				results[c.name] = fmt.Sprintf("%v", time.Since(cs).Round(10*time.Millisecond))
				resMu.Unlock()
			})
		}
	})
	for _, c := range relCases() {
		if d, ok := results[c.name]; ok {
			t.Logf("%-70s %s", c.name, d)
		}
	}
	t.Logf("fault suite: %d cases in %v", len(results), time.Since(start).Round(10*time.Millisecond))
	t.Run("Secrets", func(t *testing.T) {
		relSecretsExtra(t, sink)
		n, toks := sink.scan(t)
		if toks == 0 {
			t.Error("no IAM token was issued: the scan would not test token leaks")
		}
		t.Logf("scanned %d outputs for %d secrets and %d IAM tokens", n, len(relSecrets), toks)
	})
}

// relRunCase is the generic flow of a case.
func relRunCase(t *testing.T, e *testApp, c relCase) {
	rt, other := e.target(c.target), e.other(c.target)
	p := rt.policies[0]
	baseline := e.scrapeAll("")
	if v, _ := relValue(t, baseline, "vbs_up", "target", rt.name); v != 1 {
		t.Fatalf("baseline: vbs_up{target=%q} = %v\n%s", rt.name, v, e.logs.String())
	}
	for _, q := range rt.policies {
		if v, _ := relValue(t, baseline, "vbs_policy_refresh_success", "policy_id", q); v != 1 {
			t.Fatalf("baseline: policy %s not refreshed\n%s", q, e.logs.String())
		}
	}
	c.setup(e, rt, p)

	var bodies []string
	var failLines []string
	for i, want := range c.want {
		before := len(relRequests(rt, c, p))
		start := time.Now()
		body := e.scrapeAll(c.timeout)
		took := time.Since(start)
		bodies = append(bodies, body)

		// The affected policy or target reports the expected success.
		var got float64
		if c.scope == "policy" {
			got, _ = relValue(t, body, "vbs_policy_refresh_success", "target", rt.name, "policy_id", p)
		} else {
			got, _ = relValue(t, body, "vbs_up", "target", rt.name)
		}
		if (got == 1) != want {
			t.Errorf("scrape %d: %s success = %v, want %v\n%s", i+1, c.scope, got, want, e.logs.String())
		}
		// The other target exports exactly what it did before.
		relSame(t, fmt.Sprintf("scrape %d: target %s", i+1, other.name),
			relSelect(baseline, other.name, "", false), relSelect(body, other.name, "", false))
		if c.scope == "policy" {
			relSame(t, fmt.Sprintf("scrape %d: the other policies of %s", i+1, rt.name),
				relSelect(baseline, rt.name, p, true), relSelect(body, rt.name, p, true))
		}
		// A failing policy or target keeps its last known values.
		if !want && !c.changesValues {
			if c.scope == "policy" {
				relSame(t, fmt.Sprintf("scrape %d: last known values of policy %s", i+1, p),
					relSelect(baseline, rt.name, p, false, "vbs_policy_refresh_success"),
					relSelect(body, rt.name, p, false, "vbs_policy_refresh_success"))
			} else {
				relSame(t, fmt.Sprintf("scrape %d: last known values of target %s", i+1, rt.name),
					relSelect(baseline, rt.name, "", false, "vbs_policy_refresh_success", "vbs_up"),
					relSelect(body, rt.name, "", false, "vbs_policy_refresh_success", "vbs_up"))
			}
		}
		if want && !c.changesValues {
			relSame(t, fmt.Sprintf("scrape %d: target %s", i+1, rt.name),
				relSelect(baseline, rt.name, "", false), relSelect(body, rt.name, "", false))
		}
		// Requests of a hung or slow call are logged when they end, which
		// may be after the scrape answered: wait (2 s at most) for the
		// fewest the case expects, then give late ones 20 ms more.
		reqs := relRequests(rt, c, p)[before:]
		if c.attempts != nil {
			for deadline := time.Now().Add(2 * time.Second); len(reqs) < c.attempts[i] && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
				reqs = relRequests(rt, c, p)[before:]
			}
		}
		time.Sleep(20 * time.Millisecond)
		reqs = relRequests(rt, c, p)[before:]
		if c.attempts != nil {
			lo, hi := c.attempts[i], c.attempts[i]
			if c.transportRetries {
				hi *= 2
			}
			if n := len(reqs); n < lo || n > hi {
				t.Errorf("scrape %d: the simulator saw %d requests, want %d..%d", i+1, n, lo, hi)
			}
		}
		t.Logf("scrape %d: success %v in %v, %d requests", i+1, got, took.Round(time.Millisecond), len(reqs))

		// The failure is logged with target, policy, operation and the
		// request ID of the scrape's last failed attempt.
		if !want {
			wantLog := []string{"level=warn", "target=" + rt.name, "operation=" + c.op}
			if c.scope == "policy" {
				wantLog = append(wantLog, "policy_id="+p)
			}
			if c.reqID {
				var id string
				for _, r := range reqs {
					if r.FaultID != 0 || c.changesValues {
						id = r.RequestID
					}
				}
				if id == "" {
					t.Fatalf("scrape %d: no faulted request in the simulator's log", i+1)
				}
				wantLog = append(wantLog, id)
			}
			line, ok := e.waitLog(2*time.Second, wantLog...)
			if !ok {
				t.Errorf("scrape %d: no log line with %q:\n%s", i+1, wantLog, e.logs.String())
			} else if !slices.Contains(failLines, line) {
				failLines = append(failLines, line)
				t.Logf("log: %s", line)
			}
		}
	}
	if c.check != nil {
		c.check(t, e, rt, p, baseline, bodies)
	}
	// The exporter serves its other endpoints throughout.
	for _, path := range []string{"/-/healthy", "/config", "/"} {
		if code, body := e.serve(http.MethodGet, path, nil); code != http.StatusOK {
			t.Errorf("GET %s: HTTP %d: %s", path, code, body)
		}
	}
	// Once the API is healthy again, the target recovers completely.
	rt.sim.ClearFaults()
	code, body := e.serve(http.MethodGet, "/probe?target="+rt.name, nil)
	if code != http.StatusOK {
		t.Fatalf("probe after recovery: HTTP %d: %s", code, body)
	}
	if !c.changesValues {
		relSame(t, "after recovery", relSelect(baseline, rt.name, "", false), relSelect(body, rt.name, "", false))
	} else if v, _ := relValue(t, body, "vbs_policy_refresh_success", "policy_id", p); v != 1 {
		t.Errorf("after recovery: policy refresh success = %v", v)
	}
}

// relRequests returns the simulator's log of the requests the case's
// attempts refer to: the affected policy's jobs calls, or the target's calls
// of operation op.
func relRequests(rt *relTarget, c relCase, p string) []vbstest.RequestRecord {
	if c.scope == "policy" {
		return rt.requestsFor(vbstest.OpListTasks, rt.project(), p)
	}
	op := c.op
	if op == "" {
		op = vbstest.OpListPolicies
	}
	return rt.requestsFor(op, rt.project(), "")
}

// ---------------------------------------------------------------------------
// Cases with their own flow

// relGarbageTimestamps sends, one at a time, a job whose finished_at is not a
// timestamp: the page does not decode, so the policy fails (keeping what it
// knew) and the log names the job and the field.
func relGarbageTimestamps(t *testing.T, e *testApp) {
	rt := e.iam
	p := rt.policies[0]
	baseline := e.scrapeAll("")
	garbage := []string{
		"yesterday", "2026-13-01T00:00:00", "2026-02-30T10:00:00", "2026-11-27T25:00:00",
		"2026-11-27T10:00:00.1234567890", "2026-11-27T10:00:00.", "1764237600", "2026-11-27T10:00:00+24:00",
		"2026-11-27", "2026-11-27T10:00:00Zjunk", "２０２６-11-27T10:00:00", "\x00",
	}
	for _, g := range garbage {
		e.addJobs(rt, p, 1, func(_ int, j *vbstest.Job) { j.JobID, j.RawFinishedAt = "rel-garbage", g })
		body := e.scrapeAll("")
		if v, _ := relValue(t, body, "vbs_policy_refresh_success", "policy_id", p); v != 0 {
			t.Errorf("finished_at %q: policy refresh success = %v, want 0", g, v)
		}
		relSame(t, fmt.Sprintf("finished_at %q: last known values", g),
			relSelect(baseline, rt.name, p, false, "vbs_policy_refresh_success"),
			relSelect(body, rt.name, p, false, "vbs_policy_refresh_success"))
		relSame(t, "the other policies", relSelect(baseline, rt.name, p, true), relSelect(body, rt.name, p, true))
		relSame(t, "the other target", relSelect(baseline, "aksk", "", false), relSelect(body, "aksk", "", false))
		reqs := rt.requestsFor(vbstest.OpListTasks, rt.project(), p)
		id := reqs[len(reqs)-1].RequestID
		if _, ok := e.waitLog(2*time.Second, "target=iam", "policy_id="+p, "operation=list_tasks", id, "field finished_at"); !ok {
			t.Errorf("finished_at %q: no log line naming the field and request %s:\n%s", g, id, e.logs.String())
		}
	}
	// Once the job is fixed the policy recovers and reads it.
	if err := rt.sim.UpdateJob(p, "rel-garbage", func(j *vbstest.Job) { j.RawFinishedAt = "" }); err != nil {
		t.Fatal(err)
	}
	body := e.scrapeAll("")
	if v, _ := relValue(t, body, "vbs_policy_refresh_success", "policy_id", p); v != 1 {
		t.Errorf("after the fix: policy refresh success = %v, want 1", v)
	}
	relCheckDelta(t, baseline, body, p, 1)
}

// relRevokedAK: a revoked access key gets 401 on the policy list. AK/SK
// signatures are never retried and the refusal starts a back-off, so the
// first scrape costs one request, the next ones none, and the key is never
// locked out.
func relRevokedAK(t *testing.T, e *testApp) {
	rt := e.aksk
	baseline := e.scrapeAll("")
	rt.sim.RevokeAccessKey()
	for _, body := range relRefusedScrapes(t, e, rt, 3, false) {
		relSame(t, "last known values", relSelect(baseline, "aksk", "", false, "vbs_up", "vbs_policy_refresh_success", relBackoffMetric),
			relSelect(body, "aksk", "", false, "vbs_up", "vbs_policy_refresh_success", relBackoffMetric))
		relSame(t, "the other target", relSelect(baseline, "iam", "", false), relSelect(body, "iam", "", false))
	}
	reqs := rt.requestsFor(vbstest.OpListPolicies, relProjectA, "")
	id := reqs[len(reqs)-1].RequestID
	if line, ok := e.waitLog(time.Second, "target=aksk", "operation=list_policies", "status=401", "code=APIGW.0301", "request_id="+id); !ok {
		t.Errorf("no log line for the 401 with request %s:\n%s", id, e.logs.String())
	} else {
		t.Logf("log: %s", line)
	}
	if _, ok := e.waitLog(time.Second, "target=aksk", "backoff_until="); !ok {
		t.Errorf("no log line for the back-off:\n%s", e.logs.String())
	}
	// The key works again, but the back-off (60 s) still holds: nothing is
	// sent until it ends. (Its end, on an injected clock:
	// internal/hwcloud TestAKSKBackoffEndsOnAcceptance.)
	rt.sim.RestoreAccessKey()
	relRefusedScrapes(t, e, rt, 1, true)
}

// relBackoffMetric is the gauge of the credentials back-off.
const relBackoffMetric = "vbs_auth_backoff_until_timestamp_seconds"

// relRefusedScrapes scrapes n times while the target's AK/SK is refused and
// asserts no lockout of the key, vbs_up 0 and a back-off end in the future;
// unless backingOff, the first scrape sends exactly one request (a 401 is
// never retried) and starts the back-off; the others send none. It returns
// the testkit.Metrics bodies.
func relRefusedScrapes(t *testing.T, e *testApp, rt *relTarget, n int, backingOff bool) []string {
	t.Helper()
	var bodies []string
	for i := range n {
		before := rt.sim.Requests("")
		body := e.scrapeAll("")
		want := 0
		if i == 0 && !backingOff {
			want = 1 // one refused request starts the back-off
		}
		if got := rt.sim.Requests("") - before; got != want {
			t.Errorf("scrape %d: the simulator saw %d requests with the refused key, want %d", i+1, got, want)
		}
		if v, _ := relValue(t, body, relBackoffMetric, "target", rt.name); v <= float64(time.Now().Unix()) {
			t.Errorf("scrape %d: %s = %v, want the back-off end in the future", i+1, relBackoffMetric, v)
		}
		if rt.sim.AccessKeyLocked() {
			t.Errorf("scrape %d: the access key is locked out", i+1)
		}
		if v, _ := relValue(t, body, "vbs_up", "target", rt.name); v != 0 {
			t.Errorf("scrape %d: vbs_up = %v, want 0", i+1, v)
		}
		bodies = append(bodies, body)
	}
	return bodies
}

// relWrongSK: the secret key file is replaced by a wrong key and the config
// reloaded. Signature mismatches are never retried: 3 scrapes make 3 failed
// signatures, fewer than the 5 that lock the key.
func relWrongSK(t *testing.T, e *testApp) {
	rt := e.aksk
	e.scrapeAll("")
	writeFile(t, e.skFile, "relSK-wrong-but-well-formed-key\n")
	if code, body := e.serve(http.MethodPost, "/-/reload", nil); code != http.StatusOK {
		t.Fatalf("reload: HTTP %d: %s", code, body)
	}
	relRefusedScrapes(t, e, rt, 3, false)
	if _, ok := e.waitLog(time.Second, "target=aksk", "operation=list_policies", "status=401"); !ok {
		t.Errorf("no log line for the 401:\n%s", e.logs.String())
	}
	writeFile(t, e.skFile, relSecretKey+"\n")
	if code, body := e.serve(http.MethodPost, "/-/reload", nil); code != http.StatusOK {
		t.Fatalf("reload: HTTP %d: %s", code, body)
	}
	if v, _ := relValue(t, e.scrapeAll(""), "vbs_up", "target", "aksk"); v != 1 {
		t.Errorf("after restoring the key: vbs_up = %v", v)
	}
}

// relTokenExpiredBetweenScrapes: the IAM token expires between two scrapes.
// The first request gets 401 AutoBackup.0003, the token is renewed once, the
// request retried, and the scrape is complete.
func relTokenExpiredBetweenScrapes(t *testing.T, e *testApp) {
	rt := e.iam
	baseline := e.scrapeAll("")
	relForceTokenFetch(e)
	iamBefore := rt.sim.Requests(vbstest.OpIAMToken)
	body := e.scrapeAll("")
	if n := rt.sim.Requests(vbstest.OpIAMToken) - iamBefore; n != 1 {
		t.Errorf("%d token requests, want exactly one renewal", n)
	}
	var n401 int
	for _, r := range rt.sim.RequestLog("") {
		if r.Status == http.StatusUnauthorized {
			n401++
		}
	}
	if n401 != 1 {
		t.Errorf("%d requests got 401, want 1 (only the first one, before the renewal)", n401)
	}
	relSame(t, "target iam after the renewal", relSelect(baseline, "iam", "", false), relSelect(body, "iam", "", false))
	relSame(t, "the other target", relSelect(baseline, "aksk", "", false), relSelect(body, "aksk", "", false))
}

// relTokenExpiresMidWalk: the daily policy gets 15 new jobs, so its walk takes
// two pages; the token expires while page 2 is on its way. Page 2 gets 401,
// the token is renewed once, page 2 is retried and the walk completes.
func relTokenExpiresMidWalk(t *testing.T, e *testApp) {
	rt := e.iam
	p := rt.policies[0]
	e.scrapeAll("")
	relAgeToken(e)
	e.addJobs(rt, p, 15, nil)
	rt.sim.AddFault(vbstest.Fault{Kind: vbstest.FaultLatency, Operation: vbstest.OpListTasks, PolicyID: p, Latency: 300 * time.Millisecond, Times: 2})
	tasksBefore := rt.sim.Requests(vbstest.OpListTasks)
	iamBefore := rt.sim.Requests(vbstest.OpIAMToken)
	done := make(chan string)
	go func() { done <- e.scrapeAll("") }()
	// Page 1 of all three policies and page 2 of the daily one have arrived:
	// page 2 is now in its latency and its token is checked after it.
	deadline := time.Now().Add(5 * time.Second)
	for rt.sim.Requests(vbstest.OpListTasks) < tasksBefore+4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	rt.sim.ExpireTokens()
	body := <-done
	if n := rt.sim.Requests(vbstest.OpIAMToken) - iamBefore; n != 1 {
		t.Errorf("%d token requests, want exactly one renewal", n)
	}
	reqs := rt.requestsFor(vbstest.OpListTasks, relProjectB, p)
	var statuses []int
	for _, r := range reqs[len(reqs)-3:] {
		statuses = append(statuses, r.Status)
	}
	if !slices.Equal(statuses, []int{200, 401, 200}) {
		t.Errorf("the walk's last requests answered %v, want [200 401 200] (page 1, page 2 with the expired token, page 2 retried)", statuses)
	}
	if v, _ := relValue(t, body, "vbs_policy_refresh_success", "policy_id", p); v != 1 {
		t.Errorf("policy refresh success = %v, want 1\n%s", v, e.logs.String())
	}
	// Nothing was lost: the next scrape (no new jobs) reads the same values.
	next := e.scrapeAll("")
	relSame(t, "policy after the walk", relSelect(next, "iam", p, false), relSelect(body, "iam", p, false))
	if v, _ := relValue(t, body, "vbs_policy_backfill_complete", "policy_id", p); v != 1 {
		t.Errorf("backfill complete = %v, want 1", v)
	}
}

// relTokenRenewalRefused: the token is revoked and IAM then refuses the
// password (401). The policy list fails once with the VBS 401 and once more
// after the failed renewal; nothing is retried beyond the one renewal.
func relTokenRenewalRefused(t *testing.T, e *testApp) {
	rt := e.iam
	baseline := e.scrapeAll("")
	relAgeToken(e)
	rt.sim.RevokeTokens()
	rt.sim.AddFault(vbstest.Fault{Kind: vbstest.FaultStatus, Status: http.StatusUnauthorized, Operation: vbstest.OpIAMToken})
	for i := range 2 {
		before, iamBefore := rt.sim.Requests(vbstest.OpListPolicies), rt.sim.Requests(vbstest.OpIAMToken)
		body := e.scrapeAll("")
		if v, _ := relValue(t, body, "vbs_up", "target", "iam"); v != 0 {
			t.Errorf("scrape %d: vbs_up = %v, want 0", i+1, v)
		}
		relSame(t, "last known values", relSelect(baseline, "iam", "", false, "vbs_up", "vbs_policy_refresh_success", relBackoffMetric),
			relSelect(body, "iam", "", false, "vbs_up", "vbs_policy_refresh_success", relBackoffMetric))
		relSame(t, "the other target", relSelect(baseline, "aksk", "", false), relSelect(body, "aksk", "", false))
		// One login attempt, then none during the refusal back-off (30 s):
		// a refused password must not cost a login per scrape (IAM lockout).
		if got, want := rt.sim.Requests(vbstest.OpIAMToken)-iamBefore, 1-i; got != want {
			t.Errorf("scrape %d: %d token requests, want %d", i+1, got, want)
		}
		t.Logf("scrape %d: %d policy-list requests, %d token requests", i+1,
			rt.sim.Requests(vbstest.OpListPolicies)-before, rt.sim.Requests(vbstest.OpIAMToken)-iamBefore)
	}
	reqs := rt.requestsFor(vbstest.OpIAMToken, "", "")
	id := reqs[len(reqs)-1].RequestID
	if line, ok := e.waitLog(time.Second, "target=iam", "operation=iam_token", "status=401", "request_id="+id); !ok {
		t.Errorf("no log line for the refused renewal with request %s:\n%s", id, e.logs.String())
	} else {
		t.Logf("log: %s", line)
	}
}

// relPolicyDeletedMidWalk: a discovered policy is deleted after the policy
// list was read and before its jobs are: the jobs call answers 404
// AutoBackup.0205. That scrape reports the policy failed with its last known
// values; the next refresh no longer lists it and drops all its series.
func relPolicyDeletedMidWalk(t *testing.T, e *testApp) {
	rt := e.aksk
	p := rt.policies[0]
	baseline := e.scrapeAll("")
	rt.sim.AddFault(vbstest.Fault{Kind: vbstest.FaultLatency, Operation: vbstest.OpListTasks, PolicyID: p, Latency: 500 * time.Millisecond, Times: 1})
	listBefore := rt.sim.Requests(vbstest.OpListPolicies)
	tasksBefore := rt.sim.Requests(vbstest.OpListTasks)
	done := make(chan string)
	go func() { done <- e.scrapeAll("") }()
	deadline := time.Now().Add(5 * time.Second)
	for rt.sim.Requests(vbstest.OpListTasks) < tasksBefore+len(rt.policies) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if rt.sim.Requests(vbstest.OpListPolicies) != listBefore+1 {
		t.Fatalf("the policy list was not read once")
	}
	rt.sim.RemovePolicy(p)
	body := <-done
	if v, ok := relValue(t, body, "vbs_policy_refresh_success", "policy_id", p); !ok || v != 0 {
		t.Errorf("scrape 1: policy refresh success = %v, %v; want 0", v, ok)
	}
	relSame(t, "scrape 1: last known values", relSelect(baseline, "aksk", p, false, "vbs_policy_refresh_success"),
		relSelect(body, "aksk", p, false, "vbs_policy_refresh_success"))
	relSame(t, "scrape 1: the other policies", relSelect(baseline, "aksk", p, true), relSelect(body, "aksk", p, true))
	relSame(t, "scrape 1: the other target", relSelect(baseline, "iam", "", false), relSelect(body, "iam", "", false))
	reqs := rt.requestsFor(vbstest.OpListTasks, relProjectA, p)
	last := reqs[len(reqs)-1]
	if last.Status != http.StatusNotFound {
		t.Errorf("the jobs call answered %d, want 404", last.Status)
	}
	if line, ok := e.waitLog(time.Second, "target=aksk", "policy_id="+p, "operation=list_tasks", "status=404", "code=AutoBackup.0205", "request_id="+last.RequestID); !ok {
		t.Errorf("no log line for the 404:\n%s", e.logs.String())
	} else {
		t.Logf("log: %s", line)
	}
	body = e.scrapeAll("")
	if lines := relSelect(body, "aksk", p, false); len(lines) != 0 {
		t.Errorf("scrape 2: the deleted policy still has %d series, e.g. %s", len(lines), lines[0])
	}
	relSame(t, "scrape 2: the other policies", relSelect(baseline, "aksk", p, true), relSelect(body, "aksk", p, true))
	if v, _ := relValue(t, body, "vbs_up", "target", "aksk"); v != 1 {
		t.Errorf("scrape 2: vbs_up = %v", v)
	}
}

// relConfiguredPolicyDeleted: a policy named in the config disappears from the
// project. It stays exported with refresh success 0 and its last known
// values, and a warning names it.
func relConfiguredPolicyDeleted(t *testing.T, e *testApp) {
	rt := e.iam
	p := rt.policies[0]
	baseline := e.scrapeAll("")
	rt.sim.RemovePolicy(p)
	for i := range 2 {
		body := e.scrapeAll("")
		if v, ok := relValue(t, body, "vbs_policy_refresh_success", "policy_id", p); !ok || v != 0 {
			t.Errorf("scrape %d: policy refresh success = %v, %v; want 0", i+1, v, ok)
		}
		relSame(t, "last known values", relSelect(baseline, "iam", p, false, "vbs_policy_refresh_success"),
			relSelect(body, "iam", p, false, "vbs_policy_refresh_success"))
		relSame(t, "the other policies", relSelect(baseline, "iam", p, true), relSelect(body, "iam", p, true))
		if v, _ := relValue(t, body, "vbs_up", "target", "iam"); v != 1 {
			t.Errorf("scrape %d: vbs_up = %v", i+1, v)
		}
	}
	if _, ok := e.waitLog(time.Second, "level=warn", "target=iam", "policy_id="+p, "operation=list_policies", "not in the project's policy list"); !ok {
		t.Errorf("no warning naming the policy:\n%s", e.logs.String())
	}
}

// relSecretsExtra feeds the exporter what could make it echo a secret on top
// of the fault suite: configurations with inline secrets (shown on /config),
// and invalid configurations whose errors are near a secret (POST
// /-/reload answers and logs them).
func relSecretsExtra(t *testing.T, sink *relSink) {
	e := newFaultApp(t, sink, testAppOptions{})
	inline := fmt.Sprintf(`targets:
  - name: aksk
    region: cn-north-4
    project_id: %s
    endpoint: %s
    auth:
      access_key: %s
      secret_key: %s
      security_token: %s
  - name: iam
    region: cn-north-4
    project_id: %s
    endpoint: %s
    auth:
      iam_endpoint: %s
      domain: %s
      user: %s
      password: %s
`, relProjectA, e.aksk.sim.URL(), relAccessKey, relSecretKey, relSecurityToken,
		relProjectB, e.iam.sim.URL(), e.iam.sim.URL(), relDomain, relUser, relPassword)
	writeFile(t, e.cfgPath, inline)
	if code, body := e.serve(http.MethodPost, "/-/reload", nil); code != http.StatusOK {
		t.Fatalf("reloading the inline config: HTTP %d: %s", code, body)
	}
	body := e.scrapeAll("")
	for _, name := range []string{"aksk", "iam"} {
		if v, _ := relValue(t, body, "vbs_up", "target", name); v != 1 {
			t.Errorf("inline secrets: vbs_up{target=%q} = %v", name, v)
		}
	}
	if code, cfg := e.serve(http.MethodGet, "/config", nil); code != http.StatusOK || !strings.Contains(cfg, config.SecretPlaceholder) {
		t.Errorf("/config: HTTP %d without the placeholder:\n%s", code, cfg)
	}

	head := fmt.Sprintf("targets:\n  - name: aksk\n    region: cn-north-4\n    project_id: %s\n    endpoint: %s\n", relProjectA, e.aksk.sim.URL())
	bad := map[string]string{
		"secret as a mapping":         "    auth:\n      access_key: AK\n      secret_key: {value: " + relSecretKey + "}\n",
		"secret as a list":            "    auth:\n      access_key: AK\n      secret_key: [" + relSecretKey + "]\n",
		"secret under an unknown key": "    auth:\n      access_key: AK\n      secret: " + relSecretKey + "\n      secret_key: x\n",
		"secret and secret file":      "    auth:\n      access_key: AK\n      secret_key: " + relSecretKey + "\n      secret_key_file: secret_key\n",
		"password next to AK/SK":      "    auth:\n      access_key: AK\n      secret_key: " + relSecretKey + "\n      password: " + relPassword + "\n",
		"unterminated quote":          "    auth:\n      access_key: AK\n      secret_key: \"" + relSecretKey + "\n",
		"binary tag":                  "    auth:\n      access_key: AK\n      secret_key: !!binary " + relSecretKey + "\n",
		"duplicate key":               "    auth:\n      access_key: AK\n      secret_key: " + relSecretKey + "\n      secret_key: " + relSecretKey + "\n",
		"tab indentation":             "    auth:\n\taccess_key: AK\n      secret_key: " + relSecretKey + "\n",
		"password in the URL":         "    auth:\n      iam_endpoint: https://user:" + relPassword + "@127.0.0.1/\n      domain: d\n      user: u\n      password: x\n",
	}
	for name, auth := range bad {
		writeFile(t, e.cfgPath, head+auth)
		code, body := e.serve(http.MethodPost, "/-/reload", nil)
		if code != http.StatusInternalServerError {
			t.Errorf("%s: reload answered %d, want 500: %s", name, code, body)
		}
	}
	// The running configuration was kept through every failed reload.
	if v, _ := relValue(t, e.scrapeAll(""), "vbs_up", "target", "iam"); v != 1 {
		t.Errorf("after the failed reloads: vbs_up{target=\"iam\"} = %v", v)
	}
	e.serve(http.MethodGet, "/config", nil)
	sink.addTokens(e.iam.sim.IssuedTokens())
	sink.add("logs (secrets extra)", e.logs.String())
}

// TestSecretsFileNameNotEchoed: a secret written by mistake into a *_file
// field (secret_key_file: <the key>) must not come back in the reload error.
func TestSecretsFileNameNotEchoed(t *testing.T) {
	sink := &relSink{}
	e := newFaultApp(t, sink, testAppOptions{})
	for _, auth := range []string{"secret_key_file: " + relSecretKey, "secret_key: x\n      security_token_file: " + relSecurityToken} {
		writeFile(t, e.cfgPath, fmt.Sprintf("targets:\n  - name: aksk\n    region: cn-north-4\n    project_id: %s\n    endpoint: %s\n    auth:\n      access_key: AK\n      %s\n",
			relProjectA, e.aksk.sim.URL(), auth))
		e.serve(http.MethodPost, "/-/reload", nil)
	}
	writeFile(t, e.cfgPath, fmt.Sprintf("targets:\n  - name: iam\n    region: cn-north-4\n    project_id: %s\n    endpoint: %s\n    auth:\n      domain: d\n      user: u\n      password_file: %s\n",
		relProjectB, e.iam.sim.URL(), relPassword))
	e.serve(http.MethodPost, "/-/reload", nil)
	sink.add("logs", e.logs.String())
	sink.scan(t)
}

// TestFaultRequestIDOnBodyErrors: a 2xx response whose body is over the cap
// or cut short carried an X-Request-Id; the log line should name it like it
// does for every other answered request.
func TestFaultRequestIDOnBodyErrors(t *testing.T) {
	t.Parallel()
	for _, f := range []vbstest.Fault{
		{Kind: vbstest.FaultOversize, Operation: vbstest.OpListTasks},
		{Kind: vbstest.FaultCutBody, Operation: vbstest.OpListTasks, Times: 4},
	} {
		t.Run(f.Kind.String(), func(t *testing.T) {
			e := newFaultApp(t, nil, testAppOptions{})
			e.scrapeAll("")
			p := e.aksk.policies[0]
			f.PolicyID = p
			e.aksk.sim.AddFault(f)
			e.scrapeAll("")
			reqs := e.aksk.requestsFor(vbstest.OpListTasks, relProjectA, p)
			id := reqs[len(reqs)-1].RequestID
			if _, ok := e.waitLog(time.Second, "policy_id="+p, id); !ok {
				t.Errorf("no log line names request %s:\n%s", id, e.logs.String())
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Hostile and concurrent use

func relGet(t *testing.T, client *http.Client, method, url string, hdr http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s %s: reading the body: %v", method, url, err)
	}
	return resp.StatusCode, string(b)
}

// relTargets returns the target label values of vbs_up in an exposition.
func relTargets(t testing.TB, body string) []string {
	t.Helper()
	var out []string
	if mf := relParse(t, body)["vbs_up"]; mf != nil {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "target" {
					out = append(out, lp.GetValue())
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestConcurrentScrapesAndReloads: 24 clients scrape /metrics, /probe and
// /config while the configuration is switched back and forth between two
// valid files and reloaded through POST /-/reload. Run under -race: no data
// race, every answer 200 and parseable, every /metrics answer shows exactly
// the targets of one of the two configurations.
func TestConcurrentScrapesAndReloads(t *testing.T) {
	t.Parallel()
	sink := &relSink{}
	e := newFaultApp(t, sink, testAppOptions{maxRequests: 100})
	ts, client := e.listen(t)
	cfgs := []string{e.faultConfig(true), e.faultConfig(false) + fmt.Sprintf(`  - name: alt
    region: cn-north-4
    project_id: %s
    endpoint: %s
    page_size: 10
    auth:
      access_key: %s
      secret_key_file: secret_key
`, relProjectA, e.aksk.sim.URL(), relAccessKey)}
	valid := [][]string{{"aksk", "iam"}, {"aksk", "alt"}}
	for i, c := range cfgs {
		path := filepath.Join(e.dir, fmt.Sprintf("variant%d.yml", i))
		writeFile(t, path, c)
	}

	const clients, rounds = 24, 4
	var wg sync.WaitGroup
	stop := make(chan struct{})
	reloads := 0
	reloadDone := make(chan struct{})
	go func() {
		defer close(reloadDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Switch the file atomically, then reload.
			tmp := e.cfgPath + ".tmp"
			writeFile(t, tmp, cfgs[(i+1)%2])
			if err := os.Rename(tmp, e.cfgPath); err != nil {
				t.Error(err)
				return
			}
			if code, body := relGet(t, client, http.MethodPost, ts.URL+"/-/reload", nil); code != http.StatusOK {
				t.Errorf("reload %d: HTTP %d: %s", i, code, body)
			}
			reloads++
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var mu sync.Mutex
	seen := map[string]int{}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				switch (c + r) % 3 {
				case 0:
					code, body := relGet(t, client, http.MethodGet, ts.URL+"/metrics", nil)
					if code != http.StatusOK {
						t.Errorf("/metrics: HTTP %d: %.300s", code, body)
						continue
					}
					got := relTargets(t, body)
					if !slices.ContainsFunc(valid, func(v []string) bool { return slices.Equal(v, got) }) {
						t.Errorf("/metrics shows targets %v, not those of either configuration", got)
					}
					mu.Lock()
					seen[strings.Join(got, ",")]++
					mu.Unlock()
				case 1:
					code, body := relGet(t, client, http.MethodGet, ts.URL+"/probe?target=aksk", nil)
					if code != http.StatusOK {
						t.Errorf("/probe: HTTP %d: %.300s", code, body)
						continue
					}
					if got := relTargets(t, body); !slices.Equal(got, []string{"aksk"}) {
						t.Errorf("/probe?target=aksk shows targets %v", got)
					}
					if v, _ := relValue(t, body, "vbs_up", "target", "aksk"); v != 1 {
						t.Errorf("/probe?target=aksk: vbs_up = %v", v)
					}
				case 2:
					code, body := relGet(t, client, http.MethodGet, ts.URL+"/config", nil)
					if code != http.StatusOK || !strings.Contains(body, "name: aksk") {
						t.Errorf("/config: HTTP %d: %.300s", code, body)
					}
					sink.add("/config", body)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-reloadDone
	t.Logf("%d clients x %d requests during %d reloads; /metrics saw %v", clients, rounds, reloads, seen)
	if reloads < 3 {
		t.Errorf("only %d reloads happened during the scrapes", reloads)
	}
	sink.add("logs", e.logs.String())
	sink.addTokens(e.iam.sim.IssuedTokens())
	sink.scan(t)
	client.CloseIdleConnections()
	ts.Close()
	e.aksk.sim.Close()
	e.iam.sim.Close()
}

// TestHostileProbeQueries: /probe serves only configured target names; odd or
// oversized query strings get 400 from the handler, and a request line over
// the server's header limit gets 431 before reaching it.
func TestHostileProbeQueries(t *testing.T) {
	t.Parallel()
	e := newFaultApp(t, nil, testAppOptions{})
	ts, client := e.listen(t)
	cases := []struct {
		query string
		want  int
	}{
		{"target=aksk", 200},
		{"target=iam", 200},
		{"", 400},
		{"target=", 400},
		{"target", 400},
		{"target=nope", 400},
		{"target=AKSK", 400},
		{"target=aksk%20", 400},
		{"target=%20aksk", 400},
		{"target=aksk%00", 400},
		{"target=aksk%0d%0aX-Injected:%201", 400},
		{"target=..%2F..%2Fetc%2Fpasswd", 400},
		{"target=%E2%80%AEaksk", 400},
		{"target=%ff%fe", 400},
		{"target=aksk&target=aksk", 400},
		{"target=aksk&target=iam", 400},
		{"target=aksk&module=x", 400},
		{"TARGET=aksk", 400},
		{"target[]=aksk", 400},
		{"target=aksk;x=1", 400},
		{"target=%zz", 400},
		{"target=aksk%", 400},
		{"=aksk", 400},
		{"&&&target=aksk&&&", 200}, // empty pairs are ignored by url.ParseQuery
		{"target=" + strings.Repeat("a", 505), 400},
		{"target=" + strings.Repeat("a", 600), 400},
		{"target=" + strings.Repeat("%41", 20000), 400},
		{"target=aksk&" + strings.Repeat("x", 1000), 400},
	}
	for _, c := range cases {
		code, body := relGet(t, client, http.MethodGet, ts.URL+"/probe?"+c.query, nil)
		if code != c.want {
			t.Errorf("/probe?%.60s: HTTP %d, want %d: %.200s", c.query, code, c.want, body)
		}
		if code == 400 && strings.Contains(body, "vbs_up") {
			t.Errorf("/probe?%.60s: a 400 with metrics", c.query)
		}
		// In-process too, to see the handler's own answer.
		if c.want == 400 {
			if code, _ := e.serve(http.MethodGet, "/probe?"+c.query, nil); code != 400 {
				t.Errorf("in-process /probe?%.60s: HTTP %d, want 400", c.query, code)
			}
		}
	}
	// Beyond the server's MaxHeaderBytes the request never reaches the handler.
	code, _ := relGet(t, client, http.MethodGet, ts.URL+"/probe?target="+strings.Repeat("a", 100<<10), nil)
	if code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 100 KiB query: HTTP %d, want 431", code)
	}
	// Odd scrape timeout headers: the default applies (or a tiny deadline
	// that fails the refresh); the exporter still answers 200.
	for _, v := range []string{"abc", "NaN", "Inf", "-1", "0", "1e308", "86400", "", "  5  ", "0x10", "1e-9"} {
		code, body := relGet(t, client, http.MethodGet, ts.URL+"/probe?target=aksk", http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {v}})
		if code != http.StatusOK {
			t.Errorf("timeout header %q: HTTP %d", v, code)
			continue
		}
		up, _ := relValue(t, body, "vbs_up", "target", "aksk")
		t.Logf("timeout header %-8q: HTTP %d, vbs_up %v", v, code, up)
	}
	// A tiny timeout must not poison what the next normal scrape sees.
	code, body := relGet(t, client, http.MethodGet, ts.URL+"/probe?target=aksk", nil)
	if v, _ := relValue(t, body, "vbs_up", "target", "aksk"); code != 200 || v != 1 {
		t.Errorf("after the odd headers: HTTP %d, vbs_up %v", code, v)
	}
	// Other endpoints with odd methods.
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/-/reload", 405},
		{http.MethodDelete, "/-/reload", 405},
		{http.MethodPut, "/-/reload", 200}, // Prometheus's convention: POST or PUT
		{http.MethodGet, "/nope", 404},
		{http.MethodGet, "/metrics/../config", 200}, // cleaned by the mux: a redirect followed to /config
	} {
		if code, _ := relGet(t, client, c.method, ts.URL+c.path, nil); code != c.want {
			t.Errorf("%s %s: HTTP %d, want %d", c.method, c.path, code, c.want)
		}
	}
}

// FuzzHostileProbeQuery: whatever the query string, /probe answers 200 only
// for a configured target and never panics or answers 5xx.
func FuzzHostileProbeQuery(f *testing.F) {
	for _, s := range []string{"target=aksk", "target=aksk&target=aksk", "target=%zz", "target=aksk;x", "", "target=" + strings.Repeat("a", 600), "a=b&target=aksk", "target=aksk%00"} {
		f.Add(s)
	}
	e := newFaultApp(f, nil, testAppOptions{})
	e.scrapeAll("") // warm the caches: fuzzed probes are then fast
	f.Fuzz(func(t *testing.T, raw string) {
		req := httptest.NewRequest(http.MethodGet, "/probe", nil)
		req.URL.RawQuery = raw
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			q, err := parseQueryStrict(raw)
			if err != nil || len(q["target"]) != 1 || (q["target"][0] != "aksk" && q["target"][0] != "iam") {
				t.Errorf("200 for query %q", raw)
			}
		case http.StatusBadRequest:
		default:
			t.Errorf("HTTP %d for query %q", rec.Code, raw)
		}
	})
}

// TestHostileMaxRequests: --web.max-requests bounds the scrapes in flight;
// beyond it /metrics and /probe answer 503 at once, while /-/healthy and
// /config still answer; once the scrapes are done, scrapes are served again.
func TestHostileMaxRequests(t *testing.T) {
	// Not parallel: it waits on wall-clock deadlines.
	e := newFaultApp(t, nil, testAppOptions{maxRequests: 2})
	ts, client := e.listen(t)
	e.scrapeAll("")
	e.aksk.sim.SetLatency(time.Second)
	e.iam.sim.SetLatency(time.Second)
	var wg sync.WaitGroup
	for _, path := range []string{"/metrics", "/probe?target=iam"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := relGet(t, client, http.MethodGet, ts.URL+path, nil); code != 200 {
				t.Errorf("%s (within the limit): HTTP %d: %.200s", path, code, body)
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.h.inflight) < 2 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if n := len(e.h.inflight); n != 2 {
		t.Fatalf("%d scrapes in flight, want 2", n)
	}
	for _, path := range []string{"/metrics", "/probe?target=aksk"} {
		start := time.Now()
		code, body := relGet(t, client, http.MethodGet, ts.URL+path, nil)
		if code != http.StatusServiceUnavailable {
			t.Errorf("%s beyond the limit: HTTP %d, want 503: %.200s", path, code, body)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("%s beyond the limit took %v: it must be refused at once", path, d)
		}
	}
	for _, path := range []string{"/-/healthy", "/config"} {
		if code, _ := relGet(t, client, http.MethodGet, ts.URL+path, nil); code != 200 {
			t.Errorf("%s while scrapes are at the limit: HTTP %d", path, code)
		}
	}
	wg.Wait()
	e.aksk.sim.SetLatency(0)
	e.iam.sim.SetLatency(0)
	if code, _ := relGet(t, client, http.MethodGet, ts.URL+"/metrics", nil); code != 200 {
		t.Errorf("after the scrapes ended: HTTP %d", code)
	}
}

// TestHostileServerTimeouts: the HTTP server main starts has every timeout
// and a header size limit set, so that slow or stuck clients cannot hold
// connections (or goroutines) forever.
func TestHostileServerTimeouts(t *testing.T) {
	srv := newServer(http.NotFoundHandler())
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 || d > 10*time.Minute {
			t.Errorf("%s = %v, want set and at most 10m", name, d)
		}
	}
	if srv.ReadHeaderTimeout > 30*time.Second {
		t.Errorf("ReadHeaderTimeout = %v: a slow-loris client holds a connection that long", srv.ReadHeaderTimeout)
	}
	if srv.WriteTimeout < 2*time.Minute {
		t.Errorf("WriteTimeout = %v cuts a scrape with the default 2m refresh bound", srv.WriteTimeout)
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes = %d", srv.MaxHeaderBytes)
	}
	if srv.Handler == nil {
		t.Error("no handler")
	}
}

// TestHostileTinyScrapeTimeout: a scrape whose timeout header leaves no time
// (X-Prometheus-Scrape-Timeout-Seconds: 1e-9) must not make the exporter
// report the API down to the next scrapers.
func TestHostileTinyScrapeTimeout(t *testing.T) {
	// Not parallel: it waits on wall-clock deadlines.
	e := newFaultApp(t, nil, testAppOptions{})
	// Fresh targets with a minimum refresh interval; the first scrape they
	// see is the one with the tiny timeout.
	writeFile(t, e.cfgPath, strings.ReplaceAll(e.faultConfig(true), "page_size: 10", "page_size: 10\n    min_refresh_interval: 1m"))
	if code, body := e.serve(http.MethodPost, "/-/reload", nil); code != http.StatusOK {
		t.Fatalf("reload: HTTP %d: %s", code, body)
	}
	if code, _ := e.serve(http.MethodGet, "/metrics", http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"1e-9"}}); code != http.StatusOK {
		t.Fatalf("tiny timeout: HTTP %d", code)
	}
	time.Sleep(50 * time.Millisecond)
	body := e.scrapeAll("")
	for _, name := range []string{"aksk", "iam"} {
		if v, _ := relValue(t, body, "vbs_up", "target", name); v != 1 {
			t.Errorf("after a scrape with a 1ns timeout: vbs_up{target=%q} = %v, want 1", name, v)
		}
	}
}
