package store_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vbs-exporter/vbs_exporter/collector"
	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/evs"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

const failPolicyID = "44444444-4444-4444-8444-444444444444"

// failMessage is what the API says about vol-f's failure: control
// characters, the target's secret key, and more than store.MaxFailMessage bytes.
var failMessage = "Backup failed:\n\tthe snapshot of vol-f could not be created (signed with " +
	vbstest.DefaultSecretKey + "). " + strings.Repeat("x", 300)

// wantFailMessage is failMessage as kept: folded, redacted, cut to 256 bytes.
func wantFailMessage() string {
	p := "Backup failed: the snapshot of vol-f could not be created (signed with [REDACTED]). "
	return p + strings.Repeat("x", store.MaxFailMessage-len(p)) + "…"
}

// loadFailures plants (now is 2026-11-27T12:00Z):
//   - vol-f: EXECUTE_FAIL created 2026-11-26T02:00, finished 02:07
//     (1795658820), code "VolumeBackup.0064", message failMessage;
//   - vol-t: EXECUTE_TIMEOUT created 2026-11-26T02:00 (1795658400), no
//     finished_at, no code.
func loadFailures(sim *vbstest.Server) {
	sim.AddPolicy(vbstest.Policy{ID: failPolicyID, Name: "daily", StartTime: "02:00", Frequency: 1, Enabled: true, ResourceCount: 2})
	sim.AddJobs(failPolicyID,
		vbstest.Job{JobID: jobID(1), Status: "EXECUTE_FAIL", ResourceID: "vol-f", ResourceType: "volume",
			CreatedAt: at("2026-11-26T02:00:00"), FinishedAt: at("2026-11-26T02:07:00"), Code: "VolumeBackup.0064", Message: failMessage},
		vbstest.Job{JobID: jobID(2), Status: "EXECUTE_TIMEOUT", ResourceID: "vol-t", ResourceType: "volume",
			CreatedAt: at("2026-11-26T02:00:00"), Message: "The backup job timed out."},
	)
}

const failureHelp = `# HELP vbs_resource_last_failure_info Always 1: code and message are the vendor's result code and message of the disk's newest failed (EXECUTE_FAIL) or timed-out (EXECUTE_TIMEOUT) job in the lookback window, empty when the job had none; the message is cleaned of secrets and control characters and cut to 256 bytes. One series per disk; a later success does not remove it (see vbs_resource_last_status for the current state).
# TYPE vbs_resource_last_failure_info gauge
vbs_resource_last_failure_info{code="",message="The backup job timed out.",policy_id="44444444-4444-4444-8444-444444444444",policy_name="daily",resource_id="vol-t",resource_type="volume",target="prod"} 1
vbs_resource_last_failure_info{code="VolumeBackup.0064",message="Backup failed: the snapshot of vol-f could not be created (signed with [REDACTED]). xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…",policy_id="44444444-4444-4444-8444-444444444444",policy_name="daily",resource_id="vol-f",resource_type="volume",target="prod"} 1
# HELP vbs_resource_last_failure_timestamp_seconds finished_at of the disk's newest failed or timed-out job in the window (created_at when it has none), Unix seconds.
# TYPE vbs_resource_last_failure_timestamp_seconds gauge
vbs_resource_last_failure_timestamp_seconds{policy_id="44444444-4444-4444-8444-444444444444",policy_name="daily",resource_id="vol-f",resource_type="volume",target="prod"} 1.79565882e+09
vbs_resource_last_failure_timestamp_seconds{policy_id="44444444-4444-4444-8444-444444444444",policy_name="daily",resource_id="vol-t",resource_type="volume",target="prod"} 1.7956584e+09
`

const consecutiveHelp = `# HELP vbs_resource_consecutive_failures Newest finished jobs of the disk in a row that failed or timed out.
# TYPE vbs_resource_consecutive_failures gauge
`

// newNamesClient returns an EVS client for the simulator that reports its
// requests to api.
func newNamesClient(t *testing.T, sim *vbstest.Server, api *collector.APIMetrics) *evs.Client {
	t.Helper()
	o := sim.Options()
	c, err := evs.New(evs.Options{Endpoint: sim.URL(), ProjectID: o.ProjectID, Auth: hwcloud.NewAKSK(o.AccessKey, o.SecretKey, ""),
		Engine: hwcloud.EngineOptions{MaxAttempts: 1}, Observer: api.Observer("prod")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A disk that fails with a code and a message, then succeeds: the last
// failure stays (it does not alert by itself: consecutive failures drop to
// 0), its message is cleaned and logged once; a timeout without a code has
// code="" and its created_at as time.
func TestLastFailureCodeAndMessage(t *testing.T) {
	t.Parallel()
	sim, client := newSim(t, 1)
	loadFailures(sim)
	logs := &testkit.SyncBuffer{}
	now := testNow
	target := store.NewTarget(store.TargetOptions{Name: "prod", API: client, Logger: log.NewLogfmtLogger(logs), Now: func() time.Time { return now }})
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	want := failureHelp + consecutiveHelp +
		`vbs_resource_consecutive_failures{policy_id="44444444-4444-4444-8444-444444444444",policy_name="daily",resource_id="vol-f",resource_type="volume",target="prod"} 1
vbs_resource_consecutive_failures{policy_id="44444444-4444-4444-8444-444444444444",policy_name="daily",resource_id="vol-t",resource_type="volume",target="prod"} 1
`
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(want),
		"vbs_resource_last_failure_info", "vbs_resource_last_failure_timestamp_seconds", "vbs_resource_consecutive_failures", "vbs_resource_info"); err != nil {
		t.Fatal(err)
	}
	wantFailures := []store.ResourceFailure{{
		PolicyID: failPolicyID, PolicyName: "daily", ResourceID: "vol-f", ResourceType: "volume",
		Status: backup.StatusFail, Time: at("2026-11-26T02:07:00"), JobID: jobID(1),
		Code: "VolumeBackup.0064", Message: wantFailMessage(), Current: true,
	}, {
		PolicyID: failPolicyID, PolicyName: "daily", ResourceID: "vol-t", ResourceType: "volume",
		Status: backup.StatusTimeout, Time: at("2026-11-26T02:00:00"), JobID: jobID(2),
		Message: "The backup job timed out.", Current: true,
	}}
	if got := snap.Policies[0].Failures(); !reflect.DeepEqual(got, wantFailures) {
		t.Errorf("Failures() =\n%+v\nwant\n%+v", got, wantFailures)
	}

	// vol-f succeeds the next day.
	sim.AddJobs(failPolicyID, vbstest.Job{JobID: jobID(3), Status: "EXECUTE_SUCCESS", ResourceID: "vol-f", ResourceType: "volume",
		CreatedAt: at("2026-11-27T02:00:00"), FinishedAt: at("2026-11-27T02:20:00")})
	now = now.Add(time.Minute)
	snap = target.Refresh(ctxTimeout(t, 10*time.Second))
	want = strings.Replace(want, `resource_id="vol-f",resource_type="volume",target="prod"} 1
vbs_resource_consecutive_failures{policy_id="44444444-4444-4444-8444-444444444444",policy_name="daily",resource_id="vol-t"`,
		`resource_id="vol-f",resource_type="volume",target="prod"} 0
vbs_resource_consecutive_failures{policy_id="44444444-4444-4444-8444-444444444444",policy_name="daily",resource_id="vol-t"`, 1)
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(want),
		"vbs_resource_last_failure_info", "vbs_resource_last_failure_timestamp_seconds", "vbs_resource_consecutive_failures", "vbs_resource_info"); err != nil {
		t.Fatal(err)
	}
	wantFailures[0].Current = false
	if got := snap.Failures(); !reflect.DeepEqual(got, wantFailures) {
		t.Errorf("after the success, Failures() =\n%+v\nwant\n%+v", got, wantFailures)
	}

	// Each failure is logged once, cleaned; the secret never appears.
	lines := logs.Lines("backup job failed")
	if len(lines) != 2 {
		t.Fatalf("%d failure log lines, want 2:\n%s", len(lines), logs)
	}
	if !strings.Contains(lines[0]+lines[1], `code=VolumeBackup.0064 message="`+wantFailMessage()+`"`) {
		t.Errorf("log lines lack the cleaned code and message:\n%s", strings.Join(lines, "\n"))
	}
	if strings.Contains(logs.String(), vbstest.DefaultSecretKey) {
		t.Error("the secret key is in the log")
	}
}

// With a name source the disks of the jobs that EVS names get
// vbs_resource_info (a volume without jobs, or a disk EVS does not list,
// gets none), the failures carry the name, and EVS is read once an hour.
func TestResourceNamesFromEVS(t *testing.T) {
	t.Parallel()
	sim, client := newSim(t, 100)
	loadFailures(sim)
	sim.SetVolumes([]vbstest.Volume{{ID: "vol-f", Name: "db-data \"primary\""}, {ID: "vol-other", Name: "unused"}})
	api := collector.NewAPIMetrics()
	now := testNow
	target := store.NewTarget(store.TargetOptions{Name: "prod", API: client, Names: newNamesClient(t, sim, api), NamesWait: 10 * time.Second,
		Now: func() time.Time { return now }})
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	want := `# HELP vbs_resource_info Always 1: the name of a disk seen in the target's jobs, where it is known (for VBS from the EVS volume list when resource_names is on, for CBR from the jobs).
# TYPE vbs_resource_info gauge
vbs_resource_info{resource_id="vol-f",resource_name="db-data \"primary\"",resource_type="volume",target="prod"} 1
`
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(want), "vbs_resource_info"); err != nil {
		t.Fatal(err)
	}
	if f := snap.Failures(); len(f) != 2 || f[0].ResourceName != `db-data "primary"` || f[1].ResourceName != "" {
		t.Errorf("Failures() = %+v", f)
	}
	if n, ok := snap.ResourceName("vol-f"); !ok || n != `db-data "primary"` {
		t.Errorf("ResourceName(vol-f) = %q, %v", n, ok)
	}
	problems, err := testutil.CollectAndLint(snapshotCollector{snap})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	// Within the hour no EVS request; after it, one. Both count in the
	// request metrics under list_volumes.
	for _, step := range []struct {
		after time.Duration
		reqs  int
	}{{30 * time.Minute, 1}, {31 * time.Minute, 2}} {
		now = now.Add(step.after)
		prev := snap
		snap = target.Refresh(ctxTimeout(t, 10*time.Second))
		if snap.Version != prev.Version {
			t.Errorf("at +%v: names read again unchanged gave a new snapshot version", now.Sub(testNow))
		}
		if n := sim.Requests(vbstest.OpListVolumes); n != step.reqs {
			t.Errorf("at +%v: %d EVS requests, want %d", now.Sub(testNow), n, step.reqs)
		}
		if _, ok := snap.ResourceName("vol-f"); !ok {
			t.Errorf("at +%v: the name is gone", now.Sub(testNow))
		}
	}
	wantAPI := `# HELP vbs_api_requests_total HTTP requests to the Huawei Cloud APIs (VBS, CBR, EVS, IAM), by operation and HTTP status code ("error" when no response arrived). Every attempt counts, retries included.
# TYPE vbs_api_requests_total counter
vbs_api_requests_total{code="200",operation="list_volumes",target="prod"} 2
`
	if err := testutil.CollectAndCompare(api, strings.NewReader(wantAPI), "vbs_api_requests_total"); err != nil {
		t.Error(err)
	}
}

// An EVS that refuses the lookup changes nothing in the backup metrics: the
// exposition is exactly that of a target without names. The failure is
// logged and counted, retried after store.NamesRetry, not on every scrape.
func TestResourceNamesFailureLeavesBackupMetrics(t *testing.T) {
	t.Parallel()
	sim, client := newSim(t, 100)
	loadScenario(sim)
	sim.AddFault(vbstest.Fault{Operation: vbstest.OpListVolumes, Status: 403,
		Body: `{"error_code":"EVS.0001","error_msg":"Policy doesn't allow evs:volumes:list to be performed."}`})
	api := collector.NewAPIMetrics()
	logs := &testkit.SyncBuffer{}
	now := testNow
	target := store.NewTarget(store.TargetOptions{Name: "prod", API: client, Names: newNamesClient(t, sim, api), NamesWait: 10 * time.Second,
		Logger: log.NewLogfmtLogger(logs), Now: func() time.Time { return now }})
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(expectedScenario)); err != nil {
		t.Fatal(err)
	}
	if got := logs.Lines("reading the disks' names failed"); len(got) != 1 ||
		!strings.Contains(got[0], "operation=list_volumes status=403 code=EVS.0001") {
		t.Errorf("log: %q", got)
	}
	now = now.Add(time.Minute)
	failed := target.Refresh(ctxTimeout(t, 10*time.Second))
	if n := sim.Requests(vbstest.OpListVolumes); n != 1 {
		t.Errorf("%d EVS requests within namesRetry, want 1", n)
	}
	sim.ClearFaults()
	loadScenario(sim) // the broken policy's fault again
	now = now.Add(store.NamesRetry)
	snap = target.Refresh(ctxTimeout(t, 10*time.Second))
	if n := sim.Requests(vbstest.OpListVolumes); n != 2 {
		t.Errorf("%d EVS requests after namesRetry, want 2", n)
	}
	if name, ok := snap.ResourceName("vol-a1"); !ok || name != vbstest.VolumeName("vol-a1") {
		t.Errorf("after recovery ResourceName(vol-a1) = %q, %v", name, ok)
	}
	if snap.Version == failed.Version {
		t.Error("names that appeared kept the snapshot version: a cached render would lack them")
	}
	wantAPI := `# HELP vbs_api_requests_total HTTP requests to the Huawei Cloud APIs (VBS, CBR, EVS, IAM), by operation and HTTP status code ("error" when no response arrived). Every attempt counts, retries included.
# TYPE vbs_api_requests_total counter
vbs_api_requests_total{code="200",operation="list_volumes",target="prod"} 1
vbs_api_requests_total{code="403",operation="list_volumes",target="prod"} 1
`
	if err := testutil.CollectAndCompare(api, strings.NewReader(wantAPI), "vbs_api_requests_total"); err != nil {
		t.Error(err)
	}
}

// A slow EVS does not hold up the refresh beyond NamesWait: the refresh
// returns without names (its backup metrics exact), the lookup finishes in
// the background, and the next refresh has the names without a new request.
func TestSlowNamesDoNotHoldTheRefresh(t *testing.T) {
	t.Parallel()
	sim, client := newSim(t, 100)
	loadScenario(sim)
	sim.AddFault(vbstest.Fault{Kind: vbstest.FaultLatency, Operation: vbstest.OpListVolumes, Latency: 3 * time.Second, Times: 1})
	now := testNow
	target := store.NewTarget(store.TargetOptions{Name: "prod", API: client, Names: newNamesClient(t, sim, collector.NewAPIMetrics()),
		NamesWait: 10 * time.Millisecond, Now: func() time.Time { return now }})
	snap := target.Refresh(ctxTimeout(t, 10*time.Second))
	if err := testutil.CollectAndCompare(snapshotCollector{snap}, strings.NewReader(expectedScenario)); err != nil {
		t.Fatal(err)
	}
	done := target.NamesRunning()
	if done == nil {
		t.Fatal("the slow lookup is not running after the refresh returned")
	}
	<-done
	now = now.Add(time.Minute)
	snap = target.Refresh(ctxTimeout(t, 10*time.Second))
	if _, ok := snap.ResourceName("vol-a1"); !ok {
		t.Error("the names read in the background are not in the next snapshot")
	}
	if n := sim.Requests(vbstest.OpListVolumes); n != 1 {
		t.Errorf("%d EVS requests, want 1", n)
	}
}
