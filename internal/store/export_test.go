package store

import "time"

// Test-only accessors of Target and constants, for the tests of package
// store_test (which render snapshots with package collector and so cannot be
// in package store).

const (
	MaxFailMessage   = maxFailMessage
	NamesRetry       = namesRetry
	MinRefreshBudget = minRefreshBudget
)

// Refreshes returns how many refreshes have run.
func (t *Target) Refreshes() int64 { return t.refreshes.Load() }

// Wait blocks until no refresh is running.
func (t *Target) Wait() {
	t.mu.Lock()
	call := t.inflight
	t.mu.Unlock()
	if call != nil {
		<-call.done
	}
}

// Pending returns the job IDs after which the interrupted walks of the
// policy resume.
func (t *Target) Pending(policyID string) []string { return t.policies[policyID].pending }

// NamesRunning returns the channel closed when the running name lookup
// ends, nil when none runs.
func (t *Target) NamesRunning() chan struct{} {
	t.names.mu.Lock()
	defer t.names.mu.Unlock()
	return t.names.running
}

// SetNow replaces the target's clock.
func (t *Target) SetNow(now func() time.Time) { t.opts.Now = now }

// LastStale returns the last snapshot as served when a refresh fails.
func (t *Target) LastStale() *Snapshot { return t.lastStale() }
