package store

import "github.com/vbs-exporter/vbs_exporter/internal/backup"

// The read-only view of a policy's derived statistics that package collector
// renders as metrics. The accessors return the snapshot's own data: callers
// must not modify it.

// DurationBuckets are the upper bounds, in seconds, of the backup duration
// histogram (see PolicySnapshot.Durations).
func DurationBuckets() []float64 { return durationBuckets }

// Jobs returns the number of the policy's jobs in the lookback window with
// the given status.
func (p *PolicySnapshot) Jobs(status backup.Status) int { return p.stats.jobs[status] }

// LastRunResources returns the number of distinct disks that the policy's
// most recent run backed up or tried to.
func (p *PolicySnapshot) LastRunResources() int { return p.stats.lastRunResources }

// Durations returns the histogram of the durations (seconds) of the
// policy's successful jobs in the window: cumulative counts, one per bucket
// of DurationBuckets, the number of observations and their sum.
func (p *PolicySnapshot) Durations() (counts []uint64, count uint64, sum float64) {
	h := &p.stats.durations
	return h.counts, h.count, h.sum
}

// Resources returns the statistics of the policy's disks, sorted by resource
// ID, then type.
func (p *PolicySnapshot) Resources() []ResourceStats { return p.stats.resources }

// ID returns the disk's resource ID.
func (r *ResourceStats) ID() string { return r.id }

// Type returns the disk's resource type.
func (r *ResourceStats) Type() string { return r.typ }

// LastSuccess returns the finished_at (Unix ms) and the duration (ms) of the
// disk's newest successful job in the window; ok is false when none
// succeeded.
func (r *ResourceStats) LastSuccess() (at, duration int64, ok bool) {
	return r.lastSuccess, r.lastSuccessDuration, r.hasSuccess
}

// LastFinished returns the index into backup.FinishedStatuses() of the
// status of the disk's newest finished job, or -1 when no job finished in
// the window.
func (r *ResourceStats) LastFinished() int { return r.lastFinished }

// ConsecutiveFailures returns how many of the disk's newest finished jobs in
// a row failed or timed out.
func (r *ResourceStats) ConsecutiveFailures() int { return r.consecutiveFailures }

// RunningSince returns the creation time (Unix ms) of the disk's oldest
// RUNNING or WAITING job, 0 when none.
func (r *ResourceStats) RunningSince() int64 { return r.runningSince }

// LastFailure returns the vendor's result code and message (cleaned) and the
// time (Unix ms: finished_at, else created_at) of the disk's newest failed or
// timed-out job in the window; ok is false when none.
func (r *ResourceStats) LastFailure() (code, message string, at int64, ok bool) {
	return r.failure.code, r.failure.message, r.failureAt, r.hasFailure
}
