package store_test

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// memSource is a backup.PolicySource that serves jobs from memory, without
// HTTP: the randomized store tests run in milliseconds, and memory
// measurements see the exporter's heap alone. Each policy's jobs are listed
// newest first (ties by ID, descending) in pages of pageSize, a walk ends
// on an empty page, and a walk resumed after a job that is gone is refused
// with backup.ErrResumeRefused, as a per-policy service does. It reports no
// credential back-off (AuthBackoffUntil is the zero time), as the VBS client
// whose credentials were never refused: a target on it exports the same
// series as one on the client.
//
// The store's own logic (cache, derived statistics, shared refreshes) is
// tested on it; what depends on HTTP, signing, decoding or the service's
// quirks goes through the VBS client and the simulator.
type memSource struct {
	mu       sync.Mutex
	policies []backup.Policy
	jobs     map[string][]backup.Job // newest first
	pageSize int
	// lists counts Policies calls, pages PolicyJobs page requests (the
	// empty page that ends a walk included) and rechecks PolicyJob calls: a
	// simulator's list_tasks requests are pages + rechecks.
	lists, pages, rechecks int
	// failIn, when > 0, fails the failIn-th page request from now with an
	// ErrUnavailable error (once), as a service that breaks off mid-walk.
	failIn int
	// failing fails every page and PolicyJob call of a policy with its
	// error (see failPolicy).
	failing map[string]error
	// hook, when set, runs before every call once it is counted and
	// failIn and failing let it through, outside the lock (see setHook).
	hook memHook
}

// memCall names a memSource call for a memHook.
type memCall string

// The calls of a memSource.
const (
	callPolicies memCall = "policies" // Policies
	callPage     memCall = "page"     // one page of PolicyJobs
	callJob      memCall = "job"      // PolicyJob
)

// memHook runs before a memSource call with the caller's context and the
// policy ID ("" for Policies): it may wait (latency, a gate the test opens)
// or fail the call by returning an error.
type memHook func(ctx context.Context, call memCall, policyID string) error

// setHook sets the hook run before every call; nil removes it.
func (m *memSource) setHook(h memHook) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hook = h
}

// runHook runs the hook, if any.
func (m *memSource) runHook(ctx context.Context, call memCall, policyID string) error {
	m.mu.Lock()
	h := m.hook
	m.mu.Unlock()
	if h == nil {
		return nil
	}
	return h(ctx, call, policyID)
}

// gate returns a hook that holds every call of kind call until release is
// closed (or the caller's context ends), and closes entered when the first
// such call arrives: a test can act while a refresh is certainly under way.
func gate(call memCall) (hook memHook, entered, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook = func(ctx context.Context, c memCall, _ string) error {
		if c != call {
			return nil
		}
		once.Do(func() { close(entered) })
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return hook, entered, release
}

// waitFor waits for ch to close, failing the test after 10 s instead of
// hanging it.
func waitFor(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("waited 10 s for %s", what)
	}
}

// latency returns a hook that delays every call by d (less when the
// caller's context ends first, which fails the call), as a service's round
// trip.
func latency(d time.Duration) memHook {
	return func(ctx context.Context, _ memCall, _ string) error {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// failPolicy makes every later page and PolicyJob call of the policy fail
// with err (a simulator's fault on the policy's list_tasks); nil ends it.
func (m *memSource) failPolicy(policyID string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing == nil {
		m.failing = map[string]error{}
	}
	if err == nil {
		delete(m.failing, policyID)
		return
	}
	m.failing[policyID] = err
}

// AuthBackoffUntil reports no back-off (see memSource).
func (m *memSource) AuthBackoffUntil() time.Time { return time.Time{} }

// errMemUnavailable is the injected failure.
var errMemUnavailable = backup.WithKind(backup.ErrUnavailable, fmt.Errorf("injected: the service broke off"))

// failPage makes the n-th page request from now fail.
func (m *memSource) failPage(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failIn = n
}

var _ backup.PolicySource = (*memSource)(nil)

// newMemSource loads a VBS scenario (generated, or planted by hand) into
// memory; the jobs of a policy the scenario does not list are left out.
func newMemSource(sc vbstest.Scenario, pageSize int) *memSource {
	m := &memSource{jobs: map[string][]backup.Job{}, pageSize: pageSize}
	for _, p := range sc.Policies {
		m.addPolicy(p)
		m.addJobs(p.ID, sc.Jobs[p.ID]...)
	}
	return m
}

// addPolicy lists a scenario policy, replacing a listed one with the same
// ID (as the simulator's AddPolicy). A schedule vbs.ParseSchedule refuses
// leaves the policy's Schedule zero and the error in its Problems, as the
// VBS client's decoder keeps such a policy (package vbs tests its wording).
func (m *memSource) addPolicy(p vbstest.Policy) {
	sched, err := vbs.ParseSchedule(p.StartTime, p.Frequency, p.WeekFrequency, p.TimeZone)
	var problems []string
	if err != nil {
		problems = []string{err.Error()}
	}
	bp := vbs.PolicyOf(vbs.Policy{ID: p.ID, Name: p.Name, Enabled: p.Enabled, ResourceCount: p.ResourceCount, Schedule: sched, Problems: problems})
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := slices.IndexFunc(m.policies, func(q backup.Policy) bool { return q.ID == p.ID }); i >= 0 {
		m.policies[i] = bp
		return
	}
	m.policies = append(m.policies, bp)
}

// addJobs adds scenario jobs to a policy (see add).
func (m *memSource) addJobs(policyID string, js ...vbstest.Job) {
	bjs := make([]backup.Job, 0, len(js))
	for _, j := range js {
		bjs = append(bjs, memJob(policyID, j))
	}
	m.add(policyID, bjs...)
}

// memJob converts a scenario job.
func memJob(policyID string, j vbstest.Job) backup.Job {
	code := ""
	if j.Code != nil {
		code = fmt.Sprint(j.Code)
	}
	bj := vbs.JobOf(vbs.Task{JobID: j.JobID, Status: vbs.Status(j.Status), ResourceID: j.ResourceID,
		ResourceType: j.ResourceType, BackupName: j.BackupName, CreatedAt: j.CreatedAt, FinishedAt: j.FinishedAt,
		Code: code, Message: j.Message})
	bj.PolicyID = policyID
	return bj
}

func (m *memSource) sort(policyID string) {
	slices.SortStableFunc(m.jobs[policyID], func(a, b backup.Job) int {
		return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(b.ID, a.ID))
	})
}

func (m *memSource) Policies(ctx context.Context) ([]backup.Policy, error) {
	m.mu.Lock()
	m.lists++
	m.mu.Unlock()
	if err := m.runHook(ctx, callPolicies, ""); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.policies), nil
}

func (m *memSource) PolicyJobs(ctx context.Context, policyID string, q backup.PolicyJobQuery) iter.Seq2[backup.Job, error] {
	return func(yield func(backup.Job, error) bool) {
		marker := q.After
		for {
			m.mu.Lock()
			m.pages++
			if m.failIn > 0 {
				if m.failIn--; m.failIn == 0 {
					m.mu.Unlock()
					yield(backup.Job{}, errMemUnavailable)
					return
				}
			}
			err := m.failing[policyID]
			m.mu.Unlock()
			if err == nil {
				err = m.runHook(ctx, callPage, policyID)
			}
			if err != nil {
				yield(backup.Job{}, err)
				return
			}
			m.mu.Lock()
			js := m.jobs[policyID]
			i := 0
			if marker != "" {
				i = slices.IndexFunc(js, func(j backup.Job) bool { return j.ID == marker }) + 1
				if i == 0 {
					m.mu.Unlock()
					yield(backup.Job{}, backup.WithKind(backup.ErrResumeRefused, fmt.Errorf("marker %s: no such job", marker)))
					return
				}
			}
			page := slices.Clone(js[i:min(i+m.pageSize, len(js))])
			m.mu.Unlock()
			if len(page) == 0 {
				return
			}
			for _, j := range page {
				j.PolicyID = policyID
				if !yield(j, nil) {
					return
				}
			}
			marker = page[len(page)-1].ID
		}
	}
}

func (m *memSource) PolicyJob(ctx context.Context, policyID, jobID string) (backup.Job, bool, error) {
	m.mu.Lock()
	m.rechecks++
	err := m.failing[policyID]
	m.mu.Unlock()
	if err == nil {
		err = m.runHook(ctx, callJob, policyID)
	}
	if err != nil {
		return backup.Job{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, j := range m.jobs[policyID] {
		if j.ID == jobID {
			j.PolicyID = policyID
			return j, true, nil
		}
	}
	return backup.Job{}, false, nil
}

func (m *memSource) PageSize() int { return m.pageSize }

// Jobs returns a copy of the policy's jobs, newest first.
func (m *memSource) Jobs(policyID string) []backup.Job {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.jobs[policyID])
}

// update applies fn to a job of the policy.
func (m *memSource) update(policyID, jobID string, fn func(*backup.Job)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.jobs[policyID] {
		if m.jobs[policyID][i].ID == jobID {
			fn(&m.jobs[policyID][i]) // the creation time, and so the order, stays
			return
		}
	}
	panic("no job " + jobID)
}

// setStatus sets a job's status (the service's word) and finished time (the
// zero time: none), as the simulator's FinishJob.
func (m *memSource) setStatus(policyID, jobID, status string, at time.Time) {
	m.update(policyID, jobID, func(j *backup.Job) {
		*j = memJob(policyID, vbstest.Job{JobID: j.ID, Status: status, ResourceID: j.ResourceID, ResourceType: j.ResourceType,
			CreatedAt: j.Created, FinishedAt: at, Code: j.ErrorCode, Message: j.ErrorMessage})
	})
}

// remove deletes a job of the policy.
func (m *memSource) remove(policyID, jobID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[policyID] = slices.DeleteFunc(m.jobs[policyID], func(j backup.Job) bool { return j.ID == jobID })
}

// add adds jobs to the policy.
func (m *memSource) add(policyID string, js ...backup.Job) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[policyID] = append(m.jobs[policyID], js...)
	m.sort(policyID)
}

// memCounts are a memSource's call counts (see memSource.lists).
type memCounts struct{ lists, pages, rechecks int }

// counters returns and resets the call counts.
func (m *memSource) counters() memCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := memCounts{m.lists, m.pages, m.rechecks}
	m.lists, m.pages, m.rechecks = 0, 0, 0
	return c
}
