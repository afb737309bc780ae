package vbstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPoliciesExactJSON(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p1", Name: "plan01", StartTime: "12:00", Frequency: 1, RetentionNum: 10, RetentionDay: 30, KeepFirstBackupOfMonth: true, Enabled: true, ResourceCount: 1})
	s.AddPolicy(Policy{ID: "p2", Name: "weekly", StartTime: "02:00,14:00", WeekFrequency: []string{"MON", "THU"}, AutoResourceCount: true})
	s.AddJobs("p2", Job{JobID: "a", ResourceID: "v1"}, Job{JobID: "b", ResourceID: "v2"}, Job{JobID: "c", ResourceID: "v1"})
	s.AddPolicy(Policy{ID: "p3", Name: "odd", StartTime: "01:00", Frequency: 3, Enabled: true, ResourceCount: 4,
		Omit: []string{"backup_policy_name", "scheduled_policy.status", "scheduled_policy.remain_first_backup_of_curMonth"}})
	r := get(t, s, policiesPath(s))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	want := `{"backup_policies":[` +
		`{"backup_policy_id":"p1","backup_policy_name":"plan01","scheduled_policy":{"start_time":"12:00","frequency":1,"rentention_num":10,"rentention_day":30,"remain_first_backup_of_curMonth":"Y","status":"ON"},"policy_resource_count":1},` +
		`{"backup_policy_id":"p2","backup_policy_name":"weekly","scheduled_policy":{"start_time":"02:00,14:00","week_frequency":["MON","THU"],"remain_first_backup_of_curMonth":"N","status":"OFF"},"policy_resource_count":2},` +
		`{"backup_policy_id":"p3","scheduled_policy":{"start_time":"01:00","frequency":3},"policy_resource_count":4}]}`
	if r.body != want {
		t.Errorf("body\n got %s\nwant %s", r.body, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if id := r.header.Get("X-Request-Id"); len(id) != 32 {
		t.Errorf("X-Request-Id %q", id)
	}

	s.RemovePolicy("p2")
	r = get(t, s, policiesPath(s))
	if strings.Contains(r.body, `"p2"`) || !strings.Contains(r.body, `"p1"`) || !strings.Contains(r.body, `"p3"`) {
		t.Errorf("after RemovePolicy: %s", r.body)
	}
	if got := s.Policies(); len(got) != 2 || got[0].ID != "p1" || got[1].ID != "p3" {
		t.Errorf("Policies() = %+v", got)
	}
}

func TestEmptyPolicies(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	if r := get(t, s, policiesPath(s)); r.body != `{"backup_policies":[]}` {
		t.Errorf("body %s", r.body)
	}
}

func TestTasksExactJSON(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p", Enabled: true})
	c := time.Date(2016, 12, 2, 9, 6, 46, 706_000_000, time.UTC)
	s.AddJobs("p",
		Job{JobID: "c11b5a18", Status: StatusExecuteSuccess, ResourceID: "f47a4ab5", ResourceType: "volume", BackupName: "autobk_e6d2",
			CreatedAt: c, FinishedAt: time.Date(2016, 12, 2, 13, 0, 0, 121_000_000, time.UTC)},
		Job{JobID: "0781095c", Status: StatusRunning, ResourceID: "f47a4ab5", ResourceType: "volume", BackupName: "autobk_a61d",
			CreatedAt: time.Date(2016, 12, 3, 6, 24, 34, 467_000_000, time.FixedZone("x", 3600)).In(time.UTC)},
		Job{JobID: "e1", Status: StatusExecuteFail, ResourceID: "r", ResourceType: "volume", BackupName: "b", VBSJobID: "v-1",
			Message: "boom \"quoted\"", Code: 123, CreatedAt: c.Add(-time.Hour), RawFinishedAt: "2016-12-02T09:00:00Z"},
		Job{JobID: "e2", Status: StatusExecuteFail, Code: "VolumeBackup.0064", RawCreatedAt: "garbage", CreatedAt: c.Add(-2 * time.Hour),
			Omit: []string{"resource_id", "resource_type", "backup_name", "status"}},
	)
	r := get(t, s, tasksPath(s, "p"))
	want := `{"tasks":[` +
		`{"status":"RUNNING","job_id":"0781095c","created_at":"2016-12-03T05:24:34.467","backup_name":"autobk_a61d","resource_id":"f47a4ab5","resource_type":"volume"},` +
		`{"status":"EXECUTE_SUCCESS","job_id":"c11b5a18","created_at":"2016-12-02T09:06:46.706","finished_at":"2016-12-02T13:00:00.121","backup_name":"autobk_e6d2","resource_id":"f47a4ab5","resource_type":"volume"},` +
		`{"status":"EXECUTE_FAIL","job_id":"e1","created_at":"2016-12-02T08:06:46.706","finished_at":"2016-12-02T09:00:00Z","backup_name":"b","resource_id":"r","resource_type":"volume","vbs_job_id":"v-1","message":"boom \"quoted\"","code":123},` +
		`{"job_id":"e2","created_at":"garbage","code":"VolumeBackup.0064"}` +
		`],"count":4}`
	if r.body != want {
		t.Errorf("body\n got %s\nwant %s", r.body, want)
	}
}

func TestPagingByMarker10000(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p", Enabled: true})
	s.AddJobs("p", seqJobs(10000, testNow.Add(-10000*time.Minute))...)
	seen := map[string]int{}
	marker, requests := "", 0
	var prev string
	for {
		q := [][2]string{{"sort_key", "created_at"}, {"sort_dir", "desc"}, {"limit", "100"}}
		if marker != "" {
			q = append(q, [2]string{"marker", marker})
		}
		page := decodeTasks(t, get(t, s, tasksPath(s, "p"), q...))
		requests++
		if page.Count != 10000 {
			t.Fatalf("count %d", page.Count)
		}
		if len(page.Tasks) == 0 {
			break
		}
		if len(page.Tasks) != 100 {
			t.Fatalf("page %d has %d tasks", requests, len(page.Tasks))
		}
		for _, tk := range page.Tasks {
			seen[tk.JobID]++
			if prev != "" && tk.JobID >= prev {
				t.Fatalf("not newest first: %s after %s", tk.JobID, prev)
			}
			prev = tk.JobID
		}
		marker = page.Tasks[len(page.Tasks)-1].JobID
	}
	// 100 full pages, then one empty page that ends the walk.
	if requests != 101 {
		t.Errorf("requests = %d, want 101", requests)
	}
	if len(seen) != 10000 {
		t.Errorf("distinct jobs = %d", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("job %s seen %d times", id, n)
		}
	}
	if got := s.Requests(OpListTasks); got != 101 {
		t.Errorf("Requests(OpListTasks) = %d", got)
	}
}

func TestPagingAscAndOffset(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p"})
	s.AddJobs("p", seqJobs(10, testNow.Add(-time.Hour))...)
	cases := []struct {
		q    [][2]string
		want []string
	}{
		{nil, []string{"job-00009", "job-00008", "job-00007", "job-00006", "job-00005", "job-00004", "job-00003", "job-00002", "job-00001", "job-00000"}},
		{[][2]string{{"sort_dir", "asc"}, {"limit", "3"}}, []string{"job-00000", "job-00001", "job-00002"}},
		{[][2]string{{"sort_dir", "asc"}, {"limit", "3"}, {"marker", "job-00002"}}, []string{"job-00003", "job-00004", "job-00005"}},
		{[][2]string{{"sort_dir", "asc"}, {"marker", "job-00009"}}, []string{}},
		{[][2]string{{"limit", "3"}, {"marker", "job-00007"}}, []string{"job-00006", "job-00005", "job-00004"}},
		{[][2]string{{"limit", "3"}, {"offset", "2"}}, []string{"job-00007", "job-00006", "job-00005"}},
		{[][2]string{{"limit", "2"}, {"offset", "1"}, {"marker", "job-00007"}}, []string{"job-00005", "job-00004"}},
		{[][2]string{{"offset", "10"}}, []string{}},
		{[][2]string{{"limit", "5000"}, {"sort_dir", "asc"}, {"offset", "8"}}, []string{"job-00008", "job-00009"}},
	}
	for _, c := range cases {
		page := decodeTasks(t, get(t, s, tasksPath(s, "p"), c.q...))
		if got := ids(page.Tasks); !slices.Equal(got, c.want) {
			t.Errorf("%v: got %v, want %v", c.q, got, c.want)
		}
		if page.Count != 10 {
			t.Errorf("%v: count %d", c.q, page.Count)
		}
	}
}

func TestTieBreakByJobID(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p"})
	for _, id := range []string{"b", "d", "a", "c"} {
		s.AddJobs("p", Job{JobID: id, CreatedAt: testNow})
	}
	s.AddJobs("p", Job{JobID: "z", CreatedAt: testNow.Add(-time.Second)})
	page := decodeTasks(t, get(t, s, tasksPath(s, "p"), [2]string{"limit", "2"}, [2]string{"marker", "c"}))
	if got := ids(page.Tasks); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("desc after c: %v", got)
	}
	page = decodeTasks(t, get(t, s, tasksPath(s, "p"), [2]string{"sort_dir", "asc"}))
	if got := ids(page.Tasks); !slices.Equal(got, []string{"z", "a", "b", "c", "d"}) {
		t.Errorf("asc: %v", got)
	}
}

func TestFilters(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p"})
	jobs := seqJobs(20, testNow.Add(-time.Hour))
	for i := range jobs {
		switch i % 4 {
		case 1:
			jobs[i].Status = StatusExecuteFail
		case 2:
			jobs[i].Status = StatusRunning
		}
	}
	s.AddJobs("p", jobs...)
	cases := []struct {
		q     [][2]string
		want  []string
		count int
	}{
		{[][2]string{{"status", "EXECUTE_FAIL"}}, []string{"job-00017", "job-00013", "job-00009", "job-00005", "job-00001"}, 5},
		{[][2]string{{"status", "EXECUTE_FAIL"}, {"limit", "2"}}, []string{"job-00017", "job-00013"}, 5},
		{[][2]string{{"status", "EXECUTE_FAIL"}, {"limit", "2"}, {"marker", "job-00013"}}, []string{"job-00009", "job-00005"}, 5},
		{[][2]string{{"status", "EXECUTE_FAIL"}, {"marker", "job-00012"}}, []string{"job-00009", "job-00005", "job-00001"}, 5},
		{[][2]string{{"status", "EXECUTE_FAIL"}, {"offset", "3"}}, []string{"job-00005", "job-00001"}, 5},
		{[][2]string{{"status", "EXECUTE_FAIL"}, {"sort_dir", "asc"}, {"limit", "2"}}, []string{"job-00001", "job-00005"}, 5},
		{[][2]string{{"status", "SKIP"}}, []string{}, 0},
		{[][2]string{{"job_id", "job-00006"}}, []string{"job-00006"}, 1},
		{[][2]string{{"job_id", "job-00006"}, {"status", "RUNNING"}}, []string{"job-00006"}, 1},
		{[][2]string{{"job_id", "job-00006"}, {"status", "EXECUTE_FAIL"}}, []string{}, 0},
		{[][2]string{{"job_id", "nope"}}, []string{}, 0},
		{[][2]string{{"job_id", "job-00006"}, {"marker", "job-00010"}}, []string{"job-00006"}, 1},
		{[][2]string{{"job_id", "job-00006"}, {"marker", "job-00003"}}, []string{}, 1},
		{[][2]string{{"status", ""}, {"limit", "1"}}, []string{"job-00019"}, 20},
	}
	for _, c := range cases {
		page := decodeTasks(t, get(t, s, tasksPath(s, "p"), c.q...))
		if got := ids(page.Tasks); !slices.Equal(got, c.want) || page.Count != c.count {
			t.Errorf("%v: got %v count %d, want %v count %d", c.q, got, page.Count, c.want, c.count)
		}
	}
}

func TestQueryErrors(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p"})
	s.AddJobs("p", seqJobs(3, testNow)...)
	cases := []struct {
		q   [2]string
		msg string
	}{
		{[2]string{"sort_dir", "DESC"}, "invalid sort_dir: must be asc or desc"},
		{[2]string{"sort_key", "finished_at"}, "invalid sort_key: must be created_at"},
		{[2]string{"limit", "x"}, "invalid limit"},
		{[2]string{"limit", "0"}, "invalid limit"},
		{[2]string{"limit", "-5"}, "invalid limit"},
		{[2]string{"offset", "-1"}, "invalid offset"},
		{[2]string{"offset", "1.5"}, "invalid offset"},
		{[2]string{"status", "DONE"}, "invalid status"},
		{[2]string{"marker", "unknown-job"}, "invalid marker"},
	}
	for _, c := range cases {
		r := get(t, s, tasksPath(s, "p"), c.q)
		want := `{"error":{"code":"VolumeBackup.0001","message":"` + c.msg + `"}}`
		if r.status != http.StatusBadRequest || r.body != want {
			t.Errorf("%v: %d %s, want 400 %s", c.q, r.status, r.body, want)
		}
	}
}

func TestLimitClampedAndDefault(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p"})
	s.AddJobs("p", seqJobs(1200, testNow.Add(-2000*time.Minute))...)
	if page := decodeTasks(t, get(t, s, tasksPath(s, "p"))); len(page.Tasks) != 20 || page.Count != 1200 {
		t.Errorf("default: %d tasks, count %d", len(page.Tasks), page.Count)
	}
	if page := decodeTasks(t, get(t, s, tasksPath(s, "p"), [2]string{"limit", "1001"})); len(page.Tasks) != 1000 {
		t.Errorf("limit 1001: %d tasks", len(page.Tasks))
	}
	s2, _ := newTestServer(t, Options{MaxLimit: 7})
	s2.AddPolicy(Policy{ID: "p"})
	s2.AddJobs("p", seqJobs(10, testNow)...)
	if page := decodeTasks(t, get(t, s2, tasksPath(s2, "p"), [2]string{"limit", "100"})); len(page.Tasks) != 7 {
		t.Errorf("MaxLimit 7: %d tasks", len(page.Tasks))
	}
}

// With CountIsPageSize, count is the number of jobs on the page.
func TestCountIsPageSize(t *testing.T) {
	s, _ := newTestServer(t, Options{CountIsPageSize: true, MaxLimit: 100})
	s.AddPolicy(Policy{ID: "p"})
	s.AddJobs("p", seqJobs(250, testNow.Add(-300*time.Minute))...)
	if page := decodeTasks(t, get(t, s, tasksPath(s, "p"), [2]string{"limit", "1000"})); len(page.Tasks) != 100 || page.Count != 100 {
		t.Errorf("limit 1000 against a cap of 100: %d tasks, count %d; want 100 and 100", len(page.Tasks), page.Count)
	}
	last := "job-00050" // the 200th newest: 50 older jobs follow
	if page := decodeTasks(t, get(t, s, tasksPath(s, "p"), [2]string{"limit", "100"}, [2]string{"marker", last})); len(page.Tasks) != 50 || page.Count != 50 {
		t.Errorf("last page: %d tasks, count %d; want 50 and 50", len(page.Tasks), page.Count)
	}
}

func TestRoutingErrors(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p"})
	s.AddJobs("orphan", Job{JobID: "j"})

	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	r := get(t, s, tasksPath(s, "missing"))
	if r.status != 404 || r.body != `{"error":{"code":"AutoBackup.0205","message":"The backup policy does not exist."}}` {
		t.Errorf("unknown policy: %d %s", r.status, r.body)
	}
	if r := get(t, s, tasksPath(s, "orphan")); r.status != 404 {
		t.Errorf("jobs without policy: %d %s", r.status, r.body)
	}
	s.AddPolicy(Policy{ID: "orphan"})
	if page := decodeTasks(t, get(t, s, tasksPath(s, "orphan"))); page.Count != 1 {
		t.Errorf("orphan after AddPolicy: %+v", page)
	}
	s.RemovePolicy("orphan")
	if r := get(t, s, tasksPath(s, "orphan")); r.status != 404 {
		t.Errorf("removed policy: %d", r.status)
	}

	r = get(t, s, "/v2/0000000000000000000000000000000f/backuppolicy")
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.status != 403 || body.Error.Code != codeProjectMismatch {
		t.Errorf("wrong project: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/v2/" + DefaultProjectID + "/backuppolicy/", "/v1/x", "/", "/v2/" + DefaultProjectID + "/backuppolicy/p/backuptasks/extra", "/v2//backuppolicy"} {
		r := get(t, s, p)
		want := `{"error_code":"APIGW.0101","error_msg":"The API does not exist or has not been published in the environment","request_id":"` + r.header.Get("X-Request-Id") + `"}`
		if r.status != 404 || r.body != want {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
	req := defaultSigner(s).request(t, s.URL(), http.MethodPost, policiesPath(s), nil, []byte("{}"))
	if r := do(t, req); r.status != 404 {
		t.Errorf("POST policies: %d", r.status)
	}
	if got := s.Requests(opOther); got != 6 {
		t.Errorf("Requests(OpOther) = %d", got)
	}
}

func TestMutations(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p"})
	s.AddJobs("p", Job{JobID: "r1", Status: StatusRunning, CreatedAt: testNow.Add(-time.Hour)})
	page := decodeTasks(t, get(t, s, tasksPath(s, "p")))
	if page.Tasks[0].Status != StatusRunning || page.Tasks[0].FinishedAt != "" {
		t.Fatalf("before: %+v", page.Tasks)
	}
	fin := testNow.Add(-time.Minute + 5*time.Millisecond)
	if err := s.FinishJob("p", "r1", StatusExecuteSuccess, fin); err != nil {
		t.Fatal(err)
	}
	page = decodeTasks(t, get(t, s, tasksPath(s, "p"), [2]string{"status", StatusExecuteSuccess}))
	if len(page.Tasks) != 1 || page.Tasks[0].FinishedAt != "2026-11-27T11:59:00.005" || page.Count != 1 {
		t.Fatalf("after FinishJob: %+v", page)
	}
	// Upsert by job ID, new jobs sort in.
	s.AddJobs("p", Job{JobID: "n1", Status: StatusWaiting, CreatedAt: testNow}, Job{JobID: "r1", Status: StatusExecuteFail, CreatedAt: testNow.Add(-2 * time.Hour)})
	got := s.Jobs("p")
	if len(got) != 2 || got[0].JobID != "n1" || got[1].JobID != "r1" || got[1].Status != StatusExecuteFail {
		t.Fatalf("Jobs = %+v", got)
	}
	if err := s.UpdateJob("p", "n1", func(j *Job) { j.CreatedAt = testNow.Add(-3 * time.Hour); j.Omit = append(j.Omit, "status") }); err != nil {
		t.Fatal(err)
	}
	page = decodeTasks(t, get(t, s, tasksPath(s, "p")))
	if got := ids(page.Tasks); !slices.Equal(got, []string{"r1", "n1"}) || page.Tasks[1].Status != "" {
		t.Errorf("after UpdateJob: %+v", page.Tasks)
	}
	if err := s.UpdateJob("p", "n1", func(j *Job) { j.JobID = "x" }); err == nil {
		t.Error("UpdateJob changing the ID: no error")
	}
	if err := s.FinishJob("p", "nope", StatusSkip, testNow); err == nil {
		t.Error("FinishJob unknown job: no error")
	}
	if err := s.FinishJob("nope", "r1", StatusSkip, testNow); err == nil {
		t.Error("FinishJob unknown policy: no error")
	}
	// Jobs returns copies.
	got = s.Jobs("p")
	got[0].Status = "MUTATED"
	if s.Jobs("p")[0].Status == "MUTATED" {
		t.Error("Jobs does not copy")
	}
	if s.Jobs("nope") != nil {
		t.Error("Jobs of unknown policy not nil")
	}
}

func TestLoadReplacesState(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "old"})
	sc := Generate(GenOptions{Policies: 2, Disks: 2, Days: 2, Seed: 1})
	s.Load(sc)
	pols := s.Policies()
	if len(pols) != 2 || pols[0].ID != sc.Policies[0].ID || pols[1].ID != sc.Policies[1].ID {
		t.Fatalf("Policies = %+v", pols)
	}
	for _, p := range sc.Policies {
		got := s.Jobs(p.ID)
		if len(got) != len(sc.Jobs[p.ID]) {
			t.Fatalf("policy %s: %d jobs, want %d", p.ID, len(got), len(sc.Jobs[p.ID]))
		}
		for i := range got {
			if got[i].JobID != sc.Jobs[p.ID][i].JobID {
				t.Fatalf("order differs at %d", i)
			}
		}
	}
	if r := get(t, s, tasksPath(s, "old")); r.status != 404 {
		t.Errorf("old policy: %d", r.status)
	}
}

func TestCountersAndLog(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p"})
	get(t, s, policiesPath(s))
	get(t, s, tasksPath(s, "p"), [2]string{"limit", "5"})
	r := do(t, mustRequest(t, http.MethodGet, s.URL()+tasksPath(s, "p"))) // unauthenticated
	if r.status != 401 {
		t.Fatalf("unauthenticated: %d", r.status)
	}
	if s.Requests(OpListPolicies) != 1 || s.Requests(OpListTasks) != 2 || s.Requests(OpIAMToken) != 0 || s.Requests("") != 3 {
		t.Errorf("counters: %d %d %d %d", s.Requests(OpListPolicies), s.Requests(OpListTasks), s.Requests(OpIAMToken), s.Requests(""))
	}
	log := s.RequestLog(OpListTasks)
	if len(log) != 2 || log[0].RawQuery != "limit=5" || log[0].Status != 200 || log[0].Auth != "aksk" || log[0].canonicalRequest == "" ||
		log[1].Status != 401 || log[1].header.Get("Host") == "" {
		t.Errorf("log: %+v", log)
	}
	s.ResetCounters()
	if s.Requests("") != 0 || len(s.RequestLog("")) != 0 {
		t.Error("ResetCounters did not reset")
	}
}

func mustRequest(t testing.TB, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestRequestLogBounded(t *testing.T) {
	s := newHandler(Options{SkipAuth: true})
	defer s.Close()
	for i := range requestLogSize + 10 {
		req := mustRequest(t, http.MethodGet, fmt.Sprintf("/x/%d", i))
		s.ServeHTTP(discardWriter{h: http.Header{}}, req)
	}
	log := s.RequestLog("")
	if len(log) != requestLogSize || log[0].Path != "/x/10" || log[len(log)-1].Path != fmt.Sprintf("/x/%d", requestLogSize+9) {
		t.Errorf("log: %d entries, first %s", len(log), log[0].Path)
	}
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// TestConcurrentMutationAndPaging pages through a policy while jobs are added,
// finished and updated; run with -race. Cursor paging must never return a job
// twice in one walk.
func TestConcurrentMutationAndPaging(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t, Options{})
	s.AddPolicy(Policy{ID: "p"})
	s.AddJobs("p", seqJobs(2000, testNow.Add(-3000*time.Minute))...)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprintf("new-%05d", i)
			s.AddJobs("p", Job{JobID: id, Status: StatusRunning, CreatedAt: testNow.Add(time.Duration(i) * time.Second)})
			_ = s.FinishJob("p", id, StatusExecuteSuccess, testNow.Add(time.Hour))
			_ = s.UpdateJob("p", fmt.Sprintf("job-%05d", i%2000), func(j *Job) { j.Message = "touched" })
			s.AddPolicy(Policy{ID: "p", Name: fmt.Sprint(i)})
			_ = s.Jobs("p")
		}
	}()
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := map[string]bool{}
			marker := ""
			for {
				q := [][2]string{{"limit", "250"}}
				if marker != "" {
					q = append(q, [2]string{"marker", marker})
				}
				r := get(t, s, tasksPath(s, "p"), q...)
				var page tasksJSON
				if err := json.Unmarshal([]byte(r.body), &page); err != nil || r.status != 200 {
					t.Errorf("page: %d %s", r.status, r.body)
					return
				}
				if len(page.Tasks) == 0 {
					break
				}
				for _, tk := range page.Tasks {
					if seen[tk.JobID] {
						t.Errorf("job %s seen twice", tk.JobID)
						return
					}
					seen[tk.JobID] = true
				}
				marker = page.Tasks[len(page.Tasks)-1].JobID
			}
			for i := range 2000 {
				if !seen[fmt.Sprintf("job-%05d", i)] {
					t.Errorf("job-%05d missed", i)
					return
				}
			}
		}()
		_ = get(t, s, policiesPath(s))
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
}

func TestSkipAuthAndHandler(t *testing.T) {
	s := newHandler(Options{SkipAuth: true})
	if s.URL() != "" {
		t.Errorf("URL before Start = %q", s.URL())
	}
	s.start(nil)
	defer s.Close()
	s.AddPolicy(Policy{ID: "p"})
	r := do(t, mustRequest(t, http.MethodGet, s.URL()+policiesPath(s)))
	if r.status != 200 {
		t.Errorf("SkipAuth: %d %s", r.status, r.body)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q", s.URL())
	}
	if s.Client() == nil {
		t.Error("Client nil")
	}
}

func TestSetLatency(t *testing.T) {
	s, _ := newTestServer(t, Options{latency: 30 * time.Millisecond})
	if s.Options().latency != 30*time.Millisecond {
		t.Errorf("Options().Latency = %v", s.Options().latency)
	}
	start := time.Now()
	get(t, s, policiesPath(s))
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("latency %v", d)
	}
	s.SetLatency(0)
	if s.Options().latency != 0 {
		t.Error("SetLatency not reflected")
	}
}
