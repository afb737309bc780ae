package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

const (
	dailyID  = "11111111-1111-4111-8111-111111111111"
	weeklyID = "22222222-2222-4222-8222-222222222222"
	brokenID = "33333333-3333-4333-8333-333333333333"
)

func jobID(n int) string {
	return "aaaaaaaa-0000-4000-8000-" + strings.Repeat("0", 12-len(itoa(n))) + itoa(n)
}

func itoa(n int) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(digits[n%10]) + s
	}
	return s
}

// scenarioAccount is the account the exact-value tests expect (now is
// 2026-11-27T12:00:00Z, a Friday):
//   - daily-db (02:00 daily, window 7 days):
//     vol-a1 succeeded on the 25th, then failed on the 26th;
//     vol-a2 succeeded on the 26th and is RUNNING since today 02:00;
//     vol-a3 failed on the 26th and timed out today;
//     vol-a4 has a job in an undocumented status, then a SKIP today;
//     vol-a5 succeeded on the 25th but the API gave no finished_at;
//     an old success of vol-a1 (19th) lies outside the window.
//   - weekly-archive (MON,THU 01:00: expected interval 4 days, window 12 days):
//     vol-b1 succeeded every Monday and Thursday; the one on the 12th is outside.
//   - broken (disabled): its jobs cannot be read (loadScenario and
//     newMemScenarioTarget make every tasks call fail).
func scenarioAccount() vbstest.Scenario {
	vol := func(id string, n int, status, created, finished string) vbstest.Job {
		j := vbstest.Job{JobID: jobID(n), Status: status, ResourceID: id, ResourceType: "volume", BackupName: "autobk_" + itoa(n), CreatedAt: at(created)}
		if finished != "" {
			j.FinishedAt = at(finished)
		}
		return j
	}
	failed := vol("vol-a1", 2, "EXECUTE_FAIL", "2026-11-26T02:00:00", "2026-11-26T02:05:00")
	failed.Message, failed.Code = "disk busy", 1234
	a2ok := vol("vol-a2", 3, "EXECUTE_SUCCESS", "2026-11-26T02:00:00", "")
	a2ok.FinishedAt = at("2026-11-26T02:30:00").Add(500 * time.Millisecond)
	sc := vbstest.Scenario{
		Policies: []vbstest.Policy{
			{ID: dailyID, Name: "daily-db", StartTime: "02:00", Frequency: 1, RetentionNum: 7, Enabled: true, ResourceCount: 5},
			{ID: weeklyID, Name: "weekly-archive", StartTime: "01:00", WeekFrequency: []string{"MON", "THU"}, RetentionDay: 30, Enabled: true, ResourceCount: 1},
			{ID: brokenID, Name: "broken", StartTime: "03:00", Frequency: 1, Enabled: false, ResourceCount: 1},
		},
		Jobs: map[string][]vbstest.Job{dailyID: {
			vol("vol-a1", 1, "EXECUTE_SUCCESS", "2026-11-25T02:00:00", "2026-11-25T02:20:00"),
			failed,
			a2ok,
			vol("vol-a2", 4, "RUNNING", "2026-11-27T02:00:00", ""),
			vol("vol-a3", 5, "EXECUTE_FAIL", "2026-11-26T02:00:00", "2026-11-26T02:10:00"),
			vol("vol-a3", 6, "EXECUTE_TIMEOUT", "2026-11-27T02:00:00", "2026-11-27T04:00:00"),
			vol("vol-a4", 7, "FROZEN", "2026-11-26T02:00:00", ""),
			vol("vol-a4", 8, "SKIP", "2026-11-27T02:00:00", "2026-11-27T02:00:01"),
			vol("vol-a5", 9, "EXECUTE_SUCCESS", "2026-11-25T02:00:00", ""),
			vol("vol-a1", 10, "EXECUTE_SUCCESS", "2026-11-19T02:00:00", "2026-11-19T02:20:00"),
		}},
	}
	for i, day := range []string{"2026-11-26", "2026-11-23", "2026-11-19", "2026-11-16", "2026-11-12"} {
		sc.Jobs[weeklyID] = append(sc.Jobs[weeklyID], vol("vol-b1", 20+i, "EXECUTE_SUCCESS", day+"T01:00:00", day+"T01:45:00"))
	}
	return sc
}

// loadScenario plants scenarioAccount in the simulator (added to what it
// holds, as the simulator's AddPolicy and AddJobs add) and makes every
// tasks call of the broken policy answer HTTP 500.
func loadScenario(sim *vbstest.Server) {
	sc := scenarioAccount()
	for _, p := range sc.Policies {
		sim.AddPolicy(p)
		sim.AddJobs(p.ID, sc.Jobs[p.ID]...)
	}
	sim.AddFault(vbstest.Fault{Kind: vbstest.FaultStatus, Operation: vbstest.OpListTasks, PolicyID: brokenID, Status: 500})
}

// errMemHTTP500 and errMemHTTP404 stand in memSource for the failures the
// simulator's faults give through the VBS client.
var (
	errMemHTTP500 = backup.WithKind(backup.ErrUnavailable, errors.New("injected: HTTP 500"))
	errMemHTTP404 = backup.WithKind(backup.ErrNotFound, errors.New("injected: HTTP 404"))
)

// newMemScenarioTarget is newScenarioTarget on memSource, with the same
// page size; the broken policy's page calls fail.
func newMemScenarioTarget(t *testing.T) (*memSource, *store.Target) {
	src := newMemSource(scenarioAccount(), 3)
	src.failPolicy(brokenID, errMemHTTP500)
	return src, store.NewTarget(store.TargetOptions{Name: "prod", API: src, Now: func() time.Time { return testNow }})
}

// expectedScenario is the exposition of scenarioAccount after one
// refresh. Values worked out by hand:
//   - daily-db jobs in the window: RUNNING 1 (a2), SUCCESS 3 (a1 25th, a2, a5),
//     FAIL 2 (a1, a3), TIMEOUT 1, SKIP 1, UNKNOWN 1 (FROZEN); the 19th is outside.
//   - durations of successes with both times: 1200 s and 1800.5 s (a5 has no
//     finished_at and is not observed): count 2, sum 3000.5.
//   - vol-a1: last success 2026-11-25T02:20 = 1795573200, 1200 s; newest finished
//     is the failure: FAIL, 1 failure in a row.
//   - vol-a2: last success 1795660200.5 (1800.5 s); running since 1795744800.
//   - vol-a3: never succeeded; TIMEOUT then FAIL: 2 in a row.
//   - last failures: vol-a1's FAIL (code 1234, sent as a number) finished
//     2026-11-26T02:05 = 1795658700; vol-a3's TIMEOUT, without a code
//     (code=""), finished 2026-11-27T04:00 = 1795752000.
//   - vol-a4: SKIP (FROZEN is not a finished state), 0 failures.
//   - vol-a5: success without finished_at: its created_at 1795572000, duration 0.
//   - last run of daily-db (jobs created from 01:30 today): vol-a2 RUNNING and
//     vol-a3 TIMEOUT tried; vol-a4 was only SKIPped: 2 disks. weekly-archive: 1.
//   - weekly-archive: 4 successes of 2700 s (the 12th is outside the 12-day
//     window), last success 2026-11-26T01:45 = 1795657500, newest job 1795654800.
//   - broken: its jobs were never read: only policy-level metrics, success 0.
const expectedScenario = `# HELP vbs_auth_backoff_until_timestamp_seconds End of the back-off after the API refused the target's credentials (Unix seconds): no request is sent before then. 0 when no back-off is under way.
# TYPE vbs_auth_backoff_until_timestamp_seconds gauge
vbs_auth_backoff_until_timestamp_seconds{target="prod"} 0
# HELP vbs_policy_backfill_complete 1 once the policy's whole lookback window has been read; 0 while the first walk of a long history is still being read over several scrapes.
# TYPE vbs_policy_backfill_complete gauge
vbs_policy_backfill_complete{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 1
vbs_policy_backfill_complete{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 1
vbs_policy_backfill_complete{policy_id="33333333-3333-4333-8333-333333333333",policy_name="broken",target="prod"} 0
# HELP vbs_policy_window_backup_duration_seconds Durations of the policy's successful jobs in the lookback window (finished_at - created_at), as buckets of the window's current content: not a counter, the buckets fall as jobs leave the window, so read current values with histogram_quantile, e.g. histogram_quantile(0.9, vbs_policy_window_backup_duration_seconds_bucket), never rate() or increase().
# TYPE vbs_policy_window_backup_duration_seconds histogram
vbs_policy_window_backup_duration_seconds_bucket{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod",le="60"} 0
vbs_policy_window_backup_duration_seconds_bucket{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod",le="300"} 0
vbs_policy_window_backup_duration_seconds_bucket{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod",le="600"} 0
vbs_policy_window_backup_duration_seconds_bucket{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod",le="1200"} 1
vbs_policy_window_backup_duration_seconds_bucket{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod",le="1800"} 1
vbs_policy_window_backup_duration_seconds_bucket{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod",le="3600"} 2
vbs_policy_window_backup_duration_seconds_bucket{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod",le="7200"} 2
vbs_policy_window_backup_duration_seconds_bucket{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod",le="14400"} 2
vbs_policy_window_backup_duration_seconds_bucket{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod",le="28800"} 2
vbs_policy_window_backup_duration_seconds_bucket{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod",le="86400"} 2
vbs_policy_window_backup_duration_seconds_bucket{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod",le="+Inf"} 2
vbs_policy_window_backup_duration_seconds_sum{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 3000.5
vbs_policy_window_backup_duration_seconds_count{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 2
vbs_policy_window_backup_duration_seconds_bucket{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod",le="60"} 0
vbs_policy_window_backup_duration_seconds_bucket{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod",le="300"} 0
vbs_policy_window_backup_duration_seconds_bucket{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod",le="600"} 0
vbs_policy_window_backup_duration_seconds_bucket{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod",le="1200"} 0
vbs_policy_window_backup_duration_seconds_bucket{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod",le="1800"} 0
vbs_policy_window_backup_duration_seconds_bucket{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod",le="3600"} 4
vbs_policy_window_backup_duration_seconds_bucket{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod",le="7200"} 4
vbs_policy_window_backup_duration_seconds_bucket{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod",le="14400"} 4
vbs_policy_window_backup_duration_seconds_bucket{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod",le="28800"} 4
vbs_policy_window_backup_duration_seconds_bucket{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod",le="86400"} 4
vbs_policy_window_backup_duration_seconds_bucket{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod",le="+Inf"} 4
vbs_policy_window_backup_duration_seconds_sum{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 10800
vbs_policy_window_backup_duration_seconds_count{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 4
# HELP vbs_policy_cached_jobs Jobs of the policy held in the exporter's cache.
# TYPE vbs_policy_cached_jobs gauge
vbs_policy_cached_jobs{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 9
vbs_policy_cached_jobs{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 4
vbs_policy_cached_jobs{policy_id="33333333-3333-4333-8333-333333333333",policy_name="broken",target="prod"} 0
# HELP vbs_policy_enabled 1 if the policy's schedule status is ON.
# TYPE vbs_policy_enabled gauge
vbs_policy_enabled{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 1
vbs_policy_enabled{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 1
vbs_policy_enabled{policy_id="33333333-3333-4333-8333-333333333333",policy_name="broken",target="prod"} 0
# HELP vbs_policy_expected_interval_seconds Longest gap between two consecutive scheduled runs of the policy.
# TYPE vbs_policy_expected_interval_seconds gauge
vbs_policy_expected_interval_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 86400
vbs_policy_expected_interval_seconds{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 345600
vbs_policy_expected_interval_seconds{policy_id="33333333-3333-4333-8333-333333333333",policy_name="broken",target="prod"} 86400
# HELP vbs_policy_jobs Jobs of the policy created within the lookback window, by status (UNKNOWN counts statuses the API did not document).
# TYPE vbs_policy_jobs gauge
vbs_policy_jobs{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",status="EXECUTE_FAIL",target="prod"} 2
vbs_policy_jobs{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",status="EXECUTE_SUCCESS",target="prod"} 3
vbs_policy_jobs{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",status="EXECUTE_TIMEOUT",target="prod"} 1
vbs_policy_jobs{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",status="RUNNING",target="prod"} 1
vbs_policy_jobs{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",status="SKIP",target="prod"} 1
vbs_policy_jobs{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",status="UNKNOWN",target="prod"} 1
vbs_policy_jobs{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",status="WAITING",target="prod"} 0
vbs_policy_jobs{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",status="EXECUTE_FAIL",target="prod"} 0
vbs_policy_jobs{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",status="EXECUTE_SUCCESS",target="prod"} 4
vbs_policy_jobs{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",status="EXECUTE_TIMEOUT",target="prod"} 0
vbs_policy_jobs{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",status="RUNNING",target="prod"} 0
vbs_policy_jobs{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",status="SKIP",target="prod"} 0
vbs_policy_jobs{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",status="UNKNOWN",target="prod"} 0
vbs_policy_jobs{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",status="WAITING",target="prod"} 0
# HELP vbs_policy_last_job_timestamp_seconds Creation time of the policy's newest job (Unix seconds): when the scheduler last ran.
# TYPE vbs_policy_last_job_timestamp_seconds gauge
vbs_policy_last_job_timestamp_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 1.7957448e+09
vbs_policy_last_job_timestamp_seconds{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 1.7956548e+09
# HELP vbs_policy_last_run_resources Distinct disks that the policy's most recent run (its jobs created within 30 minutes of the newest job) backed up or tried to (RUNNING, WAITING, EXECUTE_SUCCESS, EXECUTE_FAIL, EXECUTE_TIMEOUT). Fewer than vbs_policy_resources: the run left bound disks out.
# TYPE vbs_policy_last_run_resources gauge
vbs_policy_last_run_resources{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 2
vbs_policy_last_run_resources{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 1
# HELP vbs_policy_refresh_success 1 if this policy's jobs were read completely on this refresh; 0 keeps the last known values of its other metrics.
# TYPE vbs_policy_refresh_success gauge
vbs_policy_refresh_success{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 1
vbs_policy_refresh_success{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 1
vbs_policy_refresh_success{policy_id="33333333-3333-4333-8333-333333333333",policy_name="broken",target="prod"} 0
# HELP vbs_policy_resources Number of resources the policy backs up (VBS: disks bound to it, policy_resource_count; CBR: resources of the vaults it is applied to).
# TYPE vbs_policy_resources gauge
vbs_policy_resources{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 5
vbs_policy_resources{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 1
vbs_policy_resources{policy_id="33333333-3333-4333-8333-333333333333",policy_name="broken",target="prod"} 1
# HELP vbs_refresh_duration_seconds Time this scrape spent refreshing the target.
# TYPE vbs_refresh_duration_seconds gauge
vbs_refresh_duration_seconds{target="prod"} 0
# HELP vbs_resource_consecutive_failures Newest finished jobs of the disk in a row that failed or timed out.
# TYPE vbs_resource_consecutive_failures gauge
vbs_resource_consecutive_failures{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a1",resource_type="volume",target="prod"} 1
vbs_resource_consecutive_failures{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a2",resource_type="volume",target="prod"} 0
vbs_resource_consecutive_failures{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a3",resource_type="volume",target="prod"} 2
vbs_resource_consecutive_failures{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a4",resource_type="volume",target="prod"} 0
vbs_resource_consecutive_failures{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a5",resource_type="volume",target="prod"} 0
vbs_resource_consecutive_failures{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",resource_id="vol-b1",resource_type="volume",target="prod"} 0
# HELP vbs_resource_last_failure_info Always 1: code and message are the vendor's result code and message of the disk's newest failed (EXECUTE_FAIL) or timed-out (EXECUTE_TIMEOUT) job in the lookback window, empty when the job had none; the message is cleaned of secrets and control characters and cut to 256 bytes. One series per disk; a later success does not remove it (see vbs_resource_last_status for the current state).
# TYPE vbs_resource_last_failure_info gauge
vbs_resource_last_failure_info{code="1234",message="disk busy",policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a1",resource_type="volume",target="prod"} 1
vbs_resource_last_failure_info{code="",message="",policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a3",resource_type="volume",target="prod"} 1
# HELP vbs_resource_last_failure_timestamp_seconds finished_at of the disk's newest failed or timed-out job in the window (created_at when it has none), Unix seconds.
# TYPE vbs_resource_last_failure_timestamp_seconds gauge
vbs_resource_last_failure_timestamp_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a1",resource_type="volume",target="prod"} 1.7956587e+09
vbs_resource_last_failure_timestamp_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a3",resource_type="volume",target="prod"} 1.795752e+09
# HELP vbs_resource_last_status Status of the disk's newest finished job: 1 for its status, 0 for the others.
# TYPE vbs_resource_last_status gauge
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a1",resource_type="volume",status="EXECUTE_FAIL",target="prod"} 1
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a1",resource_type="volume",status="EXECUTE_SUCCESS",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a1",resource_type="volume",status="EXECUTE_TIMEOUT",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a1",resource_type="volume",status="SKIP",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a2",resource_type="volume",status="EXECUTE_FAIL",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a2",resource_type="volume",status="EXECUTE_SUCCESS",target="prod"} 1
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a2",resource_type="volume",status="EXECUTE_TIMEOUT",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a2",resource_type="volume",status="SKIP",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a3",resource_type="volume",status="EXECUTE_FAIL",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a3",resource_type="volume",status="EXECUTE_SUCCESS",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a3",resource_type="volume",status="EXECUTE_TIMEOUT",target="prod"} 1
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a3",resource_type="volume",status="SKIP",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a4",resource_type="volume",status="EXECUTE_FAIL",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a4",resource_type="volume",status="EXECUTE_SUCCESS",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a4",resource_type="volume",status="EXECUTE_TIMEOUT",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a4",resource_type="volume",status="SKIP",target="prod"} 1
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a5",resource_type="volume",status="EXECUTE_FAIL",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a5",resource_type="volume",status="EXECUTE_SUCCESS",target="prod"} 1
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a5",resource_type="volume",status="EXECUTE_TIMEOUT",target="prod"} 0
vbs_resource_last_status{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a5",resource_type="volume",status="SKIP",target="prod"} 0
vbs_resource_last_status{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",resource_id="vol-b1",resource_type="volume",status="EXECUTE_FAIL",target="prod"} 0
vbs_resource_last_status{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",resource_id="vol-b1",resource_type="volume",status="EXECUTE_SUCCESS",target="prod"} 1
vbs_resource_last_status{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",resource_id="vol-b1",resource_type="volume",status="EXECUTE_TIMEOUT",target="prod"} 0
vbs_resource_last_status{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",resource_id="vol-b1",resource_type="volume",status="SKIP",target="prod"} 0
# HELP vbs_resource_last_success_duration_seconds Duration of the disk's newest successful backup job.
# TYPE vbs_resource_last_success_duration_seconds gauge
vbs_resource_last_success_duration_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a1",resource_type="volume",target="prod"} 1200
vbs_resource_last_success_duration_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a2",resource_type="volume",target="prod"} 1800.5
vbs_resource_last_success_duration_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a5",resource_type="volume",target="prod"} 0
vbs_resource_last_success_duration_seconds{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",resource_id="vol-b1",resource_type="volume",target="prod"} 2700
# HELP vbs_resource_last_success_timestamp_seconds finished_at of the disk's newest successful backup job in the window (Unix seconds).
# TYPE vbs_resource_last_success_timestamp_seconds gauge
vbs_resource_last_success_timestamp_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a1",resource_type="volume",target="prod"} 1.7955732e+09
vbs_resource_last_success_timestamp_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a2",resource_type="volume",target="prod"} 1.7956602005e+09
vbs_resource_last_success_timestamp_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a5",resource_type="volume",target="prod"} 1.795572e+09
vbs_resource_last_success_timestamp_seconds{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",resource_id="vol-b1",resource_type="volume",target="prod"} 1.7956575e+09
# HELP vbs_resource_running_since_timestamp_seconds Creation time of the disk's oldest RUNNING or WAITING job (Unix seconds); absent when none.
# TYPE vbs_resource_running_since_timestamp_seconds gauge
vbs_resource_running_since_timestamp_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a2",resource_type="volume",target="prod"} 1.7957448e+09
# HELP vbs_up 1 if the target's API was reachable and authenticated on this refresh (its policy list was read).
# TYPE vbs_up gauge
vbs_up{target="prod"} 1
`

// runningSinceBlock is vbs_resource_running_since_timestamp_seconds in
// expectedScenario: vol-a2's job in flight.
const runningSinceBlock = `# HELP vbs_resource_running_since_timestamp_seconds Creation time of the disk's oldest RUNNING or WAITING job (Unix seconds); absent when none.
# TYPE vbs_resource_running_since_timestamp_seconds gauge
vbs_resource_running_since_timestamp_seconds{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",resource_id="vol-a2",resource_type="volume",target="prod"} 1.7957448e+09
`

func newScenarioTarget(t *testing.T) (*vbstest.Server, *store.Target) {
	sim, client := newSim(t, 3) // a small page size: every policy takes several pages
	loadScenario(sim)
	return sim, store.NewTarget(store.TargetOptions{Name: "prod", API: client, Now: func() time.Time { return testNow }})
}

func TestScenarioExactMetrics(t *testing.T) {
	t.Parallel()
	_, target := newScenarioTarget(t)
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(expectedScenario)); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(snapshotCollector{snap})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// A policy that fails after a good refresh keeps every value it had, with
// vbs_policy_refresh_success 0; the other policies are unaffected.
func TestScenarioFailingPolicyKeepsLastValues(t *testing.T) {
	t.Parallel()
	src, target := newMemScenarioTarget(t)
	target.Refresh(ctxTimeout(t, 10*time.Second))
	src.failPolicy(dailyID, errMemHTTP404)
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	want := strings.Replace(expectedScenario,
		`vbs_policy_refresh_success{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 1`,
		`vbs_policy_refresh_success{policy_id="11111111-1111-4111-8111-111111111111",policy_name="daily-db",target="prod"} 0`, 1)
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// TestScenarioNoBudgetServesStale: a scrape with less than store.MinRefreshBudget
// left starts no refresh (no API request) and serves the last values with
// vbs_policy_refresh_success 0, since nothing was read for it; the next
// scrape with time reads again.
func TestScenarioNoBudgetServesStale(t *testing.T) {
	t.Parallel()
	sim, target := newScenarioTarget(t)
	target.Refresh(ctxTimeout(t, 10*time.Second))
	n := len(sim.RequestLog(vbstest.OpListPolicies)) + len(sim.RequestLog(vbstest.OpListTasks))
	snap := target.Refresh(ctxTimeout(t, store.MinRefreshBudget/2))
	if m := len(sim.RequestLog(vbstest.OpListPolicies)) + len(sim.RequestLog(vbstest.OpListTasks)); m != n {
		t.Errorf("%d API requests for a scrape without budget, want 0", m-n)
	}
	want := strings.Replace(expectedScenario, `policy_name="daily-db",target="prod"} 1
vbs_policy_refresh_success{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 1`,
		`policy_name="daily-db",target="prod"} 0
vbs_policy_refresh_success{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 0`, 1)
	if want == expectedScenario {
		t.Fatal("the expected refresh success lines are not in expectedScenario")
	}
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	snap = target.Refresh(ctxTimeout(t, 10*time.Second))
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(expectedScenario)); err != nil {
		t.Errorf("next scrape with time: %v", err)
	}
}

// When the policy list itself fails, vbs_up is 0 and every policy keeps its
// last values with refresh success 0.
func TestScenarioPolicyListFails(t *testing.T) {
	t.Parallel()
	sim, target := newScenarioTarget(t)
	target.Refresh(ctxTimeout(t, 10*time.Second))
	sim.AddFault(vbstest.Fault{Kind: vbstest.FaultStatus, Operation: vbstest.OpListPolicies, Status: 403})
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	want := strings.NewReplacer(
		`vbs_up{target="prod"} 1`, `vbs_up{target="prod"} 0`,
		`policy_name="daily-db",target="prod"} 1
vbs_policy_refresh_success{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 1`,
		`policy_name="daily-db",target="prod"} 0
vbs_policy_refresh_success{policy_id="22222222-2222-4222-8222-222222222222",policy_name="weekly-archive",target="prod"} 0`,
	).Replace(expectedScenario)
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(want),
		"vbs_up", "vbs_policy_refresh_success", "vbs_policy_jobs", "vbs_resource_last_status"); err != nil {
		t.Fatal(err)
	}
}

// A job that finishes between two scrapes is re-read: the disk's running
// metric disappears and its last success moves.
func TestScenarioRunningJobFinishes(t *testing.T) {
	t.Parallel()
	src, target := newMemScenarioTarget(t)
	target.Refresh(ctxTimeout(t, 10*time.Second))
	src.setStatus(dailyID, jobID(4), "EXECUTE_SUCCESS", at("2026-11-27T02:40:00"))
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	// vol-a2's job 4 succeeded at 02:40 = 1795747200: its last success
	// moves, it is no longer running, and the policy counts one more success.
	want := strings.NewReplacer(
		`resource_id="vol-a2",resource_type="volume",target="prod"} 1.7956602005e+09`,
		`resource_id="vol-a2",resource_type="volume",target="prod"} 1.7957472e+09`,
		`policy_name="daily-db",status="EXECUTE_SUCCESS",target="prod"} 3`,
		`policy_name="daily-db",status="EXECUTE_SUCCESS",target="prod"} 4`,
		`policy_name="daily-db",status="RUNNING",target="prod"} 1`,
		`policy_name="daily-db",status="RUNNING",target="prod"} 0`,
		runningSinceBlock, "",
	).Replace(expectedScenario)
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(want),
		"vbs_resource_last_success_timestamp_seconds", "vbs_policy_jobs", "vbs_resource_running_since_timestamp_seconds"); err != nil {
		t.Fatal(err)
	}
}
