package collector

// Test-only accessors of Target.

// Refreshes returns how many refreshes have run.
func (t *Target) Refreshes() int64 { return t.refreshes.Load() }

// wait blocks until no refresh is running.
func (t *Target) wait() {
	t.mu.Lock()
	call := t.inflight
	t.mu.Unlock()
	if call != nil {
		<-call.done
	}
}
