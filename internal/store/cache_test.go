package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// TestCachedMatchesFullWalk proves that the incremental refresh exports
// exactly what a full walk of the window exports, on randomized histories
// where jobs arrive, finish, change from undocumented statuses, get stuck and
// slide out of the window between scrapes. Some jobs stay open for days
// (re-read by job ID or by walking, whichever is cheaper), then finish,
// vanish from the source, or leave the window still open. Some refreshes
// break off mid-walk; the next one resumes them (after the last job read, or
// from the top when that job is gone). It runs against
// the in-memory source (memSource), so it covers many seeds and page sizes
// in milliseconds; TestCachedMatchesFullWalkOverHTTP runs a few through the
// VBS client and simulator.
func TestCachedMatchesFullWalk(t *testing.T) {
	t.Parallel()
	// Totals over the seeds, which run in parallel: checked once they all
	// ended (a test's cleanup runs after its parallel subtests).
	var mu sync.Mutex
	var totalRechecks, totalInterrupted, totalRestarted int
	t.Cleanup(func() {
		t.Logf("%d single-job re-reads, %d interrupted refreshes, %d resume points gone", totalRechecks, totalInterrupted, totalRestarted)
		if totalInterrupted == 0 {
			t.Error("no refresh broke off: the resume points are not exercised")
		}
		if totalRechecks == 0 {
			t.Error("no open job was re-read by ID: the histories do not exercise it")
		}
	})
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			rechecks := 0    // single-job re-reads of the cached targets
			interrupted := 0 // cached refreshes that broke off
			restarted := 0   // cached refreshes whose resume point was gone
			defer func() {
				mu.Lock()
				defer mu.Unlock()
				totalRechecks += rechecks
				totalInterrupted += interrupted
				totalRestarted += restarted
			}()
			sc := vbstest.Generate(vbstest.GenOptions{
				Policies: 4, Disks: 3, Days: 12, Seed: int64(seed), Now: testNow,
				FailRate: 0.15, TimeoutRate: 0.05, SkipRate: 0.05, RunningLast: true,
			})
			src := newMemSource(sc, 1+int(seed%8)*3) // page sizes 1..22
			now := testNow
			clock := func() time.Time { return now }
			cached := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: clock, Concurrency: 2})
			naive := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: clock, DisableCache: true})
			rng := rand.New(rand.NewPCG(seed, 42))
			next := 0
			stuck := map[string]bool{} // long-open jobs, by job ID
			for step := 0; step < 20; step++ {
				if rng.IntN(4) == 0 {
					// This refresh breaks off part way; what it read is kept
					// and the next one resumes.
					src.failPage(1 + rng.IntN(6))
					if snap := cached.Refresh(ctxTimeout(t, 30*time.Second)); !slices.ContainsFunc(snap.Policies, func(p store.PolicySnapshot) bool { return !p.RefreshSuccess }) {
						src.failPage(0) // fewer pages than the failure point: nothing broke
					} else {
						interrupted++
					}
					// Time passes as between scrapes (new jobs are newer than
					// those read), then the account changes.
					now = now.Add(time.Duration(1+rng.IntN(30)) * time.Hour)
					mutate(memHistory{src}, sc, rng, now, &next, stuck)
				}
				src.counters()
				snap := cached.Refresh(ctxTimeout(t, 30*time.Second))
				if slices.ContainsFunc(snap.Policies, func(p store.PolicySnapshot) bool { return !p.RefreshSuccess }) {
					// Only a resume point that is gone may fail a refresh
					// without an injected failure: the policy's cache is
					// dropped and the next refresh reads its window again.
					for _, p := range snap.Policies {
						if !p.RefreshSuccess && (p.CachedJobs != 0 || !strings.Contains(p.Err, "resum")) {
							t.Fatalf("step %d: policy %s failed with %d jobs kept: %s", step, p.Policy.ID, p.CachedJobs, p.Err)
						}
					}
					restarted++
					snap = cached.Refresh(ctxTimeout(t, 30*time.Second))
				}
				got := render(t, snapshotCollector{snap})
				rechecks += src.counters().rechecks
				want := render(t, snapshotCollector{naive.Refresh(ctxTimeout(t, 30*time.Second))})
				if got != want {
					t.Fatalf("step %d: cached refresh differs from the full walk:\n--- cached\n%s\n--- full walk\n%s", step, got, want)
				}
				now = now.Add(time.Duration(1+rng.IntN(30)) * time.Hour)
				mutate(memHistory{src}, sc, rng, now, &next, stuck)
			}
		})
	}
}

// TestCachedMatchesFullWalkOverHTTP is TestCachedMatchesFullWalk through
// the VBS client and simulator (markers, job_id= queries, real paging), on
// fewer seeds: it proves the same on randomized histories
// where jobs arrive, finish, change from undocumented statuses, get stuck and
// slide out of the window between scrapes. Some jobs stay open for days
// (re-read by job_id= or by walking, whichever is cheaper), then finish,
// vanish from the API, or leave the window still open.
func TestCachedMatchesFullWalkOverHTTP(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			sim, client := newSim(t, 1+int(seed)*3) // page sizes 4..19
			sc := vbstest.Generate(vbstest.GenOptions{
				Policies: 4, Disks: 3, Days: 12, Seed: int64(seed), Now: testNow,
				FailRate: 0.15, TimeoutRate: 0.05, SkipRate: 0.05, RunningLast: true,
			})
			sim.Load(sc)
			now := testNow
			clock := func() time.Time { return now }
			cached := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: clock, Concurrency: 2})
			naive := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: clock, DisableCache: true})
			rng := rand.New(rand.NewPCG(seed, 42))
			next := 0
			stuck := map[string]bool{} // long-open jobs, by job ID
			rechecks := 0              // job_id= queries of the cached target
			for step := 0; step < 15; step++ {
				sim.ResetCounters()
				got := render(t, snapshotCollector{cached.Refresh(ctxTimeout(t, 30*time.Second))})
				for _, r := range sim.RequestLog(vbstest.OpListTasks) {
					if strings.Contains(r.RawQuery, "job_id=") {
						rechecks++
					}
				}
				want := render(t, snapshotCollector{naive.Refresh(ctxTimeout(t, 30*time.Second))})
				if got != want {
					t.Fatalf("step %d: cached refresh differs from the full walk:\n--- cached\n%s\n--- full walk\n%s", step, got, want)
				}
				now = now.Add(time.Duration(1+rng.IntN(30)) * time.Hour)
				mutate(simHistory{t, sim}, sc, rng, now, &next, stuck)
			}
			t.Logf("%d job_id= re-reads", rechecks)
			if rechecks == 0 {
				t.Error("no open job was re-read with job_id=: the history does not exercise it")
			}
		})
	}
}

// history is what the randomized tests change as time passes: the
// simulator's account (simHistory) or the in-memory source (memHistory).
type history interface {
	// jobs returns the policy's jobs as [ID, raw status] pairs.
	jobs(policyID string) [][2]string
	finish(policyID, jobID, status string, at time.Time)
	remove(policyID, jobID string)
	add(policyID string, j vbstest.Job)
}

// simHistory is the history of a simulated account.
type simHistory struct {
	t   *testing.T
	sim *vbstest.Server
}

func (h simHistory) jobs(policyID string) [][2]string {
	var out [][2]string
	for _, j := range h.sim.Jobs(policyID) {
		out = append(out, [2]string{j.JobID, j.Status})
	}
	return out
}

func (h simHistory) finish(policyID, jobID, status string, at time.Time) {
	if err := h.sim.FinishJob(policyID, jobID, status, at); err != nil {
		h.t.Fatal(err)
	}
}

func (h simHistory) remove(policyID, jobID string) {
	if err := h.sim.RemoveJob(policyID, jobID); err != nil {
		h.t.Fatal(err)
	}
}

func (h simHistory) add(policyID string, j vbstest.Job) { h.sim.AddJobs(policyID, j) }

// memHistory is the history of the in-memory source; a failed finish gets
// an error code and message, as the API gives.
type memHistory struct{ src *memSource }

func (h memHistory) jobs(policyID string) [][2]string {
	var out [][2]string
	for _, j := range h.src.Jobs(policyID) {
		out = append(out, [2]string{j.ID, j.RawStatus})
	}
	return out
}

func (h memHistory) finish(policyID, jobID, status string, at time.Time) {
	h.src.update(policyID, jobID, func(j *backup.Job) {
		j.Status, _ = backup.ParseStatus(status)
		j.RawStatus, j.Finished = status, at
		if j.Status.Failed() {
			j.ErrorCode, j.ErrorMessage = "VBS.0001", "backup of "+j.ResourceID+" failed"
		}
	})
}

func (h memHistory) remove(policyID, jobID string) { h.src.remove(policyID, jobID) }

func (h memHistory) add(policyID string, j vbstest.Job) { h.src.add(policyID, memJob(policyID, j)) }

// mutate changes the account the way time does: new runs (some still in
// flight, some in an undocumented state), running jobs that finish, and
// undocumented states that resolve. Jobs in stuck stay open for days: each
// step one finishes with probability 1/6 and vanishes from the API with
// probability 1/10.
func mutate(h history, sc vbstest.Scenario, rng *rand.Rand, now time.Time, next *int, stuck map[string]bool) {
	statuses := []string{"RUNNING", "WAITING", "EXECUTE_SUCCESS", "EXECUTE_FAIL", "EXECUTE_TIMEOUT", "SKIP", "FROZEN"}
	finished := func() string { return statuses[2+rng.IntN(4)] }
	for _, p := range sc.Policies {
		for _, j := range h.jobs(p.ID) {
			id, status := j[0], j[1]
			if stuck[id] {
				switch r := rng.IntN(30); {
				case r < 5:
					delete(stuck, id)
					h.finish(p.ID, id, finished(), now.Add(-time.Duration(rng.IntN(60))*time.Minute))
				case r < 8:
					delete(stuck, id)
					h.remove(p.ID, id)
				}
				continue
			}
			switch status {
			case "RUNNING", "WAITING":
				if rng.IntN(3) > 0 {
					h.finish(p.ID, id, finished(), now.Add(-time.Duration(rng.IntN(60))*time.Minute))
				}
			case "FROZEN":
				if rng.IntN(2) == 0 {
					h.finish(p.ID, id, "EXECUTE_SUCCESS", now)
				}
			}
		}
		for range rng.IntN(12) {
			*next++
			st := statuses[rng.IntN(len(statuses))]
			j := vbstest.Job{
				JobID:        fmt.Sprintf("bbbbbbbb-0000-4000-8000-%012d", *next),
				Status:       st,
				ResourceID:   fmt.Sprintf("vol-%s-%d", p.ID[:8], rng.IntN(4)),
				ResourceType: "volume",
				CreatedAt:    now.Add(-time.Duration(rng.IntN(50)) * time.Minute),
			}
			if st != "RUNNING" && st != "WAITING" && st != "FROZEN" {
				j.FinishedAt = j.CreatedAt.Add(time.Duration(rng.IntN(7200)) * time.Second)
			} else if rng.IntN(3) == 0 {
				stuck[j.JobID] = true
			}
			h.add(p.ID, j)
		}
	}
}

// Two scrapes that arrive together share one refresh: one policy list call,
// one walk per policy. Each walk reads the policy's whole history (3 days in a
// 7-day window): one page, then the empty page that ends a walk. The first
// scrape's policy list is held until the second scrape waits for a result.
func TestConcurrentScrapesShareOneRefresh(t *testing.T) {
	t.Parallel()
	src := newMemSource(vbstest.Generate(vbstest.GenOptions{Policies: 3, Disks: 5, Days: 3, Seed: 7, Now: testNow}), 100)
	hook, entered, release := gate(callPolicies)
	src.setHook(hook)
	target := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: func() time.Time { return testNow }})
	var wg sync.WaitGroup
	snaps := make([]*store.Snapshot, 2)
	scrape := func(ctx context.Context, i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			snaps[i] = target.Refresh(ctx)
		}()
	}
	scrape(ctxTimeout(t, 10*time.Second), 0)
	waitFor(t, entered, "the first scrape's policy list")
	second := &waitingCtx{Context: ctxTimeout(t, 10*time.Second), waiting: make(chan struct{})}
	scrape(second, 1)
	waitFor(t, second.waiting, "the second scrape to wait")
	close(release)
	wg.Wait()
	if snaps[0] != snaps[1] {
		t.Errorf("the two scrapes got different snapshots")
	}
	if n := target.Refreshes(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	c := src.counters()
	if c.lists != 1 {
		t.Errorf("policy list requests = %d, want 1", c.lists)
	}
	if n := c.pages + c.rechecks; n != 6 {
		t.Errorf("task requests = %d, want 6 (one page and one empty page per policy)", n)
	}
}

// waitingCtx is a context that closes waiting when a caller first asks for
// its Done channel: Target.Refresh does so only to wait for a refresh (its
// own or a shared one) to end.
type waitingCtx struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func (c *waitingCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

// Within min_refresh_interval the last result is served without an API call.
func TestMinRefreshInterval(t *testing.T) {
	t.Parallel()
	src := newMemSource(vbstest.Generate(vbstest.GenOptions{Policies: 2, Disks: 2, Days: 3, Seed: 3, Now: testNow}), 100)
	now := testNow
	target := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: func() time.Time { return now }, MinRefreshInterval: time.Minute})
	first := target.Refresh(ctxTimeout(t, 10*time.Second))
	src.counters()
	now = now.Add(59 * time.Second)
	if again := target.Refresh(ctxTimeout(t, 10*time.Second)); again != first {
		t.Errorf("within the interval: got a new snapshot")
	}
	if c := src.counters(); c.lists+c.pages+c.rechecks != 0 {
		t.Errorf("within the interval: %d API requests, want 0", c.lists+c.pages+c.rechecks)
	}
	now = now.Add(time.Second)
	if again := target.Refresh(ctxTimeout(t, 10*time.Second)); again == first {
		t.Errorf("after the interval: got the old snapshot")
	}
	if n := src.counters().lists; n != 1 {
		t.Errorf("after the interval: %d policy list requests, want 1", n)
	}
}

// Steady state: with nothing new, a refresh costs one policy list call and
// one tasks page per policy, however long the history.
func TestSteadyStateCost(t *testing.T) {
	t.Parallel()
	sim, client := newSim(t, 50)
	sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 4, Disks: 20, Days: 30, Seed: 5, Now: testNow}))
	target := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: func() time.Time { return testNow }})
	target.Refresh(ctxTimeout(t, 30*time.Second))
	sim.ResetCounters()
	snap := target.Refresh(ctxTimeout(t, 30*time.Second))
	if got := sim.Requests(vbstest.OpListPolicies); got != 1 {
		t.Errorf("policy list requests = %d, want 1", got)
	}
	if got := sim.Requests(vbstest.OpListTasks); got != 4 {
		t.Errorf("task requests = %d, want 4 (one per policy)", got)
	}
	for _, p := range snap.Policies {
		if !p.RefreshSuccess || !p.BackfillComplete {
			t.Errorf("policy %s: success=%v backfill=%v", p.Policy.Name, p.RefreshSuccess, p.BackfillComplete)
		}
	}
	// One new page of jobs adds one request.
	p := sim.Policies()[0]
	for i := 0; i < 50; i++ {
		sim.AddJobs(p.ID, vbstest.Job{JobID: fmt.Sprintf("cccccccc-0000-4000-8000-%012d", i), Status: "EXECUTE_SUCCESS",
			ResourceID: "vol-new", ResourceType: "volume", CreatedAt: testNow.Add(time.Duration(i) * time.Second), FinishedAt: testNow.Add(time.Hour)})
	}
	sim.ResetCounters()
	target.Refresh(ctxTimeout(t, 30*time.Second))
	if got := sim.Requests(vbstest.OpListTasks); got != 5 {
		t.Errorf("after 50 new jobs: task requests = %d, want 5", got)
	}
	t.Run("job open for 6 days in a 7,000-job window", testSteadyStateLongOpenJob)
}

// A first walk that does not fit in one scrape's deadline keeps what it read
// and resumes from its marker: over several scrapes it completes without
// reading any page twice (beyond the one newest page each scrape re-reads and
// the page in flight when a deadline struck).
func TestBackfillResumesAcrossDeadlines(t *testing.T) {
	t.Parallel()
	sim, client := newSim(t, 10)
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 40, Days: 30, Seed: 11, Now: testNow,
		Schedules: []vbstest.Policy{{Name: "daily", StartTime: "02:00", Frequency: 1, Enabled: true}}})
	sim.Load(sc)
	total := sc.JobCount() // 40 disks x 30 runs = 1200 jobs = 120 pages of 10
	sim.SetLatency(5 * time.Millisecond)
	target := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: func() time.Time { return testNow }, Lookback: 31 * 24 * time.Hour})
	sim.ResetCounters()
	scrapes := 0
	var snap *store.Snapshot
	for ; scrapes < 200; scrapes++ {
		// 500 ms: a 400 ms refresh, less than the 600 ms the 120 pages
		// take at 5 ms each, so the walk is interrupted, and time for
		// several pages per scrape on a machine loaded with the other
		// tests.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		target.Refresh(ctx)
		cancel()
		// Wait for the shared refresh to end at its deadline so that the
		// next scrape starts a new one.
		target.Wait()
		snap = target.Last()
		if len(snap.Policies) == 1 && snap.Policies[0].BackfillComplete {
			break
		}
		if len(snap.Policies) == 1 && (snap.Policies[0].RefreshSuccess || snap.Policies[0].BackfillComplete) {
			t.Fatalf("scrape %d: interrupted walk reports success=%v backfill=%v", scrapes, snap.Policies[0].RefreshSuccess, snap.Policies[0].BackfillComplete)
		}
	}
	scrapes++
	if scrapes < 2 {
		t.Fatalf("the walk finished in %d scrape; the test needs it interrupted", scrapes)
	}
	p := snap.Policies[0]
	if !p.RefreshSuccess || p.CachedJobs != total {
		t.Fatalf("after %d scrapes: success=%v cached=%d, want true and %d", scrapes, p.RefreshSuccess, p.CachedJobs, total)
	}
	pages := (total + 9) / 10
	requests := sim.Requests(vbstest.OpListTasks)
	if limit := pages + 1 + 2*scrapes; requests > limit {
		t.Errorf("%d scrapes made %d task requests; a resumed walk allows at most %d (%d pages + 1 + 2 per scrape)", scrapes, requests, limit, pages)
	}
	naive := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: func() time.Time { return testNow }, Lookback: 31 * 24 * time.Hour, DisableCache: true})
	want := render(t, snapshotCollector{naive.Refresh(ctxTimeout(t, 60*time.Second))})
	if got := render(t, snapshotCollector{snap}); got != want {
		t.Errorf("backfilled metrics differ from a full walk:\n%s\n---\n%s", got, want)
	}
	t.Logf("backfill of %d jobs (%d pages) took %d scrapes and %d task requests", total, pages, scrapes, requests)
}

// When a policy's schedule changes so that its automatic window grows, the
// older jobs the cache never held are read: the result equals a full walk.
func TestWindowGrowsRereads(t *testing.T) {
	t.Parallel()
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 3, Days: 20, Seed: 2, Now: testNow, Schedules: dailyOnly})
	src := newMemSource(sc, 10)
	clock := func() time.Time { return testNow }
	cached := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: clock})
	if got := cached.Refresh(ctxTimeout(t, 10*time.Second)).Policies[0].CachedJobs; got != 3*7 {
		t.Fatalf("daily policy: %d cached jobs, want 21 (7-day window)", got)
	}
	p := sc.Policies[0]
	p.Frequency = 5 // every 5 days: expected interval 120h, window 15 days
	src.addPolicy(p)
	got := render(t, snapshotCollector{cached.Refresh(ctxTimeout(t, 10*time.Second))})
	naive := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: clock, DisableCache: true})
	if want := render(t, snapshotCollector{naive.Refresh(ctxTimeout(t, 10*time.Second))}); got != want {
		t.Fatalf("after the window grew:\n%s\n--- full walk\n%s", got, want)
	}
	if n := cached.Last().Policies[0].CachedJobs; n != 3*15 {
		t.Errorf("cached jobs = %d, want 45 (15-day window)", n)
	}
}

// When the API refuses a resume marker (HTTP 400: the job is gone), the
// policy is read again from the top instead of failing forever.
func TestRefusedMarkerRestartsWalk(t *testing.T) {
	t.Parallel()
	sim, client := newSim(t, 10)
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 10, Days: 10, Seed: 4, Now: testNow, Schedules: dailyOnly})
	sim.Load(sc)
	id := sc.Policies[0].ID
	target := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: func() time.Time { return testNow }, Lookback: 11 * 24 * time.Hour})
	// The third page fails: the walk keeps 20 jobs and resumes after the 20th.
	sim.AddFault(vbstest.Fault{Kind: vbstest.FaultLatency, Operation: vbstest.OpListTasks, Latency: 0, Times: 2})
	sim.AddFault(vbstest.Fault{Kind: vbstest.FaultStatus, Operation: vbstest.OpListTasks, Status: 500, Times: 1})
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	if p := snap.Policies[0]; p.RefreshSuccess || p.CachedJobs != 20 || len(target.Pending(id)) != 1 {
		t.Fatalf("first refresh: success=%v cached=%d pending=%v, want false, 20, one marker", p.RefreshSuccess, p.CachedJobs, target.Pending(id))
	}
	// The job the walk would resume after disappears from the API.
	marker := target.Pending(id)[0]
	pruned := vbstest.Scenario{Policies: sc.Policies, Jobs: map[string][]vbstest.Job{}}
	for _, j := range sc.Jobs[id] {
		if j.JobID != marker {
			pruned.Jobs[id] = append(pruned.Jobs[id], j)
		}
	}
	sim.Load(pruned)
	snap = target.Refresh(ctxTimeout(t, 10*time.Second))
	if p := snap.Policies[0]; p.RefreshSuccess || p.CachedJobs != 0 {
		t.Fatalf("refused marker: success=%v cached=%d, want false and 0 (the cache is dropped)", p.RefreshSuccess, p.CachedJobs)
	}
	snap = target.Refresh(ctxTimeout(t, 10*time.Second))
	if p := snap.Policies[0]; !p.RefreshSuccess || !p.BackfillComplete || p.CachedJobs != 99 {
		t.Fatalf("next refresh: success=%v backfill=%v cached=%d, want true, true, 99", p.RefreshSuccess, p.BackfillComplete, p.CachedJobs)
	}
}

// A first scrape whose deadline interrupts the walk still gets what the walk
// read: the refresh ends a little before the scrape's deadline.
func TestInterruptedFirstScrapeServesPartialData(t *testing.T) {
	t.Parallel()
	src := newMemSource(vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 40, Days: 30, Seed: 11, Now: testNow, Schedules: dailyOnly}), 10)
	src.setHook(latency(20 * time.Millisecond))
	target := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: func() time.Time { return testNow }, Lookback: 31 * 24 * time.Hour})
	// 1 s: an 800 ms refresh, time for the policy list and a few pages on
	// a loaded machine; the 120 pages at 20 ms each take far longer.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	snap := target.Refresh(ctx)
	if !snap.Up || len(snap.Policies) != 1 {
		t.Fatalf("up=%v policies=%d, want the interrupted refresh's snapshot", snap.Up, len(snap.Policies))
	}
	p := snap.Policies[0]
	if p.RefreshSuccess || p.BackfillComplete || p.CachedJobs == 0 || p.CachedJobs >= 1200 {
		t.Errorf("success=%v backfill=%v cached=%d, want false, false, and some of the 1200 jobs", p.RefreshSuccess, p.BackfillComplete, p.CachedJobs)
	}
}

// A scrape with (almost) no time left starts no refresh: a refresh that can
// only fail must not make the API look down to the next scrapers.
func TestNoRefreshWithoutTime(t *testing.T) {
	t.Parallel()
	src := newMemSource(vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 2, Days: 2, Seed: 1, Now: testNow}), 100)
	target := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: func() time.Time { return testNow }, MinRefreshInterval: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if snap := target.Refresh(ctx); snap.Up || len(snap.Policies) != 0 {
		t.Fatalf("tiny deadline: up=%v policies=%d, want an empty snapshot", snap.Up, len(snap.Policies))
	}
	if n, c := target.Refreshes(), src.counters(); n != 0 || c != (memCounts{}) {
		t.Fatalf("tiny deadline: %d refreshes and %+v API calls, want 0", n, c)
	}
	if snap := target.Refresh(ctxTimeout(t, 10*time.Second)); !snap.Up {
		t.Fatal("the next scrape with time: vbs_up 0, want 1")
	}
}

// A listed policy without an ID is skipped (its jobs cannot be asked for),
// and a policy listed twice is exported once.
func TestPolicyListOddities(t *testing.T) {
	t.Parallel()
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 2, Days: 2, Seed: 1, Now: testNow})
	src := newMemSource(sc, 100)
	src.addPolicy(vbstest.Policy{Name: "no-id", StartTime: "02:00", Frequency: 1, Enabled: true}) // listed without backup_policy_id
	target := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: func() time.Time { return testNow }})
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	if len(snap.Policies) != 1 || snap.Policies[0].Policy.ID != sc.Policies[0].ID || !snap.Policies[0].RefreshSuccess {
		t.Fatalf("policies %+v, want only %s, refreshed", snap.Policies, sc.Policies[0].ID)
	}
}

// A scrape whose deadline passes while the (shared) refresh still runs gets
// the last values, but marked as not refreshed on this scrape.
func TestDeadlineDuringRefreshServesStaleMarked(t *testing.T) {
	t.Parallel()
	sim, client := newSim(t, 100)
	sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 2, Disks: 2, Days: 2, Seed: 1, Now: testNow}))
	target := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: func() time.Time { return testNow }})
	first := target.Refresh(ctxTimeout(t, 10*time.Second))
	// A refresh with a long deadline hangs on the policy list ...
	sim.AddFault(vbstest.Fault{Kind: vbstest.FaultLatency, Operation: vbstest.OpListPolicies, Latency: 2 * time.Second, Times: 1})
	go target.Refresh(ctxTimeout(t, 10*time.Second))
	time.Sleep(100 * time.Millisecond)
	// ... and a scrape with a short one joins it and gives up first.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	snap := target.Refresh(ctx)
	if !snap.Up || len(snap.Policies) != 2 {
		t.Fatalf("up=%v policies=%d, want the last values", snap.Up, len(snap.Policies))
	}
	for i, p := range snap.Policies {
		if p.RefreshSuccess || p.CachedJobs != first.Policies[i].CachedJobs {
			t.Errorf("policy %s: success=%v cached=%d, want false and %d", p.Policy.Name, p.RefreshSuccess, p.CachedJobs, first.Policies[i].CachedJobs)
		}
	}
	if !first.Policies[0].RefreshSuccess {
		t.Error("the stale copy changed the stored snapshot")
	}
	target.Wait()
}

// A policy with an undecodable schedule is exported with expected interval 0
// next to healthy ones; the target stays up.
func TestPolicyWithBadScheduleKept(t *testing.T) {
	t.Parallel()
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 2, Days: 2, Seed: 1, Now: testNow})
	src := newMemSource(sc, 100)
	src.addPolicy(vbstest.Policy{ID: "bad-schedule", Name: "odd", StartTime: "noon", Frequency: 1, Enabled: true, ResourceCount: 3})
	target := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: func() time.Time { return testNow }})
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	if !snap.Up || len(snap.Policies) != 2 {
		t.Fatalf("up=%v policies=%d, want up with both policies", snap.Up, len(snap.Policies))
	}
	for _, p := range snap.Policies {
		if p.Policy.ID == "bad-schedule" {
			if p.Policy.Schedule.ExpectedInterval() != 0 || p.Policy.ResourceCount != 3 || !p.RefreshSuccess || len(p.Policy.Problems) != 1 {
				t.Errorf("odd policy: interval=%v resources=%d success=%v problems=%q", p.Policy.Schedule.ExpectedInterval(), p.Policy.ResourceCount, p.RefreshSuccess, p.Policy.Problems)
			}
		}
	}
}
