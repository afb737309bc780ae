package main

import (
	"sync"
	"time"
)

// fakeClock is the wall clock plus an offset that tests advance, so that
// time-based behaviour (an IAM token's age, a refresh interval) passes
// without sleeping. Reading it never goes backwards.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// now is the clock, for appOptions.now.
func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// advance moves the clock forward by d.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
