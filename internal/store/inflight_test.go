package store_test

import (
	"context"

	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// newSimWith starts a simulator with options and a client with page size.
func newSimWith(t testing.TB, o vbstest.Options, pageSize int) (*vbstest.Server, *vbs.Client) {
	t.Helper()
	sim := vbstest.NewServer(o)
	t.Cleanup(sim.Close)
	so := sim.Options()
	client, err := vbs.New(vbs.Options{
		Region: "cn-north-4", Endpoint: sim.URL(), ProjectID: so.ProjectID,
		Auth: hwcloud.NewAKSK(so.AccessKey, so.SecretKey, ""), PageSize: pageSize, Engine: hwcloud.EngineOptions{MaxAttempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return sim, client
}

// longOpenScenario is disks disks backed up daily for 8 days (a 7-day window
// of 7 x disks jobs) with the job of disk 0 created about 6 days ago still
// RUNNING. It returns that job's ID.
func longOpenScenario(t testing.TB, sim *vbstest.Server, disks int) (policyID, jobID string) {
	t.Helper()
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: disks, Days: 8, Seed: 9, Now: testNow, Schedules: dailyOnly})
	sim.Load(sc)
	policyID = sc.Policies[0].ID
	for _, j := range sc.Jobs[policyID] {
		if age := testNow.Sub(j.CreatedAt); age > 6*24*time.Hour-12*time.Hour && age <= 6*24*time.Hour+12*time.Hour {
			jobID = j.JobID
			break
		}
	}
	if jobID == "" {
		t.Fatal("no job created about 6 days ago")
	}
	if err := sim.UpdateJob(policyID, jobID, func(j *vbstest.Job) { j.Status = "RUNNING"; j.FinishedAt = time.Time{} }); err != nil {
		t.Fatal(err)
	}
	return policyID, jobID
}

// windowJobs counts the simulator's jobs of a policy created at or after cutoff.
func windowJobs(sim *vbstest.Server, policyID string, cutoff time.Time) int {
	n := 0
	for _, j := range sim.Jobs(policyID) {
		if !j.CreatedAt.Before(cutoff) {
			n++
		}
	}
	return n
}

// testSteadyStateLongOpenJob: 1,000 disks daily, one job RUNNING for 6 days
// and one WAITING for 3. A steady refresh costs one page from the top and
// one job_id= query per open job, not the ~60 pages down to the oldest; when
// a job finishes its query tells, and a job that was open and is gone from
// the API is dropped. The result equals a full walk.
func testSteadyStateLongOpenJob(t *testing.T) {
	sim, client := newSim(t, 100)
	pid, open := longOpenScenario(t, sim, 1000)
	var waiting string
	for _, j := range sim.Jobs(pid) {
		if age := testNow.Sub(j.CreatedAt); age > 3*24*time.Hour && age < 4*24*time.Hour {
			waiting = j.JobID
			break
		}
	}
	if err := sim.UpdateJob(pid, waiting, func(j *vbstest.Job) { j.Status = "WAITING"; j.FinishedAt = time.Time{} }); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return testNow }
	target := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: clock})
	var snap *store.Snapshot
	check := func(step string, wantRequests, wantCached int) {
		t.Helper()
		sim.ResetCounters()
		snap = target.Refresh(ctxTimeout(t, time.Minute))
		if got := sim.Requests(vbstest.OpListTasks); got != wantRequests {
			t.Errorf("%s: task requests = %d, want %d", step, got, wantRequests)
		}
		if p := snap.Policies[0]; !p.RefreshSuccess || !p.BackfillComplete || p.CachedJobs != wantCached {
			t.Errorf("%s: success=%v backfill=%v cached=%d, want true, true, %d", step, p.RefreshSuccess, p.BackfillComplete, p.CachedJobs, wantCached)
		}
	}
	target.Refresh(ctxTimeout(t, time.Minute))
	if n := windowJobs(sim, pid, testNow.Add(-7*24*time.Hour)); n != 7000 {
		t.Fatalf("window holds %d jobs, want 7000", n)
	}
	check("jobs open for 6 and 3 days", 3, 7000)
	if err := sim.FinishJob(pid, open, "EXECUTE_SUCCESS", testNow.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	check("the 6-day job finished", 3, 7000)
	check("one job open for 3 days", 2, 7000)
	if err := sim.RemoveJob(pid, waiting); err != nil {
		t.Fatal(err)
	}
	check("the waiting job vanished", 2, 6999)
	check("nothing open", 1, 6999)
	naive := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: clock, DisableCache: true})
	if got, want := render(t, snapshotCollector{snap}), render(t, snapshotCollector{naive.Refresh(ctxTimeout(t, time.Minute))}); got != want {
		t.Fatal("cached refresh differs from a full walk")
	}
}

// Many open jobs near the top (a run of 300 disks in flight) are re-read by
// the pages that hold them, not by 300 job_id= queries; the bound 1 + k holds.
func TestManyOpenJobsNearTopAreWalked(t *testing.T) {
	t.Parallel()
	sim, client := newSim(t, 100)
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 300, Days: 8, Seed: 3, Now: testNow, Schedules: dailyOnly})
	sim.Load(sc)
	pid := sc.Policies[0].ID
	jobs := sim.Jobs(pid)
	for _, j := range jobs[:300] { // the newest run
		if err := sim.UpdateJob(pid, j.JobID, func(j *vbstest.Job) { j.Status = "RUNNING"; j.FinishedAt = time.Time{} }); err != nil {
			t.Fatal(err)
		}
	}
	target := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: func() time.Time { return testNow }})
	target.Refresh(ctxTimeout(t, time.Minute))
	sim.ResetCounters()
	snap := target.Refresh(ctxTimeout(t, time.Minute))
	// 300 open jobs on pages 1-3: the walk re-reads them and ends at the
	// last of them, which it held already.
	if got := sim.Requests(vbstest.OpListTasks); got != 3 {
		t.Errorf("task requests = %d, want 3 (the pages holding the open jobs)", got)
	}
	if !snap.Policies[0].RefreshSuccess {
		t.Error("refresh failed")
	}
}

// filterIgnoringAPI is an API whose server answers job_id= with other jobs.
type filterIgnoringAPI struct {
	*vbs.Client
	calls int
	mu    sync.Mutex
}

func (f *filterIgnoringAPI) PolicyJob(ctx context.Context, policyID, jobID string) (backup.Job, bool, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	return backup.Job{}, false, backup.WithKind(backup.ErrFilterIgnored, fmt.Errorf("list_tasks: job_id=%s: %w", jobID, vbs.ErrFilterIgnored))
}

// When the API ignores job_id=, the refresh that finds out fails (nothing is
// dropped as "gone"), and later refreshes walk down to the open jobs instead.
func TestOpenJobFilterIgnoredFallsBackToWalking(t *testing.T) {
	t.Parallel()
	// 100 disks: the open job is 600 jobs (6 pages) down a 700-job window,
	// so the fallback walks pages to reach it; the 7,000-job window is
	// testSteadyStateLongOpenJob's.
	sim, client := newSim(t, 100)
	pid, open := longOpenScenario(t, sim, 100)
	api := &filterIgnoringAPI{Client: client}
	target := store.NewTarget(store.TargetOptions{Name: "t", API: api, Now: func() time.Time { return testNow }})
	target.Refresh(ctxTimeout(t, time.Minute))
	snap := target.Refresh(ctxTimeout(t, time.Minute))
	if p := snap.Policies[0]; p.RefreshSuccess || p.CachedJobs != 700 || api.calls != 1 {
		t.Fatalf("filter ignored: success=%v cached=%d job_id calls=%d, want false, 700, 1", p.RefreshSuccess, p.CachedJobs, api.calls)
	}
	if err := sim.FinishJob(pid, open, "EXECUTE_FAIL", testNow.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	snap = target.Refresh(ctxTimeout(t, time.Minute))
	if p := snap.Policies[0]; !p.RefreshSuccess || api.calls != 1 || p.Jobs(backup.StatusRunning) != 0 || p.Jobs(backup.StatusFail) == 0 {
		t.Fatalf("walking fallback: success=%v job_id calls=%d running=%d failed=%d", p.RefreshSuccess, api.calls, p.Jobs(backup.StatusRunning), p.Jobs(backup.StatusFail))
	}
}

// No job is lost against a server that caps limit at 100 (the client asks
// for 1,000), one whose count is the page's size, or both: the cached and
// the naive refresh export what a well-behaved server gives, and the steady
// refresh still costs one request per policy.
func TestPagingQuirksLoseNoJob(t *testing.T) {
	t.Parallel()
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 2, Disks: 60, Days: 10, Seed: 21, Now: testNow,
		FailRate: 0.1, Schedules: dailyOnly})
	refSim, refClient := newSim(t, 100)
	refSim.Load(sc)
	clock := func() time.Time { return testNow }
	want := render(t, snapshotCollector{store.NewTarget(store.TargetOptions{Name: "t", API: refClient, Now: clock, Lookback: 11 * 24 * time.Hour}).Refresh(ctxTimeout(t, time.Minute))})
	if !strings.Contains(want, `vbs_policy_cached_jobs{policy_id="`+sc.Policies[0].ID) {
		t.Fatal("reference exposition has no cached jobs")
	}
	for _, tt := range []struct {
		name     string
		opts     vbstest.Options
		pageSize int
	}{
		{"limit capped at 100, page size 1000", vbstest.Options{MaxLimit: 100}, 1000},
		{"count is the page size", vbstest.Options{CountIsPageSize: true}, 100},
		{"both, page size 1000", vbstest.Options{MaxLimit: 100, CountIsPageSize: true}, 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sim, client := newSimWith(t, tt.opts, tt.pageSize)
			sim.Load(sc)
			for _, cache := range []bool{true, false} {
				target := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: clock, Lookback: 11 * 24 * time.Hour, DisableCache: !cache})
				snap := target.Refresh(ctxTimeout(t, time.Minute))
				for _, p := range snap.Policies {
					if p.CachedJobs != 600 {
						t.Errorf("cache=%v policy %s: %d jobs, want 600", cache, p.Policy.Name, p.CachedJobs)
					}
				}
				if got := render(t, snapshotCollector{snap}); got != want {
					t.Errorf("cache=%v: exposition differs from a well-behaved server's:\n%s\n---\n%s", cache, got, want)
				}
				if cache {
					sim.ResetCounters()
					target.Refresh(ctxTimeout(t, time.Minute))
					if got := sim.Requests(vbstest.OpListTasks); got != 2 {
						t.Errorf("steady refresh: %d task requests, want 2 (one per policy)", got)
					}
				}
			}
		})
	}
}

// Times from the future are not trusted: a job dated years ahead does not
// set the last job, a finished_at in 2100 is neither the last success nor a
// 2.3e9 s duration, and a RUNNING job an hour and more ahead gives no
// running-since; every one still counts by status, and each is logged once.
func TestFutureTimesNotTrusted(t *testing.T) {
	t.Parallel()
	src := newMemSource(vbstest.Scenario{}, 100)
	src.addPolicy(vbstest.Policy{ID: "pol-f", Name: "future", StartTime: "02:00", Frequency: 1, Enabled: true, ResourceCount: 3})
	day := testNow.Truncate(24 * time.Hour).Add(2 * time.Hour) // today 02:00
	var jobs []vbstest.Job
	for i, d := range []string{"vol-a", "vol-b", "vol-c"} {
		jobs = append(jobs, vbstest.Job{JobID: fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", i), Status: "EXECUTE_SUCCESS",
			ResourceID: d, ResourceType: "volume", CreatedAt: day, FinishedAt: day.Add(10 * time.Minute)})
	}
	years := time.Date(2031, 5, 1, 2, 0, 0, 0, time.UTC)
	jobs = append(jobs,
		vbstest.Job{JobID: "future-years", Status: "EXECUTE_SUCCESS", ResourceID: "vol-a", ResourceType: "volume",
			CreatedAt: years, FinishedAt: years.Add(time.Hour)},
		vbstest.Job{JobID: "finished-2100", Status: "EXECUTE_SUCCESS", ResourceID: "vol-b", ResourceType: "volume",
			CreatedAt: testNow.Add(-time.Hour), FinishedAt: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)},
		vbstest.Job{JobID: "running-ahead", Status: "RUNNING", ResourceID: "vol-c", ResourceType: "volume",
			CreatedAt: testNow.Add(90 * time.Minute)},
	)
	src.addJobs("pol-f", jobs...)
	logs := &testkit.SyncBuffer{}
	now := testNow
	target := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: func() time.Time { return now }, Logger: log.NewLogfmtLogger(logs)})
	var text string
	for range 3 {
		text = render(t, snapshotCollector{target.Refresh(ctxTimeout(t, 10*time.Second))})
	}
	lbl := `policy_id="pol-f",policy_name="future",`
	sec := func(tm time.Time) string { return fmt.Sprint(float64(tm.Unix())) }
	for _, want := range []string{
		`vbs_policy_last_job_timestamp_seconds{` + lbl + `target="t"} ` + sec(testNow.Add(-time.Hour)),
		`vbs_policy_jobs{` + lbl + `status="EXECUTE_SUCCESS",target="t"} 5`,
		`vbs_policy_jobs{` + lbl + `status="RUNNING",target="t"} 1`,
		// vol-a: the job of today, not the one of 2031.
		`vbs_resource_last_success_timestamp_seconds{` + lbl + `resource_id="vol-a",resource_type="volume",target="t"} ` + sec(day.Add(10*time.Minute)),
		// vol-b: finished_at unknown, so its creation (the conservative choice), and no duration.
		`vbs_resource_last_success_timestamp_seconds{` + lbl + `resource_id="vol-b",resource_type="volume",target="t"} ` + sec(testNow.Add(-time.Hour)),
		`vbs_resource_last_success_duration_seconds{` + lbl + `resource_id="vol-b",resource_type="volume",target="t"} 0`,
		`vbs_policy_window_backup_duration_seconds_sum{` + lbl + `target="t"} 1800`,
		`vbs_policy_window_backup_duration_seconds_count{` + lbl + `target="t"} 3`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(text, "vbs_resource_running_since_timestamp_seconds{") {
		t.Errorf("a running-since from a job dated ahead:\n%s", htLines(text, "vbs_resource_running_since"))
	}
	warned := logs.Lines("ahead of the exporter's clock")
	if len(warned) != 3 {
		t.Fatalf("%d warnings over 3 refreshes, want 3 (one per job):\n%s", len(warned), strings.Join(warned, "\n"))
	}
	for _, want := range []string{
		`job_id=future-years field=created_at,finished_at value=2031-05-01T02:00:00.000Z,2031-05-01T03:00:00.000Z`,
		`job_id=finished-2100 field=finished_at value=2100-01-01T00:00:00.000Z`,
		`job_id=running-ahead field=created_at value=2026-11-27T13:30:00.000Z`,
	} {
		if !strings.Contains(strings.Join(warned, "\n"), want) {
			t.Errorf("no warning with %q:\n%s", want, strings.Join(warned, "\n"))
		}
	}
	// Once the clock catches up, the RUNNING job's time is trusted: with no
	// new data the statistics are derived again and it is running since then.
	now = testNow.Add(31 * time.Minute)
	text = render(t, snapshotCollector{target.Refresh(ctxTimeout(t, 10*time.Second))})
	if want := `vbs_resource_running_since_timestamp_seconds{` + lbl + `resource_id="vol-c",resource_type="volume",target="t"} ` + sec(testNow.Add(90*time.Minute)); !strings.Contains(text, want+"\n") {
		t.Errorf("clock caught up: missing %s", want)
	}
}

// htLines returns the lines of text that start with prefix.
func htLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A lookback shorter than twice a policy's expected interval is warned about
// once per policy, not on every refresh; a policy whose window is long enough
// is not warned about.
func TestShortLookbackWarnsOncePerPolicy(t *testing.T) {
	t.Parallel()
	src := newMemSource(vbstest.Scenario{}, 100)
	src.addPolicy(vbstest.Policy{ID: "pol-weekly", Name: "weekly", StartTime: "02:00", WeekFrequency: []string{"SUN"}, Enabled: true})
	src.addPolicy(vbstest.Policy{ID: "pol-hourly", Name: "twice-daily", StartTime: "02:00,14:00", Frequency: 1, Enabled: true})
	logs := &testkit.SyncBuffer{}
	target := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: func() time.Time { return testNow }, Lookback: 48 * time.Hour, Logger: log.NewLogfmtLogger(logs)})
	for range 3 {
		target.Refresh(ctxTimeout(t, 10*time.Second))
	}
	warned := logs.Lines("shorter than twice the policy's expected interval")
	if len(warned) != 1 || !strings.Contains(warned[0], "policy_id=pol-weekly") || !strings.Contains(warned[0], "lookback=48h0m0s expected_interval=168h0m0s") {
		t.Fatalf("warnings:\n%s\nwant one, for pol-weekly", strings.Join(warned, "\n"))
	}
}

// An open job older than the window leaves it like any other: it is
// dropped, not re-read, and its disk stops showing it as running.
func TestOpenJobLeavesWindow(t *testing.T) {
	t.Parallel()
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 5, Days: 9, Seed: 4, Now: testNow, Schedules: dailyOnly})
	src := newMemSource(sc, 10)
	pid := sc.Policies[0].ID
	var old backup.Job
	for _, j := range src.Jobs(pid) {
		if age := testNow.Sub(j.Created); age < 7*24*time.Hour && age > 6*24*time.Hour {
			old = j
		}
	}
	src.setStatus(pid, old.ID, "RUNNING", time.Time{})
	now := testNow
	target := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: func() time.Time { return now }})
	target.Refresh(ctxTimeout(t, 10*time.Second))
	src.counters()
	if got, c := target.Refresh(ctxTimeout(t, 10*time.Second)).Policies[0].Jobs(backup.StatusRunning), src.counters(); got != 1 || c.pages != 1 || c.rechecks != 1 {
		t.Fatalf("inside the window: %d running, %d pages and %d job re-reads; want 1, 1 and 1 (a page and a job_id= query)", got, c.pages, c.rechecks)
	}
	now = old.Created.Add(7*24*time.Hour + time.Minute) // the job is now older than the 7-day window
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	if got, c := snap.Policies[0].Jobs(backup.StatusRunning), src.counters(); got != 0 || c.pages+c.rechecks != 1 {
		t.Errorf("after it left the window: %d running, %d task requests (%d pages, %d job re-reads); want 0 and 1", got, c.pages+c.rechecks, c.pages, c.rechecks)
	}
	for _, r := range snap.Policies[0].Resources() {
		if r.RunningSince() != 0 {
			t.Errorf("disk %s still running since %d", r.ID(), r.RunningSince())
		}
	}
}

// An open job without a job_id cannot be asked for by ID: the refresh walks
// down to it, and it is re-read correctly when it finishes.
func TestOpenJobWithoutIDIsWalked(t *testing.T) {
	t.Parallel()
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 5, Days: 8, Seed: 4, Now: testNow, Schedules: dailyOnly})
	src := newMemSource(sc, 10)
	pid := sc.Policies[0].ID
	jobs := src.Jobs(pid)
	idless := jobs[24].ID // on the third page
	src.setStatus(pid, idless, "RUNNING", time.Time{})
	src.update(pid, idless, func(j *backup.Job) { j.ID = "" }) // served without job_id, in its place
	target := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: func() time.Time { return testNow }})
	target.Refresh(ctxTimeout(t, 10*time.Second))
	src.counters()
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	c := src.counters()
	if c.rechecks != 0 {
		t.Errorf("%d job re-reads (job_id= queries) for a job without ID, want 0", c.rechecks)
	}
	if p := snap.Policies[0]; !p.RefreshSuccess || p.Jobs(backup.StatusRunning) != 1 || c.pages+c.rechecks != 3 {
		t.Fatalf("success=%v running=%d task requests=%d, want true, 1, 3 (the pages down to the job)", p.RefreshSuccess, p.Jobs(backup.StatusRunning), c.pages+c.rechecks)
	}
	src.setStatus(pid, "", "EXECUTE_SUCCESS", testNow.Add(-time.Minute))
	snap = target.Refresh(ctxTimeout(t, 10*time.Second))
	if p := snap.Policies[0]; !p.RefreshSuccess || p.Jobs(backup.StatusRunning) != 0 {
		t.Errorf("after it finished: success=%v running=%d, want true and 0", p.RefreshSuccess, p.Jobs(backup.StatusRunning))
	}
}
