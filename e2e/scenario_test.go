package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// The planted scenario. Every job sits at a time the policy's schedule really
// ran (computed backwards from time.Now()), so the scenario is the same
// whatever the day and hour the test runs at:
//
// target "prod"
//   - prod-daily (daily, 4 disks): vol-prod-daily-01/02 healthy;
//     vol-prod-failed: the last three runs failed (FAIL, TIMEOUT, FAIL), an
//     older success in the window                       -> VBSBackupFailed critical
//     vol-prod-stuck: RUNNING since the newest run, ~3h ago, against a 2h
//     threshold (3 x p90 of 10-20 min jobs is below the 2h floor) -> VBSBackupStuck
//   - prod-uncovered (daily, policy_resource_count 3): two disks backed up at
//     every run, the third only ever SKIPped          -> VBSPolicyUncovered (1 disk)
//   - prod-weekly (MON,THU, 3 disks): healthy; its newest run is 3h to 4 days
//     old depending on the weekday, always below the thresholds
//     (missed 1.5 x 96h, not running 96h + 2h). A naive 25h rule fires here.
//   - prod-twice-daily (12h, 3 disks): healthy; the newest run (~1h ago) is
//     still RUNNING for one disk: a healthy job in flight, below the 2h floor.
//   - prod-paused (disabled, daily, 2 disks): no job for ~4 days, the newest
//     job failed, one disk never succeeded: nothing fires for a disabled policy.
//
// target "staging" (the one whose API the test breaks later)
//   - staging-daily (daily, 3 disks): two disks healthy; vol-staging-missed:
//     last success ~51h ago (between 1.5 and 2.5 x 24h), the two newer runs
//     SKIPped it                                       -> VBSBackupMissed warning
//   - staging-twice-daily (12h, 2 disks): healthy.

// alertKey identifies an alert instance for the comparisons.
type alertKey struct {
	Alertname, Severity, Reason, Target, Operation, PolicyName, ResourceID string
}

func (k alertKey) String() string {
	s := k.Alertname + "{severity=" + k.Severity
	if k.Reason != "" {
		s += ",reason=" + k.Reason
	}
	s += ",target=" + k.Target
	if k.Operation != "" {
		s += ",operation=" + k.Operation
	}
	if k.PolicyName != "" {
		s += ",policy_name=" + k.PolicyName
	}
	if k.ResourceID != "" {
		s += ",resource_id=" + k.ResourceID
	}
	return s + "}"
}

func keyOf(labels map[string]string) alertKey {
	return alertKey{
		Alertname:  labels["alertname"],
		Severity:   labels["severity"],
		Reason:     labels["reason"],
		Target:     labels["target"],
		Operation:  labels["operation"],
		PolicyName: labels["policy_name"],
		ResourceID: labels["resource_id"],
	}
}

// plantedAlerts are the alerts the scenario must produce, and no other.
// staging's API sits behind a flakyProxy that fails a quarter of the calls:
// VBSAPIErrorRate fires for both operations, and staging's missed disk must
// still page (the data is fresh: retries read everything).
var plantedAlerts = []alertKey{
	{Alertname: "VBSBackupFailed", Severity: "critical", Target: "prod", PolicyName: "prod-daily", ResourceID: "vol-prod-failed"},
	{Alertname: "VBSBackupStuck", Severity: "warning", Target: "prod", PolicyName: "prod-daily", ResourceID: "vol-prod-stuck"},
	{Alertname: "VBSPolicyUncovered", Severity: "warning", Target: "prod", PolicyName: "prod-uncovered"},
	{Alertname: "VBSBackupMissed", Severity: "warning", Target: "staging", PolicyName: "staging-daily", ResourceID: "vol-staging-missed"},
	{Alertname: "VBSAPIErrorRate", Severity: "warning", Target: "staging", Operation: "list_policies"},
	{Alertname: "VBSAPIErrorRate", Severity: "warning", Target: "staging", Operation: "list_tasks"},
}

// missedAlert is staging's missed disk, the alert the API's trouble must not
// silence while the data is fresh, and must silence once it is stale.
var missedAlert = plantedAlerts[3]

// apiDownAlert fires once the staging API is broken.
var apiDownAlert = alertKey{Alertname: "VBSTargetDown", Severity: "critical", Target: "staging"}

// isTransient reports whether an alert may show up while the system starts
// and must then clear: the "no metrics at all" branch of VBSExporterDown
// before the first scrape, and VBSPolicyBackfillIncomplete for a backfill that a first
// scrape did not finish (with every `for:` shortened to 0s).
func isTransient(k alertKey) bool {
	return (k.Alertname == "VBSExporterDown" && k.Reason == "no_metrics") ||
		k.Alertname == "VBSPolicyBackfillIncomplete"
}

// isOutageTransient adds, once the staging API is broken, VBSAPIErrorRate
// for staging: it fires until vbs_up 0 arrives and suppresses it (a target
// that cannot be read at all is VBSTargetDown's business).
func isOutageTransient(k alertKey) bool {
	return isTransient(k) ||
		(k.Alertname == "VBSAPIErrorRate" && k.Target == "staging")
}

// schedule is a policy's schedule as the simulator serves it.
type schedule struct {
	startTime string   // "HH:MM" or "HH:MM,HH:MM", UTC
	weekdays  []string // e.g. MON, THU; nil: every day (frequency 1)
}

// runs returns the schedule's run times in (now-window, now], newest first.
func (s schedule) runs(t *testing.T, now time.Time, window time.Duration) []time.Time {
	t.Helper()
	var clocks []time.Duration
	for item := range strings.SplitSeq(s.startTime, ",") {
		c, err := time.Parse("15:04", item)
		if err != nil {
			t.Fatalf("bad start time %q: %v", item, err)
		}
		clocks = append(clocks, time.Duration(c.Hour())*time.Hour+time.Duration(c.Minute())*time.Minute)
	}
	slices.Sort(clocks)
	slices.Reverse(clocks)
	now = now.UTC()
	var out []time.Time
	for day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC); !day.Before(now.Add(-window - 24*time.Hour)); day = day.AddDate(0, 0, -1) {
		if s.weekdays != nil && !slices.Contains(s.weekdays, strings.ToUpper(day.Weekday().String()[:3])) {
			continue
		}
		for _, c := range clocks {
			if r := day.Add(c); !r.After(now) && r.After(now.Add(-window)) {
				out = append(out, r)
			}
		}
	}
	return out
}

// planter adds policies and jobs to a simulator.
type planter struct {
	t       *testing.T
	srv     *vbstest.Server
	now     time.Time
	policyN int
	jobN    int
}

// policy adds a policy and returns its ID and its run times within window
// (newest first). frequency is 1 unless weekdays are set.
func (p *planter) policy(name string, s schedule, enabled bool, resources int, window time.Duration) (string, []time.Time) {
	p.policyN++
	id := fmt.Sprintf("%08x-e2e0-4000-8000-%012d", p.policyN, len(name))
	pol := vbstest.Policy{
		ID: id, Name: name, StartTime: s.startTime, WeekFrequency: s.weekdays,
		Enabled: enabled, ResourceCount: resources, RetentionNum: 30,
	}
	if s.weekdays == nil {
		pol.Frequency = 1
	}
	p.srv.AddPolicy(pol)
	runs := s.runs(p.t, p.now, window)
	if len(runs) < 3 {
		p.t.Fatalf("policy %s: only %d runs in the window", name, len(runs))
	}
	return id, runs
}

// job adds a job created at created. Finished jobs take dur; RUNNING and
// WAITING jobs have no finished_at.
func (p *planter) job(policyID, disk, status string, created time.Time, dur time.Duration, opts ...func(*vbstest.Job)) {
	p.jobN++
	j := vbstest.Job{
		JobID:        fmt.Sprintf("4a0b2e2e-%04x-4000-8000-%012x", p.policyN, p.jobN),
		Status:       status,
		ResourceID:   disk,
		ResourceType: "volume",
		BackupName:   "autobk_" + disk,
		CreatedAt:    created,
	}
	if status != vbstest.StatusRunning && status != vbstest.StatusWaiting {
		j.FinishedAt = created.Add(dur)
	}
	for _, o := range opts {
		o(&j)
	}
	p.srv.AddJobs(policyID, j)
}

// The newest failure of vol-prod-failed, and the name EVS gives that disk:
// VBSBackupFailed's notification must carry all three.
const (
	failedCode     = "VolumeBackup.0064"
	failedMessage  = "Insufficient backup quota: the project's backup capacity is used up."
	failedDiskName = "pg-data-01"
)

// withReason sets a job's code and message.
func withReason(code, message string) func(*vbstest.Job) {
	return func(j *vbstest.Job) { j.Code, j.Message = code, message }
}

// healthyDuration is a successful job's duration: 10 to 20 minutes, so the
// p90 of every policy stays far below the 2h floor of the stuck threshold.
func healthyDuration(run, disk int) time.Duration {
	return time.Duration(10+(run*7+disk*3)%11) * time.Minute
}

// healthy plants a success for each disk at each run.
func (p *planter) healthy(policyID string, runs []time.Time, disks ...string) {
	for i, r := range runs {
		for d, disk := range disks {
			p.job(policyID, disk, vbstest.StatusExecuteSuccess, r, healthyDuration(i, d))
		}
	}
}

// clock is t's UTC time of day as a start time, "HH:MM".
func clock(t time.Time) string { return t.UTC().Format("15:04") }

// Planting windows: the exporter's automatic lookback is max(7d, 3 x the
// expected interval): 7d for daily and twice-daily, 12d for MON,THU. Jobs are
// planted up to 6h inside it, so that none leaves the window during the test.
const (
	dailyWindow  = 7*24*time.Hour - 6*time.Hour
	weeklyWindow = 12*24*time.Hour - 6*time.Hour
)

// plantProd fills the "prod" simulator.
func plantProd(t *testing.T, srv *vbstest.Server, now time.Time) {
	p := &planter{t: t, srv: srv, now: now}
	// Daily runs ~3h ago (the stuck job's age), twice-daily ones ~1h ago (the
	// healthy running job's age); the weekly policy runs at the daily time on
	// MON and THU only.
	daily := schedule{startTime: clock(now.Add(-3 * time.Hour))}
	twice := schedule{startTime: clock(now.Add(-time.Hour)) + "," + clock(now.Add(-13*time.Hour))}
	weekly := schedule{startTime: daily.startTime, weekdays: []string{"MON", "THU"}}

	// prod-daily: healthy disks, one failing for three runs, one stuck.
	id, runs := p.policy("prod-daily", daily, true, 4, dailyWindow)
	p.healthy(id, runs, "vol-prod-daily-01", "vol-prod-daily-02")
	for i, r := range runs {
		switch i {
		case 0:
			p.job(id, "vol-prod-failed", vbstest.StatusExecuteFail, r, 25*time.Minute,
				withReason(failedCode, failedMessage))
			p.job(id, "vol-prod-stuck", vbstest.StatusRunning, r, 0)
		case 1:
			p.job(id, "vol-prod-failed", vbstest.StatusExecuteTimeout, r, 6*time.Hour)
			p.job(id, "vol-prod-stuck", vbstest.StatusExecuteSuccess, r, healthyDuration(i, 3))
		case 2:
			p.job(id, "vol-prod-failed", vbstest.StatusExecuteFail, r, 3*time.Minute,
				withReason("VolumeBackup.0001", "an older failure: not the one to report"))
			p.job(id, "vol-prod-stuck", vbstest.StatusExecuteSuccess, r, healthyDuration(i, 3))
		default:
			p.job(id, "vol-prod-failed", vbstest.StatusExecuteSuccess, r, healthyDuration(i, 2))
			p.job(id, "vol-prod-stuck", vbstest.StatusExecuteSuccess, r, healthyDuration(i, 3))
		}
	}

	// prod-uncovered: policy_resource_count 3, but one disk is always skipped.
	id, runs = p.policy("prod-uncovered", daily, true, 3, dailyWindow)
	p.healthy(id, runs, "vol-prod-unc-01", "vol-prod-unc-02")
	for _, r := range runs {
		p.job(id, "vol-prod-unc-never", vbstest.StatusSkip, r, time.Second)
	}

	// prod-weekly: healthy MON,THU.
	id, runs = p.policy("prod-weekly", weekly, true, 3, weeklyWindow)
	p.healthy(id, runs, "vol-prod-weekly-01", "vol-prod-weekly-02", "vol-prod-weekly-03")

	// prod-twice-daily: healthy, the newest run still in flight for one disk.
	id, runs = p.policy("prod-twice-daily", twice, true, 3, dailyWindow)
	p.healthy(id, runs[1:], "vol-prod-twice-01", "vol-prod-twice-02", "vol-prod-twice-03")
	p.job(id, "vol-prod-twice-01", vbstest.StatusExecuteSuccess, runs[0], healthyDuration(0, 0))
	p.job(id, "vol-prod-twice-02", vbstest.StatusExecuteSuccess, runs[0], healthyDuration(0, 1))
	p.job(id, "vol-prod-twice-03", vbstest.StatusRunning, runs[0], 0)

	// prod-paused: disabled 4 days ago; stale, failing and uncovered, but off.
	id, runs = p.policy("prod-paused", daily, false, 2, dailyWindow)
	for _, r := range runs {
		if now.Sub(r) < 4*24*time.Hour {
			continue
		}
		p.job(id, "vol-prod-paused-01", vbstest.StatusExecuteSuccess, r, healthyDuration(0, 0))
		p.job(id, "vol-prod-paused-02", vbstest.StatusExecuteFail, r, 2*time.Minute)
	}
}

// plantStaging fills the "staging" simulator.
func plantStaging(t *testing.T, srv *vbstest.Server, now time.Time) {
	p := &planter{t: t, srv: srv, now: now, policyN: 100}
	daily := schedule{startTime: clock(now.Add(-3 * time.Hour))}
	twice := schedule{startTime: clock(now.Add(-time.Hour)) + "," + clock(now.Add(-13*time.Hour))}

	// staging-daily: one disk skipped by the two newest runs. Its last
	// success (~51h ago) is past 1.5 x 24h and within 2.5 x 24h: warning.
	id, runs := p.policy("staging-daily", daily, true, 3, dailyWindow)
	p.healthy(id, runs, "vol-staging-01", "vol-staging-02")
	for i, r := range runs {
		if i < 2 {
			p.job(id, "vol-staging-missed", vbstest.StatusSkip, r, time.Second)
		} else {
			p.job(id, "vol-staging-missed", vbstest.StatusExecuteSuccess, r, healthyDuration(i, 2))
		}
	}

	id, runs = p.policy("staging-twice-daily", twice, true, 2, dailyWindow)
	p.healthy(id, runs, "vol-staging-twice-01", "vol-staging-twice-02")
}
