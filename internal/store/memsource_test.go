package store_test

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// memSource is a backup.PolicySource that serves jobs from memory, without
// HTTP: the randomized store tests run in milliseconds, and memory
// measurements see the exporter's heap alone. Each policy's jobs are listed
// newest first (ties by ID, descending) in pages of pageSize, a walk ends
// on an empty page, and a walk resumed after a job that is gone is refused
// with backup.ErrResumeRefused, as a per-policy service does.
type memSource struct {
	mu       sync.Mutex
	policies []backup.Policy
	jobs     map[string][]backup.Job // newest first
	pageSize int
	// pages counts PolicyJobs page requests; rechecks PolicyJob calls.
	pages, rechecks int
	// failIn, when > 0, fails the failIn-th page request from now with an
	// ErrUnavailable error (once), as a service that breaks off mid-walk.
	failIn int
}

// errMemUnavailable is the injected failure.
var errMemUnavailable = backup.WithKind(backup.ErrUnavailable, fmt.Errorf("injected: the service broke off"))

// failPage makes the n-th page request from now fail.
func (m *memSource) failPage(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failIn = n
}

var _ backup.PolicySource = (*memSource)(nil)

// newMemSource loads a generated VBS scenario into memory.
func newMemSource(sc vbstest.Scenario, pageSize int) *memSource {
	m := &memSource{jobs: map[string][]backup.Job{}, pageSize: pageSize}
	for _, p := range sc.Policies {
		sched, err := vbs.ParseSchedule(p.StartTime, p.Frequency, p.WeekFrequency, p.TimeZone)
		if err != nil {
			panic(err)
		}
		m.policies = append(m.policies, vbs.PolicyOf(vbs.Policy{ID: p.ID, Name: p.Name, Enabled: p.Enabled, ResourceCount: p.ResourceCount, Schedule: sched}))
		var js []backup.Job
		for _, j := range sc.Jobs[p.ID] {
			js = append(js, memJob(p.ID, j))
		}
		m.jobs[p.ID] = js
		m.sort(p.ID)
	}
	return m
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

func (m *memSource) Policies(context.Context) ([]backup.Policy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.policies), nil
}

func (m *memSource) PolicyJobs(_ context.Context, policyID string, q backup.PolicyJobQuery) iter.Seq2[backup.Job, error] {
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

func (m *memSource) PolicyJob(_ context.Context, policyID, jobID string) (backup.Job, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rechecks++
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

// counters returns and resets the page and recheck counts.
func (m *memSource) counters() (pages, rechecks int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pages, rechecks = m.pages, m.rechecks
	m.pages, m.rechecks = 0, 0
	return pages, rechecks
}
