package cbr

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/cbr/cbrtest"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestClient returns a client signing with AK/SK against sim, whose
// signature check is the simulator's independent verifier.
func newTestClient(t testing.TB, sim *cbrtest.Server, clk *clock, mod func(*Options)) *Client {
	t.Helper()
	o := Options{
		Endpoint:  sim.URL(),
		ProjectID: sim.Options().ProjectID,
		Auth:      hwcloud.NewAKSK(sim.Options().AccessKey, sim.Options().SecretKey, ""),
		Engine:    hwcloud.EngineOptions{HTTPClient: sim.Client(), BackoffBase: time.Millisecond, BackoffMax: time.Millisecond},
		Now:       clk.Now,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newSim(t testing.TB, o cbrtest.Options, clk *clock) *cbrtest.Server {
	o.Now = time.Now // X-Sdk-Date is signed with the real clock
	sim := cbrtest.NewServer(o)
	t.Cleanup(sim.Close)
	return sim
}

func TestInventory(t *testing.T) {
	clk := &clock{t: time.Date(2025, 6, 3, 3, 0, 0, 0, time.UTC)}
	sim := newSim(t, cbrtest.Options{}, clk)
	disk := func(id string) cbrtest.Resource {
		return cbrtest.Resource{ID: id, Name: "disk-" + id, Type: "OS::Cinder::Volume", SizeGB: 10, BackupCount: 2}
	}
	sim.AddVault(cbrtest.Vault{ID: "v1", Name: "vault-a", SizeGB: 200, UsedMB: 51200, Resources: []cbrtest.Resource{disk("d1"), disk("d2")}})
	sim.AddVault(cbrtest.Vault{ID: "v2", Name: "vault-b", SizeGB: 100, UsedMB: 97280, Status: "lock", ObjectType: "server",
		Resources: []cbrtest.Resource{{ID: "s1", Name: "web", Type: "OS::Nova::Server"}}})
	sim.AddVault(cbrtest.Vault{ID: "v3", Name: "vault-c", SizeGB: 1})
	sim.AddPolicy(cbrtest.Policy{ID: "p1", Name: "two-vaults", Enabled: true, VaultIDs: []string{"v1", "v2"},
		Patterns: []string{"FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=08;BYMINUTE=00", "FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=20;BYMINUTE=00"}})
	sim.AddPolicy(cbrtest.Policy{ID: "p2", Name: "off", VaultIDs: []string{"v1", "gone"}})
	sim.AddPolicy(cbrtest.Policy{ID: "p3", Name: "replica", OperationType: "replication", VaultIDs: []string{"v3"}})
	c := newTestClient(t, sim, clk, nil)
	inv, err := c.Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Policies) != 2 {
		t.Fatalf("policies %+v", inv.Policies)
	}
	p1, p2 := inv.Policies[0], inv.Policies[1]
	if p1.ID != "p1" || !p1.Enabled || p1.ResourceCount != 3 || p1.ExpectedInterval() != 5*24*time.Hour+12*time.Hour || p1.Problems != nil {
		t.Errorf("p1 = %+v, interval %v", p1, p1.ExpectedInterval())
	}
	if p2.ID != "p2" || p2.Enabled || p2.ResourceCount != 2 || p2.Schedule != nil ||
		!reflect.DeepEqual(p2.Problems, []string{`field associated_vaults: vault "gone" is not in the vault list`}) {
		t.Errorf("p2 = %+v", p2)
	}
	want := []backup.Vault{
		{ID: "v1", Name: "vault-a", ObjectType: "disk", ProtectType: "backup", Status: "available",
			CapacityBytes: 200 << 30, UsedBytes: 50 << 30, PolicyIDs: []string{"p1", "p2"},
			Resources: []backup.Resource{
				{ID: "d1", Type: "OS::Cinder::Volume", Name: "disk-d1", SizeBytes: 10 << 30, BackupCount: 2, ProtectStatus: "available"},
				{ID: "d2", Type: "OS::Cinder::Volume", Name: "disk-d2", SizeBytes: 10 << 30, BackupCount: 2, ProtectStatus: "available"}}},
		{ID: "v2", Name: "vault-b", ObjectType: "server", ProtectType: "backup", Status: "lock",
			CapacityBytes: 100 << 30, UsedBytes: 95 << 30, PolicyIDs: []string{"p1"},
			Resources: []backup.Resource{{ID: "s1", Type: "OS::Nova::Server", Name: "web", BackupCount: 0, ProtectStatus: "available"}}},
		{ID: "v3", Name: "vault-c", ObjectType: "disk", ProtectType: "backup", Status: "available", CapacityBytes: 1 << 30},
	}
	if !reflect.DeepEqual(inv.Vaults, want) {
		t.Errorf("vaults\ngot  %+v\nwant %+v", inv.Vaults, want)
	}
	// One policy request, one vault page and the empty page that ends it.
	if p, v := sim.Requests(cbrtest.OpListPolicies), sim.Requests(cbrtest.OpListVaults); p != 1 || v != 2 {
		t.Errorf("requests: %d policies, %d vaults; want 1, 2", p, v)
	}
	if q := sim.Queries(cbrtest.OpListPolicies)[0]; q.Get("operation_type") != "backup" {
		t.Errorf("policy query %v", q)
	}
}

func TestVaultPaging(t *testing.T) {
	clk := &clock{t: time.Now()}
	sim := newSim(t, cbrtest.Options{}, clk)
	for i := range 25 {
		sim.AddVault(cbrtest.Vault{ID: fmt.Sprintf("v%02d", i), SizeGB: 1})
	}
	c := newTestClient(t, sim, clk, func(o *Options) { o.VaultPageSize = 10 })
	vs, err := c.Vaults(context.Background())
	if err != nil || len(vs) != 25 || vs[24].ID != "v24" {
		t.Fatalf("%d vaults, %v", len(vs), err)
	}
	var offsets []string
	for _, q := range sim.Queries(cbrtest.OpListVaults) {
		offsets = append(offsets, q.Get("limit")+"/"+q.Get("offset"))
	}
	if want := []string{"10/0", "10/10", "10/20", "10/25"}; !slices.Equal(offsets, want) {
		t.Errorf("pages %v, want %v", offsets, want)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	clk := &clock{t: time.Now()}
	sim := newSim(t, cbrtest.Options{}, clk)
	ctx := context.Background()
	for _, tc := range []struct {
		fault cbrtest.Fault
		kind  error
		text  string
	}{
		{cbrtest.Fault{Status: 403, Code: "BackupService.8600", Message: "not authenticated"}, backup.ErrForbidden, "list_policies: HTTP 403 BackupService.8600: not authenticated"},
		{cbrtest.Fault{Status: 400, Code: "BackupService.9900", Message: "bad"}, backup.ErrRejected, "list_policies: HTTP 400 BackupService.9900: bad"},
		{cbrtest.Fault{Status: 503, Code: "BackupService.9910", Message: "busy"}, backup.ErrUnavailable, "list_policies: HTTP 503 BackupService.9910: busy"},
		{cbrtest.Fault{Status: 429, Code: "APIGW.0308", Message: "throttled"}, backup.ErrUnavailable, "list_policies: HTTP 429 APIGW.0308: throttled"},
	} {
		id := sim.AddFault(tc.fault)
		_, err := newTestClient(t, sim, clk, nil).Policies(ctx)
		sim.RemoveFault(id)
		var apiErr *hwcloud.APIError
		if !errors.Is(err, tc.kind) || !errors.As(err, &apiErr) || !slices.Contains([]string{tc.text}, trimRequestID(err.Error())) {
			t.Errorf("fault %d: %v, want %v %q", tc.fault.Status, err, tc.kind, tc.text)
		}
	}
	// A wrong secret key: the simulator's verifier refuses the signature.
	bad := newTestClient(t, sim, clk, func(o *Options) { o.Auth = hwcloud.NewAKSK(sim.Options().AccessKey, "wrong", "") })
	if _, err := bad.Policies(ctx); !errors.Is(err, backup.ErrAuth) ||
		trimRequestID(err.Error()) != "list_policies: HTTP 401 APIGW.0301: Incorrect IAM authentication information: verify aksk signature fail" {
		t.Errorf("wrong key: %v", err)
	}
	// Temporary credentials: the security token must come along.
	temp := newSim(t, cbrtest.Options{SecurityToken: "temp-token-1"}, clk)
	ak, sk := temp.Options().AccessKey, temp.Options().SecretKey
	if _, err := newTestClient(t, temp, clk, func(o *Options) { o.Auth = hwcloud.NewAKSK(ak, sk, "temp-token-1") }).Policies(ctx); err != nil {
		t.Errorf("security token: %v", err)
	}
	if _, err := newTestClient(t, temp, clk, func(o *Options) { o.Auth = hwcloud.NewAKSK(ak, sk, "other") }).Policies(ctx); !errors.Is(err, backup.ErrAuth) ||
		trimRequestID(err.Error()) != "list_policies: HTTP 401 APIGW.0301: Incorrect IAM authentication information: invalid security token" {
		t.Errorf("wrong security token: %v", err)
	}
	// A 200 with a body that is not the task list.
	sim2 := newSim(t, cbrtest.Options{SkipAuth: true}, clk)
	sim2.AddPolicy(cbrtest.Policy{ID: "p", Patterns: []string{"FREQ=DAILY;BYHOUR=1"}})
	c := newTestClient(t, sim2, clk, func(o *Options) { o.Auth = hwcloud.NewStaticToken("t") })
	if _, err := c.Policies(ctx); err != nil {
		t.Errorf("token: %v", err)
	}
}

// trimRequestID drops the " (request_id …)" tail, which is random.
func trimRequestID(s string) string {
	if i := len(s) - len(" (request_id 0123456789abcdef0123456789abcdef)"); i > 0 && s[i:i+12] == " (request_id" {
		return s[:i]
	}
	return s
}

// TestNewJobsArrivalsDuringWalk: tasks added and updated between the pages
// of a walk shift every later offset; whatever the server's order, no task
// is lost or returned twice, and the next read picks up what arrived.
func TestNewJobsArrivalsDuringWalk(t *testing.T) {
	t.Parallel()
	for _, order := range []cbrtest.Order{cbrtest.NewestFirst, cbrtest.OldestFirst, cbrtest.Scrambled} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			now := time.Date(2025, 6, 3, 12, 0, 0, 0, time.UTC)
			clk := &clock{t: now}
			sim := newSim(t, cbrtest.Options{Order: order}, clk)
			var initial []string
			for i := range 950 {
				l := cbrtest.OperationLog{ID: fmt.Sprintf("job-%04d", i), Status: "success",
					Created: now.Add(-time.Duration(i) * time.Minute), ResourceID: "r"}
				l.Ended = l.Created.Add(time.Minute)
				if i%7 == 0 {
					l.OperationType = "restore" // filtered out by operation_type
				} else {
					initial = append(initial, l.ID)
				}
				sim.AddLogs(l)
			}
			// Before each of the first four pages is sent, 40 tasks appear
			// inside the window (visible late: they shift the offsets of a
			// newest-first listing by 40) and one existing task is updated;
			// before every page, 10 tasks appear after the window's end.
			n, future, pages := 0, 0, 0
			sim.OnPage(func(q url.Values) {
				if pages++; pages <= 4 {
					for k := range 40 {
						n++
						sim.AddLogs(cbrtest.OperationLog{ID: fmt.Sprintf("late-%04d", n), Status: "running",
							Created: now.Add(-time.Duration(k) * time.Minute)})
					}
				}
				for range 10 {
					future++
					sim.AddLogs(cbrtest.OperationLog{ID: fmt.Sprintf("new-%04d", future), Status: "waiting",
						Created: now.Add(time.Duration(future) * time.Second)})
				}
				sim.UpdateLog("job-0001", func(l *cbrtest.OperationLog) { l.Updated = now.Add(time.Duration(pages) * time.Second) })
			})
			c := newTestClient(t, sim, clk, func(o *Options) { o.PageSize = 100 })
			b, err := c.NewJobs(context.Background(), backup.JobQuery{NotBefore: now.Add(-24 * time.Hour)})
			if err != nil || !b.Complete {
				t.Fatalf("complete %v, err %v", b.Complete, err)
			}
			got := map[string]int{}
			for _, j := range b.Jobs {
				got[j.ID]++
				if got[j.ID] > 1 {
					t.Fatalf("job %s returned twice", j.ID)
				}
			}
			for _, id := range initial {
				if got[id] != 1 {
					t.Fatalf("job %s lost", id)
				}
			}
			if got["job-0007"] != 0 {
				t.Error("a restore task was returned")
			}
			requests := sim.Requests(cbrtest.OpListOperationLogs)
			sim.OnPage(nil)
			// The next read returns every late task.
			clk.Add(time.Minute)
			b2, err := c.NewJobs(context.Background(), backup.JobQuery{Cursor: b.Next, NotBefore: now.Add(-24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range b2.Jobs {
				got[j.ID] = 1
				// Updated during the first read: the next read has the
				// latest state (created within the overlap).
				if j.ID == "job-0001" && !j.Updated.Equal(now.Add(time.Duration(pages)*time.Second)) {
					t.Errorf("job-0001: updated %v, want the last update", j.Updated)
				}
			}
			for k := 1; k <= n; k++ {
				if got[fmt.Sprintf("late-%04d", k)] != 1 {
					t.Fatalf("late-%04d never read (%d added)", k, n)
				}
			}
			for k := 1; k <= 50 && k <= future; k++ { // created up to 50 s after the first read's end
				if got[fmt.Sprintf("new-%04d", k)] != 1 {
					t.Fatalf("new-%04d never read", k)
				}
			}
			t.Logf("order %v: first read %d requests, %d tasks added in the window during it", order, requests, n)
		})
	}
}

func TestNewJobsQueryAndResume(t *testing.T) {
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	clk := &clock{t: now}
	sim := newSim(t, cbrtest.Options{}, clk)
	for d := range 30 {
		sim.AddLogs(cbrtest.OperationLog{ID: fmt.Sprintf("d%02d", d), Status: "success", Created: now.AddDate(0, 0, -d)})
	}
	c := newTestClient(t, sim, clk, func(o *Options) { o.Slice = 10 * 24 * time.Hour })
	ctx := context.Background()
	// The third slice fails: the first two are kept and the cursor says so.
	sim.AddFault(cbrtest.Fault{Op: cbrtest.OpListOperationLogs, Status: 400, Code: "BackupService.9900",
		Match: func(q url.Values) bool { return q.Get("start_time") == "2025-06-20T12:00:00Z" }, Times: 1})
	b, err := c.NewJobs(ctx, backup.JobQuery{NotBefore: now.AddDate(0, 0, -30)})
	if !errors.Is(err, backup.ErrRejected) || b.Complete || len(b.Jobs) != 20 || b.Next != "cbr1:2025-06-20T12:00:00Z" {
		t.Fatalf("err %v, complete %v, %d jobs, next %q", err, b.Complete, len(b.Jobs), b.Next)
	}
	var windows []string
	for _, q := range sim.Queries(cbrtest.OpListOperationLogs) {
		if q.Get("operation_type") != "backup" || q.Get("limit") != "1000" || q.Has("status") {
			t.Errorf("query %v", q)
		}
		windows = append(windows, q.Get("start_time")+".."+q.Get("end_time")+"@"+q.Get("offset"))
	}
	want := []string{
		"2025-05-31T12:00:00Z..2025-06-10T12:00:00Z@0", "2025-05-31T12:00:00Z..2025-06-10T12:00:00Z@10",
		"2025-06-10T12:00:00Z..2025-06-20T12:00:00Z@0", "2025-06-10T12:00:00Z..2025-06-20T12:00:00Z@11",
		"2025-06-20T12:00:00Z..2025-06-30T12:00:00Z@0",
	}
	if !slices.Equal(windows, want) {
		t.Errorf("windows\n%q\nwant\n%q", windows, want)
	}
	sim.ResetCounters()
	b, err = c.NewJobs(ctx, backup.JobQuery{Cursor: b.Next, NotBefore: now.AddDate(0, 0, -30)})
	if err != nil || !b.Complete || len(b.Jobs) != 11 || b.Next != "cbr1:2025-06-30T12:00:00Z" {
		t.Fatalf("resume: err %v, complete %v, %d jobs, next %q", err, b.Complete, len(b.Jobs), b.Next)
	}
	// Resumed from the mark minus the overlap (3h), in slices of 10 days.
	qs := sim.Queries(cbrtest.OpListOperationLogs)
	if first, last := qs[0], qs[len(qs)-1]; first.Get("start_time") != "2025-06-20T09:00:00Z" || last.Get("end_time") != "2025-06-30T12:00:00Z" {
		t.Errorf("resume windows %v .. %v", first, last)
	}
}

func TestNewJobsPagingErrors(t *testing.T) {
	now := time.Now().UTC()
	clk := &clock{t: now}
	sim := newSim(t, cbrtest.Options{}, clk)
	for i := range 5 {
		sim.AddLogs(cbrtest.OperationLog{ID: fmt.Sprint(i), Status: "success", Created: now.Add(-time.Hour)})
	}
	ctx := context.Background()
	q := backup.JobQuery{NotBefore: now.Add(-2 * time.Hour)}
	c := newTestClient(t, sim, clk, func(o *Options) { o.PageSize = 2 })
	if b, err := c.NewJobs(ctx, q); err != nil || len(b.Jobs) != 5 {
		t.Fatalf("normal walk: %d jobs, %v", len(b.Jobs), err)
	}
	// A server that ignores offset serves the first page again and again.
	id := sim.AddFault(cbrtest.Fault{Op: cbrtest.OpListOperationLogs, IgnoreOffset: true})
	_, err := c.NewJobs(ctx, q)
	if !errors.Is(err, backup.ErrPaging) || !strings.HasSuffix(err.Error(), ": 3 pages in a row held no new task at offset 6 (is offset ignored?)") {
		t.Errorf("offset ignored: %v", err)
	}
	sim.RemoveFault(id)
	c2 := newTestClient(t, sim, clk, func(o *Options) { o.PageSize = 1; o.MaxPages = 3 })
	_, err = c2.NewJobs(ctx, q)
	if !errors.Is(err, backup.ErrPaging) || !strings.HasPrefix(err.Error(), "list_operation_logs: window ") ||
		!strings.HasSuffix(err.Error(), ": more than 3 pages (Options.MaxPages)") {
		t.Errorf("page cap: %v", err)
	}
}

func TestRecheck(t *testing.T) {
	for _, filter := range []string{"created_at", "updated_at"} {
		t.Run(filter, func(t *testing.T) {
			now := time.Date(2025, 6, 3, 2, 30, 0, 0, time.UTC)
			clk := &clock{t: now}
			sim := newSim(t, cbrtest.Options{TimeFilter: filter}, clk)
			run := time.Date(2025, 6, 3, 2, 0, 0, 0, time.UTC)
			var open []backup.Job
			for i, st := range []string{"running", "running", "waiting", "waiting", "running", "running", "paused"} {
				l := cbrtest.OperationLog{ID: fmt.Sprintf("t%d", i), Status: st, Created: run.Add(time.Duration(i) * time.Second), Updated: run.Add(time.Minute)}
				sim.AddLogs(l)
				open = append(open, backup.Job{ID: l.ID, Created: l.Created, Status: MapStatus(st), RawStatus: st})
			}
			// Old history that must not be read.
			for d := 1; d <= 100; d++ {
				sim.AddLogs(cbrtest.OperationLog{Status: "success", Created: run.AddDate(0, 0, -d)})
			}
			end := now.Add(5 * time.Minute)
			sim.FinishLog("t0", "success", end)
			sim.FinishLog("t2", "skipped", end)
			sim.UpdateLog("t3", func(l *cbrtest.OperationLog) { l.Status, l.Updated = "running", end })
			sim.FinishLog("t4", "failed", end)
			sim.RemoveLog("t5")
			clk.Add(10 * time.Minute)
			c := newTestClient(t, sim, clk, nil)
			res, err := c.Recheck(context.Background(), append(open, backup.Job{Status: backup.StatusRunning}))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, j := range res.Jobs {
				got[j.ID] = j.Status.String()
			}
			want := map[string]string{"t0": "EXECUTE_SUCCESS", "t1": "RUNNING", "t2": "SKIP", "t3": "RUNNING", "t4": "EXECUTE_FAIL", "t6": "UNKNOWN"}
			if !reflect.DeepEqual(got, want) || !slices.Equal(res.Gone, []string{"t5"}) || res.Unchecked != nil {
				t.Errorf("jobs %v, gone %v, unchecked %v; want %v, [t5]", got, res.Gone, res.Unchecked, want)
			}
			var statuses []string
			for _, q := range sim.Queries(cbrtest.OpListOperationLogs) {
				statuses = append(statuses, q.Get("status")+"@"+q.Get("start_time"))
			}
			// running and waiting since the oldest open task minus the
			// overlap (one page each, plus the empty page), then the window
			// around the tasks that left them, then t5 alone (gone).
			wantQ := []string{"running@2025-06-02T23:00:00Z", "running@2025-06-02T23:00:00Z", "waiting@2025-06-02T23:00:00Z",
				"@2025-06-02T23:00:00Z", "@2025-06-02T23:00:00Z"}
			if filter == "created_at" && !slices.Equal(statuses, wantQ) {
				t.Errorf("queries %q, want %q", statuses, wantQ)
			}
			if n := sim.Requests(cbrtest.OpShowOperationLog); n != 1 {
				t.Errorf("%d single reads, want 1", n)
			}
		})
	}
}

func TestRecheckSingleCap(t *testing.T) {
	now := time.Now().UTC()
	clk := &clock{t: now}
	sim := newSim(t, cbrtest.Options{}, clk)
	var open []backup.Job
	for i := range 5 {
		open = append(open, backup.Job{ID: fmt.Sprintf("x%d", i), Created: now.Add(-time.Hour), Status: backup.StatusRunning})
	}
	c := newTestClient(t, sim, clk, func(o *Options) { o.MaxSingleChecks = 2 })
	res, err := c.Recheck(context.Background(), open)
	if err != nil || !slices.Equal(res.Gone, []string{"x0", "x1"}) || !slices.Equal(res.Unchecked, []string{"x2", "x3", "x4"}) {
		t.Errorf("gone %v, unchecked %v, err %v", res.Gone, res.Unchecked, err)
	}
	if res, err := c.Recheck(context.Background(), nil); err != nil || res.Jobs != nil || sim.Requests(cbrtest.OpListOperationLogs) != 3 {
		t.Errorf("empty recheck made requests: %v %v", res, err)
	}
}

func TestMergeKeepsLatest(t *testing.T) {
	t0 := time.Date(2025, 6, 3, 2, 0, 0, 0, time.UTC)
	var jobs []backup.Job
	seen := map[string]int{}
	merge(&jobs, seen, backup.Job{ID: "a", Status: backup.StatusRunning, Updated: t0})
	merge(&jobs, seen, backup.Job{ID: "b", Updated: t0})
	merge(&jobs, seen, backup.Job{ID: "a", Status: backup.StatusSuccess, Updated: t0.Add(time.Minute)})
	merge(&jobs, seen, backup.Job{ID: "a", Status: backup.StatusWaiting, Updated: t0.Add(time.Second)})
	if len(jobs) != 2 || jobs[0].Status != backup.StatusSuccess || jobs[1].ID != "b" {
		t.Errorf("merge: %+v", jobs)
	}
}

func TestSlowServerAndRetries(t *testing.T) {
	now := time.Now().UTC()
	clk := &clock{t: now}
	sim := newSim(t, cbrtest.Options{}, clk)
	sim.AddLogs(cbrtest.OperationLog{ID: "a", Status: "success", Created: now.Add(-time.Hour)})
	c := newTestClient(t, sim, clk, nil)
	// A slow response past the caller's deadline.
	sim.AddFault(cbrtest.Fault{Op: cbrtest.OpListOperationLogs, Delay: 5 * time.Second, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	b, err := c.NewJobs(ctx, backup.JobQuery{NotBefore: now.Add(-2 * time.Hour)})
	if !errors.Is(err, context.DeadlineExceeded) || b.Complete || b.Next != "" {
		t.Errorf("slow: %v, complete %v, next %q", err, b.Complete, b.Next)
	}
	// Two 503s are retried; the third attempt succeeds.
	sim.ClearFaults()
	sim.ResetCounters()
	sim.AddFault(cbrtest.Fault{Op: cbrtest.OpListOperationLogs, Status: 503, Times: 2})
	b, err = c.NewJobs(context.Background(), backup.JobQuery{NotBefore: now.Add(-2 * time.Hour)})
	if err != nil || len(b.Jobs) != 1 || sim.Requests(cbrtest.OpListOperationLogs) != 4 {
		t.Errorf("retries: %v, %d jobs, %d requests", err, len(b.Jobs), sim.Requests(cbrtest.OpListOperationLogs))
	}
	// A cursor ahead of the clock still reads the last Overlap.
	b, err = c.NewJobs(context.Background(), backup.JobQuery{Cursor: cursorOf(now.Add(48 * time.Hour))})
	if err != nil || len(b.Jobs) != 1 {
		t.Errorf("future cursor: %v, %d jobs", err, len(b.Jobs))
	}
}

func TestNewOptions(t *testing.T) {
	auth := hwcloud.NewStaticToken("t")
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Region: "eu-west-101", Auth: auth}, "cbr: project ID is empty"},
		{Options{Region: "eu-west-101", ProjectID: "p"}, "cbr: no Authenticator (Options.Auth)"},
		{Options{Region: "eu-west-101", ProjectID: "a/b", Auth: auth}, `cbr: project ID "a/b" is not a valid path segment`},
		{Options{Region: "eu-west-101", ProjectID: "p", Auth: auth, PageSize: 2000}, "cbr: Options.PageSize and VaultPageSize must not exceed 1000"},
		{Options{Region: "eu-west-101", ProjectID: "p", Auth: auth, Overlap: -1}, "cbr: Options.Overlap is negative"},
	} {
		if _, err := New(tc.o); err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
	c, err := New(Options{Region: "eu-west-101", ProjectID: "p", Auth: auth})
	if err != nil || c.String() != `cbr.Client(project "p", endpoint https://cbr.eu-west-101.myhuaweicloud.com, auth static token (redacted))` {
		t.Errorf("default endpoint: %v %v", c, err)
	}
}

// TestDemoScenarioThroughClient reads the demo account end to end.
func TestDemoScenarioThroughClient(t *testing.T) {
	now := time.Date(2025, 6, 4, 9, 0, 0, 0, time.UTC) // a Wednesday
	clk := &clock{t: now}
	sim := newSim(t, cbrtest.Options{}, clk)
	sim.Load(cbrtest.DemoScenario(now))
	c := newTestClient(t, sim, clk, nil)
	ctx := context.Background()
	inv, err := c.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type pol struct {
		name      string
		enabled   bool
		resources int
		interval  time.Duration
	}
	var gotP []pol
	for _, p := range inv.Policies {
		gotP = append(gotP, pol{p.Name, p.Enabled, p.ResourceCount, p.ExpectedInterval()})
	}
	wantP := []pol{{"nightly-disks", true, 2, 24 * time.Hour}, {"weekend-servers", true, 3, 132 * time.Hour}, {"paused", false, 0, 24 * time.Hour}}
	if !reflect.DeepEqual(gotP, wantP) {
		t.Errorf("policies %+v, want %+v", gotP, wantP)
	}
	full := inv.Vaults[1]
	if full.Name != "vault-servers" || full.CapacityBytes != 100<<30 || full.UsedBytes != 95<<30 || len(full.PolicyIDs) != 1 {
		t.Errorf("vault %+v", full)
	}
	b, err := c.NewJobs(ctx, backup.JobQuery{NotBefore: now.AddDate(0, 0, -7)})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, j := range b.Jobs {
		count[j.Status.String()]++
		if j.PolicyID == "" && (j.ResourceName != "data-disk-02" || j.Status != backup.StatusSuccess) {
			t.Errorf("manual backup %+v", j)
		}
		if j.Status == backup.StatusUnknown && j.RawStatus != "paused" {
			t.Errorf("unknown %+v", j)
		}
	}
	want := map[string]int{"EXECUTE_SUCCESS": 7, "EXECUTE_FAIL": 1, "EXECUTE_TIMEOUT": 1, "SKIP": 1, "RUNNING": 1, "WAITING": 1, "UNKNOWN": 1}
	if !reflect.DeepEqual(count, want) {
		t.Errorf("statuses %v, want %v", count, want)
	}
}

// A vault list that fails before any was read fails the inventory: without
// vaults every policy would count 0 resources. Once one was read, a failing
// list serves the last one, with VaultsErr, and current policies.
func TestInventoryVaultListFails(t *testing.T) {
	clk := &clock{t: time.Date(2025, 6, 3, 3, 0, 0, 0, time.UTC)}
	sim := newSim(t, cbrtest.Options{}, clk)
	sim.AddVault(cbrtest.Vault{ID: "v1", Name: "vault-a", SizeGB: 200, UsedMB: 1024,
		Resources: []cbrtest.Resource{{ID: "d1", Type: "OS::Cinder::Volume"}, {ID: "d2", Type: "OS::Cinder::Volume"}}})
	sim.AddPolicy(cbrtest.Policy{ID: "p1", Name: "daily", Enabled: true, VaultIDs: []string{"v1"}})
	c := newTestClient(t, sim, clk, nil)
	ctx := context.Background()

	id := sim.AddFault(cbrtest.Fault{Op: cbrtest.OpListVaults, Status: 403, Code: "BackupService.0001", Message: "not allowed"})
	if _, err := c.Inventory(ctx); err == nil {
		t.Fatal("the first inventory succeeded without a vault list")
	}
	sim.RemoveFault(id)
	first, err := c.Inventory(ctx)
	if err != nil || first.VaultsErr != nil || len(first.Vaults) != 1 || first.Policies[0].ResourceCount != 2 {
		t.Fatalf("inventory = %+v, %v", first, err)
	}

	sim.AddPolicy(cbrtest.Policy{ID: "p2", Name: "weekly", Enabled: true, VaultIDs: []string{"v1"}})
	sim.AddFault(cbrtest.Fault{Op: cbrtest.OpListVaults, Status: 403, Code: "BackupService.0001", Message: "not allowed"})
	inv, err := c.Inventory(ctx)
	if err != nil {
		t.Fatalf("inventory with a failing vault list after a good one: %v", err)
	}
	if inv.VaultsErr == nil || !strings.Contains(inv.VaultsErr.Error(), "403") {
		t.Errorf("VaultsErr = %v, want the 403", inv.VaultsErr)
	}
	if len(inv.Policies) != 2 || inv.Policies[0].ResourceCount != 2 || inv.Policies[1].ResourceCount != 2 {
		t.Errorf("policies %+v: want both current, with the last vault list's 2 resources", inv.Policies)
	}
	if len(inv.Vaults) != 1 || inv.Vaults[0].ID != "v1" || !reflect.DeepEqual(inv.Vaults[0].PolicyIDs, []string{"p1", "p2"}) {
		t.Errorf("vaults %+v: want the last list, associated anew", inv.Vaults)
	}
	if !reflect.DeepEqual(first.Vaults[0].PolicyIDs, []string{"p1"}) {
		t.Errorf("the earlier inventory's vaults changed: %+v", first.Vaults[0].PolicyIDs)
	}
}
