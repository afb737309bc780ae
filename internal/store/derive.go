package store

import (
	"slices"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
)

// durationBuckets are the upper bounds, in seconds, of the backup duration
// histogram: one minute to one day.
var durationBuckets = []float64{60, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400}

// finishedStatuses is the order of the status label of
// vbs_resource_last_status (backup.Status owns it): ResourceStats.lastFinished
// indexes it.
var finishedStatuses = backup.FinishedStatuses()

// lastRunSpan bounds the policy's most recent run: the jobs created at most
// this long before its newest job. VBS schedules start on the hour, so two
// scheduled runs are at least an hour apart; half of that keeps one run whole
// (the scheduler creates a run's jobs within moments) without ever merging
// two.
const lastRunSpan int64 = 30 * 60 * 1000 // ms

// policyStats is what the metrics of one policy are made of, derived from the
// jobs in its lookback window.
type policyStats struct {
	jobs      [backup.NumStatuses]int // by backup.Status
	durations histogram
	resources []ResourceStats // sorted by resource ID, then type
	// trustedFrom is the earliest job time (Unix ms) that was too far ahead
	// to be trusted: once the trust limit reaches it the statistics must be
	// derived again. 0 when every time was trusted.
	trustedFrom int64
	// lastRunResources counts the distinct disks with a job in the last run
	// (see lastRunSpan) that backed them up or tried to: RUNNING, WAITING,
	// EXECUTE_SUCCESS, EXECUTE_FAIL or EXECUTE_TIMEOUT. A SKIP or an
	// undocumented status is no attempt: such a disk stays one the run missed.
	lastRunResources int
}

// histogram is a cumulative histogram over durationBuckets.
type histogram struct {
	counts []uint64 // cumulative, one per bucket
	count  uint64
	sum    float64
}

// ResourceStats describes one disk of a policy.
type ResourceStats struct {
	id, typ string
	// lastSuccess and lastSuccessDuration are in Unix milliseconds and
	// milliseconds; hasSuccess is false when no job succeeded in the window.
	hasSuccess          bool
	lastSuccess         int64
	lastSuccessDuration int64
	// lastFinished is the index into finishedStatuses of the
	// newest finished job's status, or -1 when no job finished in the
	// window.
	lastFinished        int
	consecutiveFailures int
	// runningSince is the creation time (Unix ms) of the oldest RUNNING or
	// WAITING job, 0 when none.
	runningSince int64
	// The newest job that failed or timed out (see lastFailure), hasFailure
	// false when none with a known time is in the window. A later success
	// does not clear it: it is the last failure, not the current state.
	hasFailure    bool
	failure       failDetail
	failureAt     int64 // finished_at, else created_at (Unix ms)
	failureStatus statusCode
	// lastAttempt is the creation time (Unix ms) of the newest job that
	// backed the disk up or tried to (see policyStats.lastRunResources), 0
	// when none.
	lastAttempt int64
}

// derive computes the policy's statistics from the cached jobs. A created_at
// or finished_at later than trust (Unix ms: the exporter's clock plus
// futureSlack) is treated as unknown: it sets no last job, last success,
// running-since or duration and does not order the jobs, but the job still
// counts by status. It does not modify the cache.
func derive(c *jobCache, trust int64) policyStats {
	st := policyStats{durations: histogram{counts: make([]uint64, len(durationBuckets))}}
	order := make([]uint32, len(c.jobs))
	for i := range order {
		order[i] = uint32(i)
	}
	// times holds each job's trusted created and finished times.
	times := make([][2]int64, len(c.jobs))
	for i, j := range c.jobs {
		for k, v := range [2]int64{j.created, j.finished} {
			if v > trust {
				if st.trustedFrom == 0 || v < st.trustedFrom {
					st.trustedFrom = v
				}
				v = 0
			}
			times[i][k] = v
		}
	}
	// Group by disk, newest first within a disk; ties are broken by the other
	// fields so that the result does not depend on the order jobs were cached in.
	slices.SortFunc(order, func(a, b uint32) int {
		ja, jb := &c.jobs[a], &c.jobs[b]
		ta, tb := times[a], times[b]
		ra, rb := c.res[ja.resource], c.res[jb.resource]
		if ra != rb {
			if ra.ID != rb.ID {
				if ra.ID < rb.ID {
					return -1
				}
				return 1
			}
			if ra.Type < rb.Type {
				return -1
			}
			return 1
		}
		switch {
		case ta[0] != tb[0]:
			return cmpDesc(ta[0], tb[0])
		case ta[1] != tb[1]:
			return cmpDesc(ta[1], tb[1])
		case c.statusOf(ja.status) != c.statusOf(jb.status):
			if c.statusOf(ja.status) < c.statusOf(jb.status) {
				return -1
			}
			return 1
		}
		return 0
	})

	var cur *ResourceStats
	var curRes uint32
	streakOpen := false
	var newest int64 // creation time of the policy's newest job
	for _, i := range order {
		j := &c.jobs[i]
		created, finished := times[i][0], times[i][1]
		newest = max(newest, created) // 0 when the creation time is not trusted
		if cur == nil || c.res[j.resource] != c.res[curRes] {
			rk := c.res[j.resource]
			st.resources = append(st.resources, ResourceStats{id: rk.ID, typ: rk.Type, lastFinished: -1})
			cur = &st.resources[len(st.resources)-1]
			curRes = j.resource
			streakOpen = true
		}
		code := j.status
		st.jobs[code.status()]++
		if code.inFlight() && created != 0 {
			cur.runningSince = created // jobs come newest first: the last one seen is the oldest
		}
		if cur.lastAttempt == 0 && created != 0 && (code.inFlight() || code == codeSuccess || code == codeFail || code == codeTimeout) {
			cur.lastAttempt = created
		}
		if !code.terminal() {
			continue
		}
		var dur int64
		if finished != 0 && created != 0 && finished > created {
			dur = finished - created
		}
		if cur.lastFinished < 0 {
			cur.lastFinished = slices.Index(finishedStatuses, code.status())
		}
		if code.failed() && !cur.hasFailure && (finished != 0 || created != 0) {
			cur.hasFailure = true
			cur.failureAt = finished
			if cur.failureAt == 0 {
				cur.failureAt = created
			}
			cur.failureStatus = code
			cur.failure = c.failedJob(i)
		}
		if streakOpen {
			if code == codeFail || code == codeTimeout {
				cur.consecutiveFailures++
			} else {
				streakOpen = false
			}
		}
		if code == codeSuccess {
			if !cur.hasSuccess && (finished != 0 || created != 0) {
				cur.hasSuccess = true
				cur.lastSuccess = finished
				if cur.lastSuccess == 0 {
					cur.lastSuccess = created // no finished_at: the conservative choice
				}
				cur.lastSuccessDuration = dur
			}
			if finished != 0 && created != 0 && finished >= created {
				st.durations.observe(float64(dur) / 1000)
			}
		}
	}
	for ri := range st.resources {
		if a := st.resources[ri].lastAttempt; a != 0 && a >= newest-lastRunSpan {
			st.lastRunResources++
		}
	}
	return st
}

func cmpDesc(a, b int64) int {
	if a > b {
		return -1
	}
	if a < b {
		return 1
	}
	return 0
}

func (h *histogram) observe(v float64) {
	for i, ub := range durationBuckets {
		if v <= ub {
			h.counts[i]++
		}
	}
	h.count++
	h.sum += v
}
