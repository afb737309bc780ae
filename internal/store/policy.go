package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// defaultPageSize is the page size assumed for a source that reports none.
const defaultPageSize = 100

// operationNamer is implemented by a source that names its operations
// (vbs.Client does): the names go into the logs of errors that do not carry
// their own.
type operationNamer interface {
	Operations() (policies, jobs string)
}

// operationsOf returns the names of api's policy-list and job-list
// operations, "list_policies" and "list_jobs" when it does not say.
func operationsOf(api any) (policies, jobs string) {
	if n, ok := api.(operationNamer); ok {
		return n.Operations()
	}
	return "list_policies", "list_jobs"
}

// futureSlack is how far ahead of the exporter's clock a job's time may lie
// and still be trusted. A created_at or finished_at beyond it is a clock or
// data error: it is kept (the job counts by status) but treated as unknown.
const futureSlack = time.Hour

// minLookback is the shortest automatic lookback window.
const minLookback = 7 * 24 * time.Hour

// lookbackFor returns the window a policy's jobs are read over: the configured
// one, or max(7 days, 3 x the policy's expected interval).
func lookbackFor(configured time.Duration, p backup.Policy) time.Duration {
	if configured > 0 {
		return configured
	}
	if lb := 3 * p.ExpectedInterval(); lb > minLookback {
		return lb
	}
	return minLookback
}

// policyState is what the exporter knows of one policy between scrapes: its
// job cache, where an unfinished walk resumes, and the statistics last
// derived from the cache.
type policyState struct {
	policy backup.Policy
	cache  *jobCache
	// headDone is true once a walk from the newest job reached the end of the
	// window or the known part of the cache.
	headDone bool
	// pending are the job IDs after which interrupted walks resume, newest
	// first; each marks a stretch of history that is not cached yet.
	pending []string
	// newest is the creation time (Unix ms) of the policy's newest job, which
	// may lie outside the window; 0 when the policy has no job.
	newest     int64
	hasNewest  bool
	oldestKept int64 // creation time of the oldest cached job, for cheap pruning checks
	dirty      bool  // the cache changed since stats were derived
	stats      policyStats
	// lastSuccess is true when the last refresh read the policy completely.
	lastSuccess bool
	// listed is true once the API listed the policy.
	listed bool
	// lookback is the window of the last refresh.
	lookback time.Duration
	// jobFilterIgnored is set once the API answered a job_id= query with
	// other jobs: from then on open jobs are re-read by walking down to them.
	jobFilterIgnored bool
	// warned holds, per cached job, the future-dated fields already logged
	// (warnCreated, warnFinished), so that each is logged once per job.
	warned map[jobRef]uint8
	// lookbackWarned is the (lookback, expected interval) pair last warned
	// about as too short, so that the warning comes once per policy.
	lookbackWarned [2]time.Duration
	// clean scrubs text from the API (see cleanerFor); set by refresh.
	clean func(s string, limit int) string
	// opJobs names the source's job-list operation in logs; set by refresh.
	opJobs string
	// changes counts what the last refresh did to the cache; lastErr is
	// that refresh's error, "" when it read the policy completely.
	changes JobChanges
	lastErr string
}

// JobChanges counts what one refresh did to a policy's cached jobs.
type JobChanges struct {
	// New counts jobs read that were not cached (after a reset of the cache,
	// such as a grown window, every job read again counts as new).
	New int
	// Updated counts cached jobs read again with a different status or time.
	Updated int
	// Dropped counts jobs that left the cache: out of the window, gone from
	// the API, or forgotten by a reset.
	Dropped int
}

// Bits of policyState.warned.
const (
	warnCreated uint8 = 1 << iota
	warnFinished
)

// Limits of the text kept from a failed job: its code (a label value) and
// its message (logged and shown on the status page, never a label).
const (
	maxFailCode    = 64
	maxFailMessage = 256
)

// cleanerFor returns api's CleanText (see backup.TextCleaner; vbs.Client
// has one): the code and message of failed jobs pass through it before they
// are kept, logged or exported. A source without one gets hwcloud.CleanText
// without secrets.
func cleanerFor(api any) func(string, int) string {
	if c, ok := api.(backup.TextCleaner); ok {
		return c.CleanText
	}
	return func(s string, limit int) string { return hwcloud.CleanText(nil, s, limit) }
}

func newPolicyState(p backup.Policy) *policyState {
	return &policyState{policy: p, cache: newJobCache(), dirty: true}
}

// backfillComplete reports whether the cache holds the whole window.
func (s *policyState) backfillComplete() bool { return s.headDone && len(s.pending) == 0 }

// walkError is a failed or interrupted walk of a policy's jobs.
type walkError struct {
	segment string // "" for the walk from the newest job, else the marker
	err     error
}

func (e *walkError) Error() string {
	if e.segment == "" {
		return e.err.Error()
	}
	return fmt.Sprintf("resuming after job %s: %v", e.segment, e.err)
}

func (e *walkError) Unwrap() error { return e.err }

// refresh reads what changed since the last refresh. With cache false it
// forgets everything first and walks the whole window (the naive baseline).
// Whatever it fetched is kept, even when it fails part way.
//
// New jobs are read from the top of the policy's list down to the first job
// already held (or the window's edge). Jobs held in a non-final state are
// re-read as planRechecks decides: those near the top by walking on past the
// first held job, the others with one job_id= query each, so that the cost
// does not depend on how old the oldest open job is.
func (s *policyState) refresh(ctx context.Context, api backup.PolicySource, now time.Time, lookback time.Duration, cache bool, logger log.Logger) error {
	// Every job that enters the cache is counted as new by store, so what
	// the cache lost is what it held plus those minus what it holds now.
	held := s.cache.len()
	defer func() { s.changes.Dropped = held + s.changes.New - s.cache.len() }()
	if !cache || lookback > s.lookback {
		// The naive walk, or a window that grew (the schedule changed): the
		// cache does not reach back far enough, so read the window again.
		s.reset()
	}
	s.lookback = lookback
	s.clean = cleanerFor(api)
	_, s.opJobs = operationsOf(api)
	cutoff := now.Add(-lookback).UnixMilli()
	trust := now.Add(futureSlack).UnixMilli()
	covered, recheck := s.planRechecks(api, cutoff)
	segments := append([]string{""}, s.pending...)
	var next []string
	var firstErr error
	complete := true
	for i, marker := range segments {
		if firstErr != nil {
			next = append(next, segments[i:]...)
			break
		}
		last, err := s.walk(ctx, api, marker, cutoff, trust, covered, recheck, logger)
		if err == nil {
			if marker == "" {
				s.headDone = true
			}
			continue
		}
		complete = false
		firstErr = &walkError{segment: marker, err: err}
		if marker != "" && errors.Is(err, backup.ErrResumeRefused) {
			// The API refuses the resume marker (the job is gone): the gap
			// cannot be filled from there, so read the window again.
			s.reset()
			return firstErr
		}
		switch {
		case last != "":
			next = append(next, last)
		case marker != "":
			next = append(next, marker)
		}
	}
	s.pending = next
	var gone map[jobRef]struct{}
	if complete && len(covered) > 0 {
		// Jobs that were in flight, that the walk went past without seeing:
		// they are gone from the API, and a full walk would not see them
		// either.
		gone = make(map[jobRef]struct{}, len(covered))
		for r := range covered {
			gone[r] = struct{}{}
		}
	}
	if err := s.recheck(ctx, api, recheck, trust, logger, &gone); err != nil && firstErr == nil {
		firstErr = err
	}
	if len(gone) > 0 {
		s.dirty = s.cache.retain(func(r jobRef, _ cachedJob) bool {
			_, g := gone[r]
			return !g
		}) || s.dirty
	}
	s.prune(cutoff)
	s.forgetWarnings()
	return firstErr
}

// planRechecks splits the cached jobs in a non-final state (inside the
// window) into those the walk from the top re-reads on its way down
// (covered) and those re-read one by one with a job_id= query (recheck),
// both keyed to their creation time.
//
// Walking down to an open job costs the pages above it; a job_id= query costs
// one request per job. With the open jobs ordered newest first, the walk
// covers the prefix that minimises pages + queries: a job open for days under
// thousands of newer jobs costs one query instead of dozens of pages, while a
// run of hundreds of disks still in flight near the top is re-read by the one
// or few pages that hold it instead of hundreds of queries. Covering nothing
// costs the first page plus k queries, so a steady refresh with k open jobs
// and no new ones costs at most 1 + k task requests whatever the history.
//
// Why not status= batching: a job missing from the status=RUNNING list may
// have succeeded, failed or vanished, so each would need a job_id= query
// anyway; every status in use (WAITING, undocumented ones the API may refuse
// as a filter value) needs its own walk; and with many RUNNING jobs each walk
// is several pages plus the empty page that ends it.
//
// Jobs without a job_id, and every open job once the API was seen to ignore
// job_id=, can only be re-read by walking and are always covered.
func (s *policyState) planRechecks(api backup.PolicySource, cutoff int64) (covered, recheck map[jobRef]int64) {
	covered, recheck = map[jobRef]int64{}, map[jobRef]int64{}
	type openJob struct {
		ref     jobRef
		created int64
		rank    int // cached jobs created after it: its depth in the list
		walk    bool
	}
	var open []openJob
	for r, created := range s.cache.nonTerminal() {
		if created < cutoff {
			continue // leaves the window on this refresh
		}
		_, hasID := r.jobID()
		open = append(open, openJob{ref: r, created: created, walk: s.jobFilterIgnored || !hasID})
	}
	if len(open) == 0 {
		return covered, recheck
	}
	slices.SortFunc(open, func(a, b openJob) int { return cmpDesc(a.created, b.created) })
	// rank: a cached job is newer than the open jobs created before it, a
	// suffix of open (newest first); diff counts where each suffix starts.
	k := len(open)
	diff := make([]int, k+1)
	for _, j := range s.cache.jobs {
		diff[sort.Search(k, func(i int) bool { return open[i].created < j.created })]++
	}
	rank := 0
	for i := range open {
		rank += diff[i]
		open[i].rank = rank
	}
	pageSize := api.PageSize()
	if pageSize <= 0 {
		pageSize = defaultPageSize
	}
	minCover := 0 // jobs that must be walked to
	for i, o := range open {
		if o.walk {
			minCover = i + 1
		}
	}
	best, bestCost := minCover, -1
	for j := minCover; j <= k; j++ {
		pages := 1
		if j > 0 {
			pages = open[j-1].rank/pageSize + 1
		}
		if cost := pages + k - j; bestCost < 0 || cost <= bestCost {
			best, bestCost = j, cost
		}
	}
	for i, o := range open {
		if i < best {
			covered[o.ref] = o.created
		} else {
			recheck[o.ref] = o.created
		}
	}
	return covered, recheck
}

// recheck re-reads each job in jobs with a job_id= query, newest first. A job
// the API no longer returns is added to *gone. It stops at the first error.
func (s *policyState) recheck(ctx context.Context, api backup.PolicySource, jobs map[jobRef]int64, trust int64, logger log.Logger, gone *map[jobRef]struct{}) error {
	refs := slices.Collect(maps.Keys(jobs))
	slices.SortFunc(refs, func(a, b jobRef) int { return cmpDesc(jobs[a], jobs[b]) })
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return err
		}
		id, _ := r.jobID()
		t, found, err := api.PolicyJob(ctx, s.policy.ID, id)
		if err != nil {
			if errors.Is(err, backup.ErrFilterIgnored) {
				// Walk down to open jobs from the next refresh on.
				s.jobFilterIgnored = true
			}
			return fmt.Errorf("re-reading job %s, held in a non-final state: %w", id, err)
		}
		if !found {
			if *gone == nil {
				*gone = map[jobRef]struct{}{}
			}
			(*gone)[r] = struct{}{}
			continue
		}
		created := t.Created
		if created.IsZero() {
			created = t.Finished
		}
		if created.IsZero() {
			created = time.UnixMilli(jobs[r])
		}
		s.store(r, &t, created, trust, logger)
	}
	return nil
}

// store caches a job read from the API and warns, once per job and field,
// about times too far in the future to be trusted. A failed or timed-out job
// keeps its code and message (cleaned, see cleanerFor) and is logged once,
// when the cache first holds it as failed.
func (s *policyState) store(r jobRef, t *backup.Job, created time.Time, trust int64, logger log.Logger) {
	i, known := s.cache.lookup(r)
	var d failDetail
	failed := t.Status.Failed()
	logFailure := false
	if failed {
		clean := s.clean
		if clean == nil {
			clean = cleanerFor(nil)
		}
		d = failDetail{jobID: t.ID, code: clean(t.ErrorCode, maxFailCode), message: clean(t.ErrorMessage, maxFailMessage)}
		// Logged when the cache first holds the job as failed: no per-job
		// mark is kept (a cache read again from scratch logs it again).
		logFailure = !known || !s.cache.jobs[i].status.failed()
	}
	if s.cache.upsert(r, t, created, d) {
		s.dirty = true
		if known {
			s.changes.Updated++
		} else {
			s.changes.New++
		}
	}
	if logFailure {
		at := t.Finished
		if at.IsZero() {
			at = created
		}
		level.Warn(logger).Log("msg", "backup job failed", "policy_id", s.policy.ID, "policy_name", s.policy.Name,
			"resource_id", t.ResourceID, "resource_type", t.ResourceType, "job_id", t.ID, "status", rawStatus(t),
			"time", at.UTC().Format(time.RFC3339), "code", d.code, "message", d.message)
	}
	var bits uint8
	var fields, values []string
	for _, f := range []struct {
		bit  uint8
		name string
		at   time.Time
	}{{warnCreated, "created_at", t.Created}, {warnFinished, "finished_at", t.Finished}} {
		if f.at.IsZero() || f.at.UnixMilli() <= trust || s.warned[r]&f.bit != 0 {
			continue
		}
		bits |= f.bit
		fields = append(fields, f.name)
		values = append(values, f.at.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	}
	if bits == 0 {
		return
	}
	if s.warned == nil {
		s.warned = map[jobRef]uint8{}
	}
	s.warned[r] |= bits
	level.Warn(logger).Log("msg", "a job's time is more than "+futureSlack.String()+" ahead of the exporter's clock; it is not used for last job, last success, running since, durations or order (the job still counts by status)",
		"policy_id", s.policy.ID, "policy_name", s.policy.Name, "job_id", t.ID,
		"field", strings.Join(fields, ","), "value", strings.Join(values, ","), "operation", s.opJobs)
}

// rawStatus is the service's word for the job's status, or its label when
// the source left RawStatus empty.
func rawStatus(j *backup.Job) string {
	if j.RawStatus != "" {
		return j.RawStatus
	}
	return j.Status.String()
}

// forgetWarnings drops the warning marks of jobs no longer cached.
func (s *policyState) forgetWarnings() {
	for r := range s.warned {
		if _, ok := s.cache.lookup(r); !ok {
			delete(s.warned, r)
		}
	}
}

// reset forgets the cached jobs and walks; the policy's newest job is kept.
func (s *policyState) reset() {
	s.cache = newJobCache()
	s.headDone, s.pending = false, nil
	s.dirty = true
}

// prune drops jobs created before cutoff.
func (s *policyState) prune(cutoff int64) {
	if s.oldestKept >= cutoff && !s.dirty {
		return
	}
	if s.cache.retain(func(_ jobRef, j cachedJob) bool { return j.created >= cutoff }) {
		s.dirty = true
	}
	s.oldestKept = 0
	for i, j := range s.cache.jobs {
		if i == 0 || j.created < s.oldestKept {
			s.oldestKept = j.created
		}
	}
}

// walk reads jobs newest first, starting after marker ("" = from the newest),
// until it reaches the end of the window, or a job already cached once no
// covered job (see planRechecks) lies above it: below that point every job is
// cached, and its open jobs are re-read by recheck. Jobs it sees leave covered
// and recheck. Times more than futureSlack ahead (trust, Unix ms) neither set
// the newest job nor end the walk. It returns the ID of the last job it
// stored, for resuming.
func (s *policyState) walk(ctx context.Context, api backup.PolicySource, marker string, cutoff, trust int64, covered, recheck map[jobRef]int64, logger log.Logger) (last string, err error) {
	first := marker == ""
	seen := false
	minCovered := minValue(covered)
	q := backup.PolicyJobQuery{After: marker}
	if marker != "" {
		// A resumed walk must only get jobs older than its marker job; the
		// source checks that the service honoured the marker.
		if i, ok := s.cache.lookup(refOf(&backup.Job{ID: marker})); ok {
			q.AfterCreated = time.UnixMilli(s.cache.jobs[i].created).Add(time.Millisecond - 1).UTC()
		}
	}
	for t, terr := range api.PolicyJobs(ctx, s.policy.ID, q) {
		if terr != nil {
			return last, terr
		}
		seen = true
		if err := ctx.Err(); err != nil {
			return last, err
		}
		created := t.Created
		if created.IsZero() {
			created = t.Finished
		}
		if created.IsZero() {
			// A job without any time cannot be placed in the window; it is
			// skipped, but still serves as a resume point.
			if t.ID != "" {
				last = t.ID
			}
			continue
		}
		ms := created.UnixMilli()
		trusted := ms <= trust
		if first && trusted {
			first = false
			if !s.hasNewest || s.newest != ms {
				s.newest, s.hasNewest = ms, true
				s.dirty = true
			}
		}
		if trusted && ms < cutoff {
			return last, nil
		}
		ref := refOf(&t)
		_, known := s.cache.lookup(ref)
		s.store(ref, &t, created, trust, logger)
		delete(recheck, ref)
		if _, ok := covered[ref]; ok {
			delete(covered, ref)
			minCovered = minValue(covered)
		}
		if t.ID != "" {
			last = t.ID
		}
		if known && trusted && ms < minCovered {
			return last, nil
		}
	}
	if !seen && marker == "" && (s.hasNewest || s.cache.len() > 0) {
		// The policy has no job at all any more: forget what it had.
		s.hasNewest, s.newest, s.dirty = false, 0, true
		s.cache = newJobCache()
		clear(covered)
		clear(recheck)
	}
	return last, nil
}

// minValue returns the smallest value in m, or the largest int64 when m is empty.
func minValue(m map[jobRef]int64) int64 {
	minV := int64(1<<63 - 1)
	for _, v := range m {
		if v < minV {
			minV = v
		}
	}
	return minV
}

// derived returns the policy's statistics at now, recomputing them when the
// cache changed or a time that was too far ahead has come within futureSlack.
func (s *policyState) derived(now time.Time) policyStats {
	trust := now.Add(futureSlack).UnixMilli()
	if s.dirty || s.stats.trustedFrom != 0 && trust >= s.stats.trustedFrom {
		s.stats = derive(s.cache, trust)
		s.dirty = false
	}
	return s.stats
}
