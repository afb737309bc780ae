package main

import (
	"context"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/vbs-exporter/vbs_exporter/collector"
	"github.com/vbs-exporter/vbs_exporter/config"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// TestReloadKeepsAKBackoff: the AK/SK back-off belongs to the credentials,
// not to the target. Two targets with the same key (here both from the
// environment) send one refused signature between them; a reload that
// rebuilds a target for another setting (lookback) keeps the back-off, so
// nothing is sent; a reload that fixes the secret key is up on the first
// scrape, and the stale key's gate is dropped.
func TestReloadKeepsAKBackoff(t *testing.T) {
	now := time.Now()
	sim := vbstest.NewServer(vbstest.Options{})
	t.Cleanup(sim.Close)
	sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 2, Days: 3, Seed: 5, Now: now}))
	o := sim.Options()
	target := func(name, secretKey string, lookback time.Duration) config.Target {
		return config.Target{Name: name, ProjectID: o.ProjectID, Endpoint: sim.URL(), Lookback: lookback,
			PageSize: 100, Concurrency: 4,
			Credentials: config.Credentials{Kind: config.CredentialsAKSK, AccessKey: o.AccessKey,
				SecretKey: config.Secret(secretKey), Source: config.SourceEnv}}
	}
	gates := hwcloud.NewAKSKGates()
	e := newExporter(collector.NewAPIMetrics(), gates, log.NewNopLogger(), nil)
	scrape := func(name string) (*store.Snapshot, int) {
		t.Helper()
		tg, ok := e.get(name)
		if !ok {
			t.Fatalf("no target %s", name)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		before := sim.Requests("")
		snap := tg.Refresh(ctx)
		return snap, sim.Requests("") - before
	}

	e.apply(&config.Config{Targets: []config.Target{target("a", "stale", 0), target("b", "stale", 0)}})
	if snap, n := scrape("a"); snap.Up || n != 1 || snap.AuthBackoffUntil.IsZero() {
		t.Fatalf("a, stale key: up %v, %d requests, back-off until %v; want down, 1 request, a back-off", snap.Up, n, snap.AuthBackoffUntil)
	}
	if snap, n := scrape("b"); snap.Up || n != 0 || snap.AuthBackoffUntil.IsZero() {
		t.Errorf("b, same stale key: up %v, %d requests, back-off until %v; want the shared back-off", snap.Up, n, snap.AuthBackoffUntil)
	}

	old, _ := e.get("a")
	e.apply(&config.Config{Targets: []config.Target{target("a", "stale", 48*time.Hour), target("b", "stale", 0)}})
	if cur, _ := e.get("a"); cur == old {
		t.Fatal("changing lookback did not rebuild the target")
	}
	if snap, n := scrape("a"); snap.Up || n != 0 || snap.AuthBackoffUntil.IsZero() {
		t.Errorf("a rebuilt for lookback: up %v, %d requests, back-off until %v; want the back-off kept", snap.Up, n, snap.AuthBackoffUntil)
	}
	if gates.Len() != 1 {
		t.Errorf("%d gates, want 1", gates.Len())
	}

	e.apply(&config.Config{Targets: []config.Target{target("a", o.SecretKey, 48*time.Hour), target("b", o.SecretKey, 0)}})
	for _, name := range []string{"a", "b"} {
		if snap, n := scrape(name); !snap.Up || n == 0 || !snap.AuthBackoffUntil.IsZero() {
			t.Errorf("%s, fixed key: up %v, %d requests, back-off until %v; want up", name, snap.Up, n, snap.AuthBackoffUntil)
		}
	}
	if gates.Len() != 1 {
		t.Errorf("%d gates after the fix, want 1 (the stale key's dropped)", gates.Len())
	}
	if sim.AccessKeyLocked() {
		t.Error("the access key is locked")
	}
}
