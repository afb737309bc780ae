package cbr

import (
	"context"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/cbr/cbrtest"
)

// steadyCost loads a generated history, reads it once (the backfill), then
// lets 5 minutes pass in which a run in flight progresses, and counts the
// requests of one steady refresh: Inventory, NewJobs from the cursor and
// Recheck of the open tasks.
func steadyCost(t *testing.T, policies, days int, readHistory bool) (backfill int, steady map[string]int, jobs int) {
	t.Helper()
	// 03:20 UTC: policy 2's 03:00 run is in flight (half its disks
	// running, half waiting), whatever the number of policies.
	now := time.Date(2026, 11, 27, 3, 20, 0, 0, time.UTC)
	clk := &clock{t: now}
	sim := newSim(t, cbrtest.Options{}, clk)
	sc := cbrtest.Generate(cbrtest.GenOptions{Policies: policies, DisksPerPolicy: 50, Days: days, Now: now})
	sim.Load(sc)
	c := newTestClient(t, sim, clk, nil)
	ctx := context.Background()
	if _, err := c.Inventory(ctx); err != nil {
		t.Fatal(err)
	}
	var b backup.JobBatch
	var open []backup.Job
	if readHistory {
		var err error
		b, err = c.NewJobs(ctx, backup.JobQuery{NotBefore: now.AddDate(0, 0, -days)})
		if err != nil || !b.Complete {
			t.Fatalf("backfill: %v", err)
		}
		if len(b.Jobs) != len(sc.Logs) {
			t.Fatalf("backfill read %d tasks, the history has %d", len(b.Jobs), len(sc.Logs))
		}
		for _, j := range b.Jobs {
			if j.Status.Open() {
				open = append(open, j)
			}
		}
	} else {
		// The state a completed backfill leaves: the cursor at now, and
		// the open tasks as the history has them.
		b.Next = cursorOf(now)
		for _, l := range sc.Logs {
			if s := MapStatus(l.Status); s.Open() {
				open = append(open, backup.Job{ID: l.ID, Status: s, Created: l.Created})
			}
		}
	}
	backfill = sim.TotalRequests()
	running, waiting := 0, 0
	for _, j := range open {
		switch j.Status {
		case backup.StatusRunning:
			running++
		case backup.StatusWaiting:
			waiting++
		}
	}
	if running < 10 || waiting < 5 {
		t.Fatalf("%d running, %d waiting tasks; the scenario needs a run in flight", running, waiting)
	}
	// Five minutes later: 10 running tasks finished, 5 waiting ones started.
	clk.Add(5 * time.Minute)
	finished, started := map[string]bool{}, 0
	for _, j := range open {
		switch {
		case j.Status == backup.StatusRunning && len(finished) < 10:
			sim.FinishLog(j.ID, "success", clk.Now().Add(-time.Minute))
			finished[j.ID] = true
		case j.Status == backup.StatusWaiting && started < 5:
			sim.UpdateLog(j.ID, func(l *cbrtest.OperationLog) { l.Status, l.Updated = "running", clk.Now() })
			started++
		}
	}
	sim.ResetCounters()
	if _, err := c.Inventory(ctx); err != nil {
		t.Fatal(err)
	}
	nb, err := c.NewJobs(ctx, backup.JobQuery{Cursor: b.Next, NotBefore: now.AddDate(0, 0, -days)})
	if err != nil || !nb.Complete {
		t.Fatal(err)
	}
	res, err := c.Recheck(ctx, open)
	if err != nil || len(res.Gone) != 0 || len(res.Unchecked) != 0 {
		t.Fatalf("recheck: %v, gone %v, unchecked %v", err, res.Gone, res.Unchecked)
	}
	done := 0
	for _, j := range res.Jobs {
		if finished[j.ID] {
			if j.Status != backup.StatusSuccess {
				t.Errorf("task %s: %v, want EXECUTE_SUCCESS", j.ID, j.Status)
			}
			done++
		}
	}
	if done != 10 {
		t.Errorf("recheck found %d of the 10 finished tasks", done)
	}
	steady = map[string]int{}
	for _, op := range []string{cbrtest.OpListPolicies, cbrtest.OpListVaults, cbrtest.OpListOperationLogs, cbrtest.OpShowOperationLog} {
		steady[op] = sim.Requests(op)
	}
	return backfill, steady, len(sc.Logs)
}

// TestSteadyCost: the requests of a steady refresh do not depend on the
// length of the history nor on the number of policies.
func TestSteadyCost(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		cbrtest.OpListPolicies: 1,
		cbrtest.OpListVaults:   2, // one page and the empty page
		// new tasks (a page and the empty page), then the recheck: running,
		// waiting, and the window of the tasks that left them (a page and
		// the empty page each)
		cbrtest.OpListOperationLogs: 8,
		cbrtest.OpShowOperationLog:  0,
	}
	for _, tc := range []struct{ policies, days int }{{10, 301}, {3, 10}} {
		backfill, steady, jobs := steadyCost(t, tc.policies, tc.days, false)
		t.Logf("%d policies, %d tasks: steady %v", tc.policies, jobs, steady)
		_ = backfill
		for op, n := range want {
			if steady[op] != n {
				t.Errorf("%d policies, %d tasks: %d %s requests, want %d", tc.policies, jobs, steady[op], op, n)
			}
		}
	}
}

// TestBackfillThenSteady reads a whole (small) history first, so that the
// cursor and the open tasks are the client's own.
func TestBackfillThenSteady(t *testing.T) {
	t.Parallel()
	backfill, steady, jobs := steadyCost(t, 3, 20, true)
	t.Logf("%d tasks: backfill %d requests (inventory included), steady %v", jobs, backfill, steady)
	if steady[cbrtest.OpListOperationLogs] != 8 || steady[cbrtest.OpShowOperationLog] != 0 {
		t.Errorf("steady %v", steady)
	}
	// 20 days in slices of 7 days of 1,050, 1,050 and 900 tasks: 2, 2 and
	// 1 pages, each slice ended by an empty page; plus the inventory's 3.
	if backfill != 3+3+3+2 {
		t.Errorf("backfill %d requests, want 11", backfill)
	}
}

// TestBackfillCost150k reads the whole 150,150-task history once. It takes
// minutes under the race detector on a shared machine, so it runs only
// without it (and not with -short).
func TestBackfillCost150k(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("reads 150,150 tasks; skipped with -short and -race")
	}
	backfill, steady, jobs := steadyCost(t, 10, 301, true)
	t.Logf("%d tasks: backfill %d requests (inventory included), steady %v", jobs, backfill, steady)
	if steady[cbrtest.OpListOperationLogs] != 8 {
		t.Errorf("steady %v", steady)
	}
	// 301 days: 43 slices of 7 days with 3,500 tasks each (4 pages and the
	// empty page), plus the inventory's 3.
	if want := 43*5 + 3; backfill != want {
		t.Errorf("backfill %d requests, want %d", backfill, want)
	}
}
