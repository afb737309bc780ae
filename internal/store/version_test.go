package store_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// TestSnapshotVersion: a refresh that changed nothing keeps the previous
// snapshot's Version (its duration aside); a new job, or a scrape served the
// last values as stale, gets a new one, and the same stale copy is reused.
func TestSnapshotVersion(t *testing.T) {
	t.Parallel()
	sc := vbstest.Generate(vbstest.GenOptions{Policies: 2, Disks: 3, Days: 3, Seed: 5, Now: testNow, Schedules: dailyOnly})
	src := newMemSource(sc, 10)
	target := store.NewTarget(store.TargetOptions{Name: "t", API: src, Now: func() time.Time { return testNow }, Lookback: 7 * 24 * time.Hour})
	first := target.Refresh(ctxTimeout(t, 10*time.Second))
	second := target.Refresh(ctxTimeout(t, 10*time.Second))
	if first == second || second.Version != first.Version {
		t.Fatalf("a refresh that changed nothing: version %d after %d, want the same", second.Version, first.Version)
	}
	p := sc.Policies[0]
	src.addJobs(p.ID, vbstest.Job{JobID: "f0000000-0000-4000-8000-000000000001", Status: vbstest.StatusRunning,
		ResourceID: "vol-new", ResourceType: "volume", BackupName: "autobk_new", CreatedAt: testNow.Add(-time.Minute)})
	third := target.Refresh(ctxTimeout(t, 10*time.Second))
	if third.Version == second.Version {
		t.Fatalf("a refresh that read a new job kept version %d", third.Version)
	}
	stale1, stale2 := target.LastStale(), target.LastStale()
	if stale1 != stale2 || stale1.Version == third.Version || stale1.Policies[0].RefreshSuccess {
		t.Fatalf("stale copies: %p v%d and %p v%d (last v%d), want one copy with its own version and refresh success false",
			stale1, stale1.Version, stale2, stale2.Version, third.Version)
	}
}

// closeCounter is an API that records CloseIdleConnections.
type closeCounter struct {
	backup.PolicySource
	closes atomic.Int32
}

func (c *closeCounter) CloseIdleConnections() { c.closes.Add(1) }

// TestTargetClose: Close closes the client's idle connections at once and
// again when a refresh still running ends.
func TestTargetClose(t *testing.T) {
	t.Parallel()
	src := newMemSource(vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 2, Days: 2, Seed: 5, Now: testNow, Schedules: dailyOnly}), 10)
	hook, entered, release := gate(callPolicies)
	src.setHook(hook)
	api := &closeCounter{PolicySource: src}
	target := store.NewTarget(store.TargetOptions{Name: "t", API: api, Now: func() time.Time { return testNow }})
	done := make(chan struct{})
	go func() { defer close(done); target.Refresh(ctxTimeout(t, 10*time.Second)) }()
	waitFor(t, entered, "the refresh's policy list") // the refresh is under way
	target.Close()
	close(release)
	<-done
	target.Wait()
	if n := api.closes.Load(); n != 2 {
		t.Fatalf("CloseIdleConnections called %d times, want 2 (at Close and when the running refresh ended)", n)
	}
}
