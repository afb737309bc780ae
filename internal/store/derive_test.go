package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// vbs_policy_last_run_resources counts the distinct disks that the policy's
// most recent run backed up or tried to: jobs created at most 30 minutes
// before the newest job, in RUNNING, WAITING, EXECUTE_SUCCESS, EXECUTE_FAIL
// or EXECUTE_TIMEOUT. A policy without jobs has no such series.
func TestLastRunResources(t *testing.T) {
	t.Parallel()
	src := newMemSource(vbstest.Scenario{}, 2)
	const runID, emptyID = "44444444-4444-4444-8444-444444444444", "55555555-5555-4555-8555-555555555555"
	src.addPolicy(vbstest.Policy{ID: runID, Name: "run", StartTime: "02:00", Frequency: 1, Enabled: true, ResourceCount: 5})
	src.addPolicy(vbstest.Policy{ID: emptyID, Name: "empty", StartTime: "02:00", Frequency: 1, Enabled: true, ResourceCount: 0})
	n := 100
	job := func(disk, status, created string) vbstest.Job {
		n++
		j := vbstest.Job{JobID: jobID(n), Status: status, ResourceID: disk, ResourceType: "volume", CreatedAt: at(created)}
		if status != "RUNNING" && status != "WAITING" {
			j.FinishedAt = at(created).Add(time.Minute)
		}
		return j
	}
	src.addJobs(runID,
		// The newest run, at 02:00 today.
		job("vol-ok", "EXECUTE_SUCCESS", "2026-11-27T02:00:00"),
		job("vol-running", "WAITING", "2026-11-27T01:45:00"),
		job("vol-edge", "EXECUTE_FAIL", "2026-11-27T01:30:00"), // exactly 30 min before: in the run
		job("vol-skipped", "SKIP", "2026-11-27T02:00:00"),      // no attempt
		job("vol-odd", "FROZEN", "2026-11-27T02:00:00"),        // undocumented status: no attempt
		job("vol-early", "EXECUTE_TIMEOUT", "2026-11-27T01:29:59"),
		// Yesterday's run: every disk, including one unbound since.
		job("vol-ok", "EXECUTE_SUCCESS", "2026-11-26T02:00:00"),
		job("vol-skipped", "EXECUTE_SUCCESS", "2026-11-26T02:00:00"),
		job("vol-odd", "EXECUTE_SUCCESS", "2026-11-26T02:00:00"),
		job("vol-early", "EXECUTE_SUCCESS", "2026-11-26T02:00:00"),
		job("vol-unbound", "EXECUTE_SUCCESS", "2026-11-26T02:00:00"),
	)
	target := store.NewTarget(store.TargetOptions{Name: "prod", API: src, Now: func() time.Time { return testNow }})
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	const want = `# HELP vbs_policy_last_run_resources Distinct disks that the policy's most recent run (its jobs created within 30 minutes of the newest job) backed up or tried to (RUNNING, WAITING, EXECUTE_SUCCESS, EXECUTE_FAIL, EXECUTE_TIMEOUT). Fewer than vbs_policy_resources: the run left bound disks out.
# TYPE vbs_policy_last_run_resources gauge
vbs_policy_last_run_resources{policy_id="44444444-4444-4444-8444-444444444444",policy_name="run",target="prod"} 3
`
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(want), "vbs_policy_last_run_resources"); err != nil {
		t.Fatal(err)
	}
}
