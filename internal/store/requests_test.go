package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// requestLine is what a traced request and the simulator's record of it
// have in common.
func requestLine(method, path string, status int, requestID string) string {
	return fmt.Sprintf("%s %s %d %s", method, path, status, requestID)
}

func tracedLines(evs []hwcloud.RequestEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, requestLine(e.Method, e.Path, e.StatusCode, e.RequestID))
	}
	slices.Sort(out)
	return out
}

func simLines(sim *vbstest.Server) []string {
	var out []string
	for _, r := range sim.RequestLog("") {
		out = append(out, requestLine(r.Method, r.Path, r.Status, r.RequestID))
	}
	slices.Sort(out)
	return out
}

func policyByID(t *testing.T, snap *store.Snapshot, id string) store.PolicySnapshot {
	t.Helper()
	for _, p := range snap.Policies {
		if p.Policy.ID == id {
			return p
		}
	}
	t.Fatalf("policy %s not in the snapshot", id)
	return store.PolicySnapshot{}
}

// A traced refresh runs even within MinRefreshInterval, records exactly the
// requests the API received (path, status, request ID), and counts what it
// did to each policy's cache; an ordinary refresh records nothing.
func TestRefreshTracedRecordsItsRequestsAndChanges(t *testing.T) {
	t.Parallel()
	sim := vbstest.NewServer(vbstest.Options{})
	t.Cleanup(sim.Close)
	loadScenario(sim)
	rec := store.NewRequestRecorder()
	o := sim.Options()
	client, err := vbs.New(vbs.Options{
		Region: "cn-north-4", Endpoint: sim.URL(), ProjectID: o.ProjectID,
		Auth: hwcloud.NewAKSK(o.AccessKey, o.SecretKey, ""), PageSize: 3, Engine: hwcloud.EngineOptions{MaxAttempts: 1},
		Observer: rec.Observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	target := store.NewTarget(store.TargetOptions{Name: "prod", API: client, Now: func() time.Time { return testNow },
		MinRefreshInterval: time.Hour, Requests: rec})

	snap, fresh := target.RefreshTraced(ctxTimeout(t, 10*time.Second))
	if !fresh {
		t.Fatal("the first traced refresh did not finish")
	}
	if got, want := tracedLines(snap.Requests), simLines(sim); !slices.Equal(got, want) {
		t.Errorf("traced requests\n got %q\nwant %q", got, want)
	}
	if len(snap.Requests) == 0 || snap.Requests[0].Operation != vbs.OpListPolicies ||
		snap.Requests[0].Path != "/v2/"+o.ProjectID+"/backuppolicy" || snap.RequestsDropped != 0 {
		t.Errorf("first traced request %+v (dropped %d), want the policy list", snap.Requests[0], snap.RequestsDropped)
	}
	// daily-db: ten jobs, the one of the 19th outside the 7-day window;
	// RUNNING (job 4) and the undocumented FROZEN (job 7) stay open.
	daily := policyByID(t, snap, dailyID)
	if daily.Changes != (store.JobChanges{New: 9}) || daily.OpenJobs != 2 || daily.Err != "" {
		t.Errorf("daily-db: changes %+v, open %d, err %q; want 9 new, 2 open, no error", daily.Changes, daily.OpenJobs, daily.Err)
	}
	if weekly := policyByID(t, snap, weeklyID); weekly.Changes != (store.JobChanges{New: 4}) || weekly.OpenJobs != 0 {
		t.Errorf("weekly-archive: changes %+v, open %d; want 4 new, 0 open", weekly.Changes, weekly.OpenJobs)
	}
	if broken := policyByID(t, snap, brokenID); broken.Changes != (store.JobChanges{}) || !strings.Contains(broken.Err, "500") {
		t.Errorf("broken: changes %+v, err %q; want none and an HTTP 500 error", broken.Changes, broken.Err)
	}

	// Within MinRefreshInterval an ordinary refresh serves the last result...
	sim.ResetCounters()
	if again := target.Refresh(ctxTimeout(t, 10*time.Second)); again != snap {
		t.Error("an ordinary refresh within MinRefreshInterval did not serve the last result")
	}
	if n := len(sim.RequestLog("")); n != 0 {
		t.Errorf("an ordinary refresh within MinRefreshInterval made %d requests", n)
	}
	// ...a traced one reads the API: job 4 finished, the FROZEN job 7 is gone.
	if err := sim.FinishJob(dailyID, jobID(4), "EXECUTE_SUCCESS", at("2026-11-27T02:40:00")); err != nil {
		t.Fatal(err)
	}
	if err := sim.RemoveJob(dailyID, jobID(7)); err != nil {
		t.Fatal(err)
	}
	snap2, fresh := target.RefreshTraced(ctxTimeout(t, 10*time.Second))
	if !fresh || snap2 == snap {
		t.Fatal("a traced refresh within MinRefreshInterval did not refresh")
	}
	if got, want := tracedLines(snap2.Requests), simLines(sim); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("second traced refresh\n got %q\nwant %q", got, want)
	}
	if daily := policyByID(t, snap2, dailyID); daily.Changes != (store.JobChanges{Updated: 1, Dropped: 1}) || daily.OpenJobs != 0 {
		t.Errorf("daily-db after job 4 finished and job 7 vanished: changes %+v, open %d; want 1 updated, 1 dropped, 0 open", daily.Changes, daily.OpenJobs)
	}
	if weekly := policyByID(t, snap2, weeklyID); weekly.Changes != (store.JobChanges{}) {
		t.Errorf("weekly-archive unchanged: changes %+v, want none", weekly.Changes)
	}

	// An ordinary refresh (past the interval) records no requests.
	target.SetNow(func() time.Time { return testNow.Add(2 * time.Hour) })
	if plain := target.Refresh(ctxTimeout(t, 10*time.Second)); plain.Requests != nil || plain == snap2 {
		t.Errorf("an ordinary refresh: %d requests recorded (fresh %v), want none", len(plain.Requests), plain != snap2)
	}
}

// A failing policy list is the snapshot's error.
func TestRefreshErrorOfThePolicyList(t *testing.T) {
	t.Parallel()
	sim, client := newSim(t, 10)
	sim.AddFault(vbstest.Fault{Kind: vbstest.FaultStatus, Operation: vbstest.OpListPolicies, Status: 403})
	snap := store.NewTarget(store.TargetOptions{Name: "t", API: client, Now: func() time.Time { return testNow }}).Refresh(ctxTimeout(t, 10*time.Second))
	if snap.Up || !strings.Contains(snap.Err, "403") || !strings.Contains(snap.Err, vbs.OpListPolicies) {
		t.Errorf("up %v, err %q; want down with the list_policies 403", snap.Up, snap.Err)
	}
}

// FailedDisks lists the disks whose newest finished job failed, with the
// failures in a row (see expectedScenario).
func TestFailedDisks(t *testing.T) {
	t.Parallel()
	_, target := newMemScenarioTarget(t)
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	daily := policyByID(t, snap, dailyID)
	want := []store.FailedDisk{
		{ResourceID: "vol-a1", ResourceType: "volume", Status: "EXECUTE_FAIL", ConsecutiveFailures: 1},
		{ResourceID: "vol-a3", ResourceType: "volume", Status: "EXECUTE_TIMEOUT", ConsecutiveFailures: 2},
	}
	if got := daily.FailedDisks(); !slices.Equal(got, want) {
		t.Errorf("daily-db failed disks\n got %+v\nwant %+v", got, want)
	}
	for _, id := range []string{weeklyID, brokenID} {
		if p := policyByID(t, snap, id); p.FailedDisks() != nil {
			t.Errorf("policy %s: failed disks %+v, want none", id, p.FailedDisks())
		}
	}
}
