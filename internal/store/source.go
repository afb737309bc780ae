package store

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
)

// ManualPolicyName is the policy_name of the pseudo-policy (policy_id "")
// under which a backup.Source's jobs without a policy (manual backups) are
// exported.
const ManualPolicyName = "manual"

// maxResourceName bounds a resource name taken from a job (a label value).
const maxResourceName = 255

// sourceState is the store's state for a backup.Source (CBR): where the
// project-wide read of new jobs resumes, the pseudo-policy of jobs without
// a policy, the resources' names read from the jobs and the vaults. The
// jobs themselves live in the per-policy caches, as for a PolicySource.
type sourceState struct {
	// cursor is the Next of the last NewJobs batch: a failed read resumes
	// from it, nothing read before the failure is read again.
	cursor backup.Cursor
	// from is the NotBefore the cursor's reads began with; a window that
	// reaches further back restarts the read from the zero cursor.
	from time.Time
	// complete is true once a read from the cursor reached the present.
	complete bool
	// manual holds the jobs without a policy; nil while policies are
	// configured (the filter leaves them out).
	manual *policyState
	// names are the resources' names by ID as the jobs give them; replaced,
	// never modified, once a snapshot holds them.
	names map[string]string
	// vaults are the vaults of the last inventory read.
	vaults []backup.Vault
}

// inventory lists the Source's policies and, from an InventorySource, its
// vaults (kept for the snapshot). On an error the last vaults are kept; a
// vault list that failed while the policies were read is logged, and the
// source's last vaults stand in (Inventory.VaultsErr).
func (t *Target) inventory(ctx context.Context, logger log.Logger) ([]backup.Policy, error) {
	inv, ok := t.opts.Source.(backup.InventorySource)
	if !ok {
		return t.opts.Source.Policies(ctx)
	}
	got, err := inv.Inventory(ctx)
	if err != nil {
		return nil, err
	}
	if got.VaultsErr != nil {
		logError(logger, "listing the vaults failed; the vaults and the policies' resource counts are those of the last list read", "inventory", got.VaultsErr)
	}
	t.src.vaults = got.Vaults
	return got.Policies, nil
}

// refreshSource brings the policies in work up to date from a
// backup.Source with a constant number of requests whatever the number of
// policies and the history: one NewJobs read from the kept cursor (two
// requests in steady state) and one Recheck of every open job of every
// policy. The jobs are sorted into the per-policy caches by their policy
// ID, so that the statistics are derived by the same code as for a
// PolicySource; jobs of a policy not in work are dropped, jobs without a
// policy go to the pseudo-policy "manual" (in discovery mode only).
//
// A failed read keeps what it read and the batch's cursor, from which the
// next refresh resumes; every policy's refresh success is then false.
func (t *Target) refreshSource(ctx context.Context, logger log.Logger, work []*policyState) {
	src := t.opts.Source
	_, opJobs := operationsOf(src)
	now := t.opts.Now()
	trust := now.Add(futureSlack).UnixMilli()
	clean := cleanerFor(src)

	byID := make(map[string]*policyState, len(work)+1)
	cutoffs := make(map[*policyState]int64, len(work)+1)
	held := make(map[*policyState]int, len(work)+1)
	var lookback time.Duration
	add := func(s *policyState, lb time.Duration) {
		byID[s.policy.ID] = s
		cutoffs[s] = now.Add(-lb).UnixMilli()
		s.lookback = lb
		s.clean, s.opJobs = clean, opJobs
		lookback = max(lookback, lb)
	}
	for _, s := range work {
		lb := lookbackFor(t.opts.Lookback, s.policy)
		warnShortLookback(logger, s, lb)
		add(s, lb)
	}
	if len(t.opts.Policies) == 0 {
		if t.src.manual == nil {
			t.src.manual = newPolicyState(backup.Policy{Name: ManualPolicyName})
			t.src.manual.listed = true
		}
		add(t.src.manual, lookbackFor(t.opts.Lookback, backup.Policy{}))
	} else {
		t.src.manual = nil
	}

	notBefore := now.Add(-lookback)
	if t.opts.DisableCache || t.src.from.IsZero() || notBefore.Before(t.src.from) {
		// The first read, the naive baseline, or a window that grew: read
		// the whole window again.
		t.src.cursor, t.src.from, t.src.complete = "", notBefore, false
		if t.opts.DisableCache {
			for s := range cutoffs {
				s.reset()
			}
		}
	}
	for s := range cutoffs {
		s.changes, s.lastErr = JobChanges{}, ""
		held[s] = s.cache.len()
	}

	var names map[string]string // a copy of t.src.names once one changes
	route := func(j *backup.Job) {
		s := byID[j.PolicyID]
		if s == nil {
			return // a policy filtered out, or not (any more) listed
		}
		created := j.Created
		if created.IsZero() {
			created = j.Finished
		}
		if created.IsZero() {
			return // cannot be placed in the window
		}
		ms := created.UnixMilli()
		trusted := ms <= trust
		if trusted && ms < cutoffs[s] {
			return
		}
		s.store(refOf(j), j, created, trust, logger)
		if trusted && (!s.hasNewest || ms > s.newest) {
			s.newest, s.hasNewest, s.dirty = ms, true, true
		}
		if j.ResourceID == "" || j.ResourceName == "" {
			return
		}
		if n := clean(j.ResourceName, maxResourceName); n != "" && t.src.names[j.ResourceID] != n {
			if names == nil {
				names = maps.Clone(t.src.names)
				if names == nil {
					names = map[string]string{}
				}
			}
			names[j.ResourceID] = n
		}
	}

	var readErr error
	batch, err := src.NewJobs(ctx, backup.JobQuery{Cursor: t.src.cursor, NotBefore: notBefore})
	for i := range batch.Jobs {
		route(&batch.Jobs[i])
	}
	if batch.Next != "" {
		t.src.cursor = batch.Next
	}
	switch {
	case err != nil:
		readErr = fmt.Errorf("reading new jobs: %w", err)
		logError(logger, "reading the project's new jobs failed; keeping what was read, the next refresh resumes from there", opJobs, err)
	case batch.Complete:
		t.src.complete = true
	default:
		readErr = fmt.Errorf("reading new jobs: the read stopped before the present")
	}

	// Re-check every open job of every policy with one Recheck.
	owner := map[string]*policyState{}
	var open []backup.Job
	for s, cutoff := range cutoffs {
		for r, created := range s.cache.nonTerminal() {
			id, ok := r.jobID()
			if !ok || created < cutoff {
				continue // without an ID it can only be seen again by a read; else it leaves the window
			}
			i, _ := s.cache.lookup(r)
			owner[id] = s
			open = append(open, backup.Job{ID: id, PolicyID: s.policy.ID, Created: time.UnixMilli(created).UTC(),
				Status: s.cache.jobs[i].status.status()})
		}
	}
	if len(open) > 0 {
		res, err := src.Recheck(ctx, open)
		for i := range res.Jobs {
			route(&res.Jobs[i])
		}
		gone := map[*policyState]map[string]struct{}{}
		for _, id := range res.Gone {
			if s := owner[id]; s != nil {
				if gone[s] == nil {
					gone[s] = map[string]struct{}{}
				}
				gone[s][id] = struct{}{}
			}
		}
		for s, ids := range gone {
			if s.cache.retain(func(r jobRef, _ cachedJob) bool {
				id, _ := r.jobID()
				_, g := ids[id]
				return !g
			}) {
				s.dirty = true
			}
		}
		if len(res.Unchecked) > 0 {
			level.Debug(logger).Log("msg", "open jobs left unchecked until the next refresh", "jobs", len(res.Unchecked))
		}
		if err != nil {
			logError(logger, "re-checking the open jobs failed; they stay open", opJobs, err)
			if readErr == nil {
				readErr = fmt.Errorf("re-checking %d open jobs: %w", len(open), err)
			}
		}
	}

	if names != nil {
		t.src.names = names
	}
	for s, cutoff := range cutoffs {
		s.headDone, s.pending = t.src.complete, nil
		s.lastSuccess = readErr == nil
		s.lastErr = ""
		if readErr != nil {
			s.lastErr = readErr.Error()
		}
		s.prune(cutoff)
		s.forgetWarnings()
		s.changes.Dropped = held[s] + s.changes.New - s.cache.len()
	}
}
