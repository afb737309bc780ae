package collector

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs"
)

// API is what a target's refresh needs from the VBS client.
type API interface {
	ListPolicies(ctx context.Context) ([]vbs.Policy, error)
	Tasks(ctx context.Context, policyID string, q vbs.TaskQuery) iter.Seq2[vbs.Task, error]
}

// minLookback is the shortest automatic lookback window.
const minLookback = 7 * 24 * time.Hour

// lookbackFor returns the window a policy's jobs are read over: the configured
// one, or max(7 days, 3 x the policy's expected interval).
func lookbackFor(configured time.Duration, p vbs.Policy) time.Duration {
	if configured > 0 {
		return configured
	}
	if lb := 3 * p.Schedule.ExpectedInterval(); lb > minLookback {
		return lb
	}
	return minLookback
}

// policyState is what the exporter knows of one policy between scrapes: its
// job cache, where an unfinished walk resumes, and the statistics last
// derived from the cache.
type policyState struct {
	policy vbs.Policy
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
}

func newPolicyState(p vbs.Policy) *policyState {
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
func (s *policyState) refresh(ctx context.Context, api API, now time.Time, lookback time.Duration, cache bool) error {
	if !cache || lookback > s.lookback {
		// The naive walk, or a window that grew (the schedule changed): the
		// cache does not reach back far enough, so read the window again.
		s.reset()
	}
	s.lookback = lookback
	cutoff := now.Add(-lookback).UnixMilli()
	unseen := s.cache.nonTerminal()
	segments := append([]string{""}, s.pending...)
	var next []string
	var firstErr error
	complete := true
	for i, marker := range segments {
		if firstErr != nil {
			next = append(next, segments[i:]...)
			break
		}
		last, err := s.walk(ctx, api, marker, cutoff, unseen)
		if err == nil {
			if marker == "" {
				s.headDone = true
			}
			continue
		}
		complete = false
		firstErr = &walkError{segment: marker, err: err}
		var apiErr *hwcloud.APIError
		if marker != "" && errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest {
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
	if complete && len(unseen) > 0 {
		// Jobs that were in flight and are gone from the API: a full walk
		// would not see them either.
		s.dirty = s.cache.retain(func(r jobRef, _ cachedJob) bool {
			_, gone := unseen[r]
			return !gone
		}) || s.dirty
	}
	s.prune(cutoff)
	return firstErr
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
// until it reaches the end of the window or a job that is cached in a final
// state and older than every job that was in flight (so that nothing below it
// can have changed). It returns the ID of the last job it stored, for resuming.
func (s *policyState) walk(ctx context.Context, api API, marker string, cutoff int64, unseen map[jobRef]int64) (last string, err error) {
	first := marker == ""
	seen := false
	minUnseen := minValue(unseen)
	// A resumed walk must only get jobs older than its marker job. Stopping
	// at a cached job that is not (an API that ignores the marker serves the
	// first page again) would take the unread gap below the marker for read.
	markerMs, hasMarkerMs := int64(0), false
	if marker != "" {
		if i, ok := s.cache.lookup(refOf(&vbs.Task{JobID: marker})); ok {
			markerMs, hasMarkerMs = s.cache.jobs[i].created, true
		}
	}
	for t, terr := range api.Tasks(ctx, s.policy.ID, vbs.TaskQuery{Marker: marker}) {
		if terr != nil {
			return last, terr
		}
		seen = true
		if err := ctx.Err(); err != nil {
			return last, err
		}
		created := t.CreatedAt
		if created.IsZero() {
			created = t.FinishedAt
		}
		if created.IsZero() {
			// A job without any time cannot be placed in the window; it is
			// skipped, but still serves as a resume point.
			if t.JobID != "" {
				last = t.JobID
			}
			continue
		}
		ms := created.UnixMilli()
		if first {
			first = false
			if !s.hasNewest || s.newest != ms {
				s.newest, s.hasNewest = ms, true
				s.dirty = true
			}
		}
		if hasMarkerMs && ms > markerMs {
			return last, fmt.Errorf("%s: job %q, listed after the marker job, is newer than it: the API ignored the marker", vbs.OpListTasks, t.JobID)
		}
		if ms < cutoff {
			return last, nil
		}
		ref := refOf(&t)
		if i, ok := s.cache.lookup(ref); ok && s.cache.jobs[i].status.terminal() && ms < minUnseen {
			return last, nil
		}
		if s.cache.upsert(ref, &t, created) {
			s.dirty = true
		}
		if _, ok := unseen[ref]; ok {
			delete(unseen, ref)
			minUnseen = minValue(unseen)
		}
		if t.JobID != "" {
			last = t.JobID
		}
	}
	if !seen && marker == "" && (s.hasNewest || s.cache.len() > 0) {
		// The policy has no job at all any more: forget what it had.
		s.hasNewest, s.newest, s.dirty = false, 0, true
		s.cache = newJobCache()
		clear(unseen)
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

// derived returns the policy's statistics, recomputing them when the cache changed.
func (s *policyState) derived() policyStats {
	if s.dirty {
		s.stats = derive(s.cache)
		s.dirty = false
	}
	return s.stats
}
