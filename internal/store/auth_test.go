package store_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/vbs-exporter/vbs_exporter/internal/evs"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// authClock is the shared fake clock of the simulator, the signer and the
// target.
type authClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *authClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *authClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestAuthStaleKeyBackoff: after a rotation leaves a stale secret key, a
// target scraped every 15 s for 30 simulated minutes never gets the AK
// locked by the simulator (which, like the gateway, locks it after 5 bad
// signatures within 5 minutes): at most 2 refused signatures fall in any 5
// minutes, vbs_up is 0, vbs_auth_backoff_until_timestamp_seconds shows the
// back-off end, and the log says why and until when. A target rebuilt with
// the fixed key (as a reload that changes the credentials does) is up on its
// first scrape, in the middle of the stale client's back-off.
func TestAuthStaleKeyBackoff(t *testing.T) {
	t.Parallel()
	clock := &authClock{t: testNow}
	sim := vbstest.NewServer(vbstest.Options{Now: clock.Now})
	t.Cleanup(sim.Close)
	sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 2, Days: 3, Seed: 5, Now: testNow, Schedules: dailyOnly}))
	o := sim.Options()
	newTarget := func(secretKey string, logger log.Logger) *store.Target {
		client, err := vbs.New(vbs.Options{Endpoint: sim.URL(), ProjectID: o.ProjectID, Engine: hwcloud.EngineOptions{MaxAttempts: 1},
			Auth: hwcloud.NewAKSKAt(o.AccessKey, secretKey, "", clock.Now)})
		if err != nil {
			t.Fatal(err)
		}
		return store.NewTarget(store.TargetOptions{Name: "prod", API: client, Now: clock.Now, Logger: logger})
	}
	var logs testkit.SyncBuffer
	stale := newTarget("stale-secret-key", log.NewLogfmtLogger(&logs))

	var refusals []time.Time
	for clock.Now().Sub(testNow) < 30*time.Minute {
		before := sim.Requests("")
		snap := stale.Refresh(ctxTimeout(t, 10*time.Second))
		switch n := sim.Requests("") - before; n {
		case 0:
		case 1:
			refusals = append(refusals, clock.Now())
		default:
			t.Fatalf("%v: %d requests in one scrape", clock.Now().Sub(testNow), n)
		}
		if sim.AccessKeyLocked() {
			t.Fatalf("%v: the access key is locked", clock.Now().Sub(testNow))
		}
		if snap.Up || !snap.HasAuthBackoff || !snap.AuthBackoffUntil.After(clock.Now()) {
			t.Fatalf("%v: up %v, back-off until %v", clock.Now().Sub(testNow), snap.Up, snap.AuthBackoffUntil)
		}
		want := fmt.Sprintf("vbs_auth_backoff_until_timestamp_seconds{target=\"prod\"} %s\n",
			strconv.FormatFloat(float64(snap.AuthBackoffUntil.Unix()), 'g', -1, 64))
		if got := render(t, snapshotCollector{snap}); !strings.Contains(got, want) {
			t.Fatalf("exposition lacks %q", want)
		}
		clock.Add(15 * time.Second)
	}
	for i := 2; i < len(refusals); i++ {
		if refusals[i].Sub(refusals[i-2]) <= 5*time.Minute {
			t.Errorf("3 refused signatures within 5 minutes: %v", refusals[i-2:i+1])
		}
	}
	// 0, 60 s, 315 s (5 min 1 s after the first, on the 15 s grid), 555 s,
	// 1035 s, 1935 s is past 30 min: 5 refused signatures in 30 minutes.
	if len(refusals) != 5 {
		t.Errorf("%d refused signatures in 30 minutes, want 5: %v", len(refusals), refusals)
	}
	if l := logs.String(); !strings.Contains(l, "the credentials were refused; no request is sent until the back-off ends") ||
		!strings.Contains(l, "backoff_until=") || !strings.Contains(l, "code=APIGW.0301") {
		t.Errorf("log lacks the back-off:\n%s", l)
	}

	fixed := newTarget(o.SecretKey, nil)
	before := sim.Requests("")
	snap := fixed.Refresh(ctxTimeout(t, 10*time.Second))
	if !snap.Up || !snap.HasAuthBackoff || !snap.AuthBackoffUntil.IsZero() || sim.Requests("") == before {
		t.Errorf("fixed key: up %v, back-off until %v", snap.Up, snap.AuthBackoffUntil)
	}
	if got := render(t, snapshotCollector{snap}); !strings.Contains(got, "vbs_auth_backoff_until_timestamp_seconds{target=\"prod\"} 0\n") {
		t.Errorf("fixed key: exposition\n%s", got)
	}
}

// TestAuthSharedKeyBackoff: two targets with the same stale key (as every
// target without an auth block has, from the environment) share one
// back-off gate. Scraped every 15 s for 30 simulated minutes, with the EVS
// name lookup on, they never send more than 2 refused signatures in any 5
// minutes between them, and the simulator never locks the AK. A target
// rebuilt with the same stale key (a reload that changed another setting)
// stays in the back-off; one with the fixed key is up on its first scrape.
func TestAuthSharedKeyBackoff(t *testing.T) {
	t.Parallel()
	clock := &authClock{t: testNow}
	sim := vbstest.NewServer(vbstest.Options{Now: clock.Now})
	t.Cleanup(sim.Close)
	sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 2, Days: 3, Seed: 5, Now: testNow, Schedules: dailyOnly}))
	sim.SetVolumes([]vbstest.Volume{{ID: "vol-x", Name: "x"}})
	o := sim.Options()
	gates := hwcloud.NewAKSKGates()
	newTarget := func(name, secretKey string) *store.Target {
		auth := gates.NewAKSKAt(o.AccessKey, secretKey, "", clock.Now)
		client, err := vbs.New(vbs.Options{Endpoint: sim.URL(), ProjectID: o.ProjectID, Engine: hwcloud.EngineOptions{MaxAttempts: 1}, Auth: auth})
		if err != nil {
			t.Fatal(err)
		}
		names, err := evs.New(evs.Options{Endpoint: sim.URL(), ProjectID: o.ProjectID, Engine: hwcloud.EngineOptions{MaxAttempts: 1}, Auth: auth})
		if err != nil {
			t.Fatal(err)
		}
		return store.NewTarget(store.TargetOptions{Name: name, API: client, Names: names, NamesWait: 10 * time.Second, Now: clock.Now})
	}
	targets := []*store.Target{newTarget("a", "stale-secret-key"), newTarget("b", "stale-secret-key")}

	var refusals []time.Time
	for clock.Now().Sub(testNow) < 30*time.Minute {
		for _, tg := range targets {
			before := sim.Requests("")
			snap := tg.Refresh(ctxTimeout(t, 10*time.Second))
			switch n := sim.Requests("") - before; n {
			case 0:
			case 1:
				refusals = append(refusals, clock.Now())
			default:
				t.Fatalf("%v: %d requests in one scrape", clock.Now().Sub(testNow), n)
			}
			if snap.Up || !snap.AuthBackoffUntil.After(clock.Now()) {
				t.Fatalf("%v: up %v, back-off until %v", clock.Now().Sub(testNow), snap.Up, snap.AuthBackoffUntil)
			}
		}
		if sim.AccessKeyLocked() {
			t.Fatalf("%v: the access key is locked", clock.Now().Sub(testNow))
		}
		clock.Add(15 * time.Second)
	}
	for i := 2; i < len(refusals); i++ {
		if refusals[i].Sub(refusals[i-2]) <= 5*time.Minute {
			t.Errorf("3 refused signatures within 5 minutes: %v", refusals[i-2:i+1])
		}
	}
	// The schedule of a single target: 0, 60 s, 315 s, 555 s, 1035 s.
	if len(refusals) != 5 || sim.Requests(vbstest.OpListVolumes) != 0 {
		t.Errorf("%d refused signatures in 30 minutes, want 5: %v; %d EVS requests, want 0",
			len(refusals), refusals, sim.Requests(vbstest.OpListVolumes))
	}

	// Rebuilt with the same stale key: still held, nothing sent.
	before := sim.Requests("")
	snap := newTarget("a", "stale-secret-key").Refresh(ctxTimeout(t, 10*time.Second))
	if snap.Up || !snap.AuthBackoffUntil.After(clock.Now()) || sim.Requests("") != before {
		t.Errorf("rebuilt with the stale key: up %v, back-off until %v, %d requests", snap.Up, snap.AuthBackoffUntil, sim.Requests("")-before)
	}
	// The fixed key: a gate of its own, up at once, names read.
	snap = newTarget("a", o.SecretKey).Refresh(ctxTimeout(t, 10*time.Second))
	if !snap.Up || !snap.AuthBackoffUntil.IsZero() {
		t.Errorf("fixed key: up %v, back-off until %v", snap.Up, snap.AuthBackoffUntil)
	}
	if n, ok := snap.ResourceName("vol-x"); !ok || n != "x" {
		t.Errorf("fixed key: ResourceName(vol-x) = %q, %v", n, ok)
	}
}

// TestNamesWaitForListPolicies: the EVS name lookup starts only after
// ListPolicies succeeded in the same refresh, so a refused key (or a
// failing VBS) costs one signed request per refresh, not two at once.
func TestNamesWaitForListPolicies(t *testing.T) {
	t.Parallel()
	clock := &authClock{t: testNow}
	sim := vbstest.NewServer(vbstest.Options{Now: clock.Now})
	t.Cleanup(sim.Close)
	sim.Load(vbstest.Generate(vbstest.GenOptions{Policies: 1, Disks: 2, Days: 3, Seed: 5, Now: testNow, Schedules: dailyOnly}))
	sim.SetVolumes([]vbstest.Volume{{ID: "vol-x", Name: "x"}})
	o := sim.Options()
	auth := hwcloud.NewAKSKAt(o.AccessKey, "stale-secret-key", "", clock.Now)
	client, err := vbs.New(vbs.Options{Endpoint: sim.URL(), ProjectID: o.ProjectID, Engine: hwcloud.EngineOptions{MaxAttempts: 1}, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	names, err := evs.New(evs.Options{Endpoint: sim.URL(), ProjectID: o.ProjectID, Engine: hwcloud.EngineOptions{MaxAttempts: 1}, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	target := store.NewTarget(store.TargetOptions{Name: "prod", API: client, Names: names, NamesWait: 10 * time.Second, Now: clock.Now})
	if snap := target.Refresh(ctxTimeout(t, 10*time.Second)); snap.Up {
		t.Fatal("up with a stale key")
	}
	if n, v := sim.Requests(""), sim.Requests(vbstest.OpListVolumes); n != 1 || v != 0 {
		t.Errorf("stale key: %d requests, %d of them to EVS; want 1 and 0", n, v)
	}
	// A failing VBS: no lookup either.
	fixed := hwcloud.NewAKSKAt(o.AccessKey, o.SecretKey, "", clock.Now)
	client, _ = vbs.New(vbs.Options{Endpoint: sim.URL(), ProjectID: o.ProjectID, Engine: hwcloud.EngineOptions{MaxAttempts: 1}, Auth: fixed})
	names, _ = evs.New(evs.Options{Endpoint: sim.URL(), ProjectID: o.ProjectID, Engine: hwcloud.EngineOptions{MaxAttempts: 1}, Auth: fixed})
	target = store.NewTarget(store.TargetOptions{Name: "prod", API: client, Names: names, NamesWait: 10 * time.Second, Now: clock.Now})
	sim.AddFault(vbstest.Fault{Kind: vbstest.FaultStatus, Operation: vbstest.OpListPolicies, Status: 500, Times: 1})
	if snap := target.Refresh(ctxTimeout(t, 10*time.Second)); snap.Up {
		t.Fatal("up with a failing ListPolicies")
	}
	if v := sim.Requests(vbstest.OpListVolumes); v != 0 {
		t.Errorf("failing ListPolicies: %d EVS requests, want 0", v)
	}
	// Once it succeeds, the names come in the same refresh.
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	if n, ok := snap.ResourceName("vol-x"); !snap.Up || !ok || n != "x" || sim.Requests(vbstest.OpListVolumes) != 1 {
		t.Errorf("up %v, ResourceName(vol-x) = %q, %v, %d EVS requests", snap.Up, n, ok, sim.Requests(vbstest.OpListVolumes))
	}
}
