package vbs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// jobServer serves GET .../backuppolicy/{policy}/backuptasks from a fixed
// list of jobs, newest first, with marker paging. page, when set, replaces
// the paging logic.
type jobServer struct {
	t    *testing.T
	jobs []map[string]any
	page func(marker string, limit int) []map[string]any
	// maxLimit, when set, caps the page size like a server whose maximum
	// limit is below the client's; noCount leaves count out.
	maxLimit int
	noCount  bool
	// countPage reports count as the page's size, not the total.
	countPage bool

	mu      sync.Mutex
	queries []string // RawQuery of every request
}

func (s *jobServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.queries = append(s.queries, r.URL.RawQuery)
	s.mu.Unlock()
	if r.URL.Path != "/v2/proj-1/backuppolicy/pol-1/backuptasks" {
		w.WriteHeader(404)
		w.Write([]byte(`{"error":{"code":"AutoBackup.0205","message":"policy not found"}}`))
		return
	}
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil {
		limit = 20
	}
	if s.maxLimit > 0 {
		limit = min(limit, s.maxLimit)
	}
	marker := q.Get("marker")
	var page []map[string]any
	if s.page != nil {
		page = s.page(marker, limit)
	} else {
		start := 0
		if marker != "" {
			start = -1
			for i, j := range s.jobs {
				if j["job_id"] == marker {
					start = i + 1
				}
			}
			if start < 0 {
				w.WriteHeader(400)
				w.Write([]byte(`{"error":{"code":"VolumeBackup.0001","message":"bad marker"}}`))
				return
			}
		}
		page = s.jobs[start:min(start+limit, len(s.jobs))]
	}
	if page == nil {
		page = []map[string]any{}
	}
	if id := q.Get("job_id"); id != "" && s.page == nil {
		page = nil
		for _, j := range s.jobs {
			if j["job_id"] == id {
				page = []map[string]any{j}
			}
		}
	}
	if page == nil {
		page = []map[string]any{}
	}
	body := map[string]any{"tasks": page, "count": len(s.jobs)}
	if s.countPage {
		body["count"] = len(page)
	}
	if s.noCount {
		delete(body, "count")
	}
	json.NewEncoder(w).Encode(body)
}

func (s *jobServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

func makeJobs(n int) []map[string]any {
	jobs := make([]map[string]any, n)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range jobs {
		jobs[i] = map[string]any{
			"job_id":     fmt.Sprintf("job-%05d", i),
			"status":     "EXECUTE_SUCCESS",
			"created_at": t0.Add(-time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05.000"),
		}
	}
	return jobs
}

// collect walks the tasks and returns the job IDs and the error, if any.
func collect(t *testing.T, seq func(func(Task, error) bool)) ([]string, error) {
	t.Helper()
	var ids []string
	var walkErr error
	for task, err := range seq {
		if walkErr != nil {
			t.Fatal("yield after an error")
		}
		if err != nil {
			walkErr = err
			continue
		}
		ids = append(ids, task.JobID)
	}
	return ids, walkErr
}

func pageQuery(marker string, limit int) string {
	q := "limit=" + strconv.Itoa(limit)
	if marker != "" {
		q += "&marker=" + marker
	}
	return q + "&sort_dir=desc&sort_key=created_at"
}

// TestWalk10000 walks 10,000 jobs with page size 100: 101 requests. The
// first 100 pages are full (10,000 is a multiple of 100), and a full page
// cannot tell the client that nothing follows — only a short or empty page
// ends a walk — so the client must ask for a 101st page, which is empty.
func TestWalk10000(t *testing.T) {
	t.Parallel()
	s := &jobServer{t: t, jobs: makeJobs(10000)}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newTestClient(t, srv, nil)
	ids, err := collect(t, c.Tasks(context.Background(), "pol-1", TaskQuery{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 10000 {
		t.Fatalf("%d jobs, want 10000", len(ids))
	}
	for i, id := range ids { // each exactly once, newest first
		if want := fmt.Sprintf("job-%05d", i); id != want {
			t.Fatalf("job %d is %s, want %s", i, id, want)
		}
	}
	reqs := s.requests()
	if len(reqs) != 101 {
		t.Fatalf("%d requests, want 101", len(reqs))
	}
	for p, q := range reqs {
		marker := ""
		if p > 0 {
			marker = fmt.Sprintf("job-%05d", p*100-1)
		}
		if want := pageQuery(marker, 100); q != want {
			t.Fatalf("request %d query %q, want %q", p+1, q, want)
		}
	}
}

// TestWalkEndsOnEmptyPage: only an empty page ends a walk, never a short
// one alone, so a walk to the end costs one request more than its pages.
func TestWalkEndsOnEmptyPage(t *testing.T) {
	for _, tt := range []struct{ jobs, pageSize, wantReqs int }{
		{250, 100, 4}, // 100, 100, 50, then an empty page
		{0, 100, 1},   // an empty first page
		{99, 100, 2},
		{100, 100, 2}, // full page, then an empty one
		{7, 3, 4},
	} {
		s := &jobServer{t: t, jobs: makeJobs(tt.jobs)}
		srv := httptest.NewServer(s)
		c := newTestClient(t, srv, func(o *Options) { o.PageSize = tt.pageSize })
		ids, err := collect(t, c.Tasks(context.Background(), "pol-1", TaskQuery{}))
		srv.Close()
		if err != nil || len(ids) != tt.jobs {
			t.Errorf("%+v: %d jobs, error %v", tt, len(ids), err)
		}
		if n := len(s.requests()); n != tt.wantReqs {
			t.Errorf("%+v: %d requests, want %d", tt, n, tt.wantReqs)
		}
	}
}

// TestWalkServerCapsLimit: a server that serves at most 40 jobs a page while
// the client asks for 100. The short pages are not the last, whatever count
// says (the total, the page's size, or nothing): the walk reads every job and
// ends on the empty page. The client then reports the cap as its PageSize.
func TestWalkServerCapsLimit(t *testing.T) {
	for _, tt := range []struct {
		name               string
		noCount, countPage bool
	}{
		{"count is the total", false, false},
		{"no count", true, false},
		{"count is the page size", false, true},
	} {
		s := &jobServer{t: t, jobs: makeJobs(250), maxLimit: 40, noCount: tt.noCount, countPage: tt.countPage}
		srv := httptest.NewServer(s)
		c := newTestClient(t, srv, nil)
		if got := c.PageSize(); got != 100 {
			t.Errorf("%s: PageSize before the walk = %d, want 100", tt.name, got)
		}
		ids, err := collect(t, c.Tasks(context.Background(), "pol-1", TaskQuery{}))
		srv.Close()
		if err != nil || len(ids) != 250 {
			t.Errorf("%s: %d jobs, error %v", tt.name, len(ids), err)
		}
		if n := len(s.requests()); n != 8 { // 6 pages of 40, one of 10, then an empty one
			t.Errorf("%s: %d requests, want 8", tt.name, n)
		}
		if got := c.PageSize(); got != 40 {
			t.Errorf("%s: PageSize after the walk = %d, want 40 (the server's cap)", tt.name, got)
		}
	}
}

// TestWalkCountIsPageSize: a server whose count is the page's size and whose
// pages are as long as asked: every job is read.
func TestWalkCountIsPageSize(t *testing.T) {
	s := &jobServer{t: t, jobs: makeJobs(250), countPage: true}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newTestClient(t, srv, nil)
	ids, err := collect(t, c.Tasks(context.Background(), "pol-1", TaskQuery{}))
	if err != nil || len(ids) != 250 {
		t.Errorf("%d jobs, error %v", len(ids), err)
	}
}

// TestWalkMarkerIgnoredOnResume: a resumed walk told the marker job's
// creation time stops with a *pagingError when the API serves newer jobs
// after the marker (it ignored the marker), instead of yielding them as
// older ones.
func TestWalkMarkerIgnoredOnResume(t *testing.T) {
	jobs := makeJobs(30)
	s := &jobServer{t: t, jobs: jobs, page: func(_ string, limit int) []map[string]any { return jobs[:limit] }}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newTestClient(t, srv, func(o *Options) { o.PageSize = 10 })
	markerCreated := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(-15 * time.Minute) // job-00015
	ids, err := collect(t, c.Tasks(context.Background(), "pol-1", TaskQuery{Marker: "job-00015", MarkerCreated: markerCreated}))
	var pe *pagingError
	if len(ids) != 0 || !errors.As(err, &pe) {
		t.Fatalf("%d jobs, error %v; want none and a *PagingError", len(ids), err)
	}
	if want := `list_tasks: paging policy "pol-1" stopped at page 1 (marker "job-00015"): job "job-00000", listed after the marker job, is newer than it: the API ignored the marker`; err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
}

// TestJob: one request with job_id=; an empty answer is "gone"; an answer
// with other jobs only is ErrFilterIgnored, never "gone".
func TestJob(t *testing.T) {
	s := &jobServer{t: t, jobs: makeJobs(30)}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newTestClient(t, srv, nil)
	task, ok, err := c.Job(context.Background(), "pol-1", "job-00017")
	if err != nil || !ok || task.JobID != "job-00017" || task.Status != StatusExecuteSuccess {
		t.Errorf("known job: %+v, %v, %v", task, ok, err)
	}
	if _, ok, err := c.Job(context.Background(), "pol-1", "job-99999"); ok || err != nil {
		t.Errorf("unknown job: found=%v err=%v, want false and nil", ok, err)
	}
	want := []string{
		"job_id=job-00017&limit=100&sort_dir=desc&sort_key=created_at",
		"job_id=job-99999&limit=100&sort_dir=desc&sort_key=created_at",
	}
	if got := s.requests(); !reflect.DeepEqual(got, want) {
		t.Errorf("queries\n got %q\nwant %q", got, want)
	}
	ignoring := &jobServer{t: t, jobs: makeJobs(30), page: func(_ string, _ int) []map[string]any { return makeJobs(30) }}
	srv2 := httptest.NewServer(ignoring)
	defer srv2.Close()
	c = newTestClient(t, srv2, nil)
	_, ok, err = c.Job(context.Background(), "pol-1", "job-99999")
	if ok || !errors.Is(err, ErrFilterIgnored) {
		t.Fatalf("filter ignored: found=%v err=%v", ok, err)
	}
	if want := `list_tasks: policy "pol-1", job_id=job-99999: 30 other jobs and not this one: the API ignored the job_id filter`; err.Error() != want {
		t.Errorf("error %q", err)
	}
}

func TestWalkEarlyBreak(t *testing.T) {
	s := &jobServer{t: t, jobs: makeJobs(1000)}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newTestClient(t, srv, nil)
	n := 0
	for _, err := range c.Tasks(context.Background(), "pol-1", TaskQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 150 {
			break
		}
	}
	if got := len(s.requests()); got != 2 {
		t.Errorf("%d requests after breaking at job 150, want 2", got)
	}
}

func TestWalkQuery(t *testing.T) {
	s := &jobServer{t: t, jobs: makeJobs(30)}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newTestClient(t, srv, func(o *Options) { o.PageSize = 10 })
	ids, err := collect(t, c.Tasks(context.Background(), "pol-1", TaskQuery{status: StatusExecuteFail, Marker: "job-00009"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 20 || ids[0] != "job-00010" || ids[19] != "job-00029" {
		t.Errorf("ids %v", ids)
	}
	want := []string{
		"limit=10&marker=job-00009&sort_dir=desc&sort_key=created_at&status=EXECUTE_FAIL",
		"limit=10&marker=job-00019&sort_dir=desc&sort_key=created_at&status=EXECUTE_FAIL",
		"limit=10&marker=job-00029&sort_dir=desc&sort_key=created_at&status=EXECUTE_FAIL",
	}
	if got := s.requests(); !reflect.DeepEqual(got, want) {
		t.Errorf("queries\n got %q\nwant %q", got, want)
	}
}

func TestWalkPagingErrors(t *testing.T) {
	jobs := makeJobs(1000)
	idless := func(n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"status": "RUNNING"}
		}
		return out
	}
	tests := []struct {
		name     string
		page     func(marker string, limit int) []map[string]any
		maxPages int
		wantJobs int
		wantErr  pagingError
		wantMsg  string
		wantReqs int
	}{
		{
			name:     "marker ignored: page repeats",
			page:     func(string, int) []map[string]any { return jobs[:10] },
			wantJobs: 10, wantReqs: 2,
			wantErr: pagingError{PolicyID: "pol-1", Page: 2, Marker: "job-00009", Reason: "every job on the page (10) was already seen"},
			wantMsg: `list_tasks: paging policy "pol-1" stopped at page 2 (marker "job-00009"): every job on the page (10) was already seen`,
		},
		{
			name: "marker does not advance",
			page: func(marker string, limit int) []map[string]any {
				// Fresh jobs each time, but always ending with the same job.
				off := 10
				if marker != "" {
					off = 20
				}
				return append(append([]map[string]any{}, jobs[off:off+limit-1]...), jobs[999])
			},
			wantJobs: 19, wantReqs: 2,
			wantErr: pagingError{PolicyID: "pol-1", Page: 2, Marker: "job-00999", Reason: "the next marker equals the previous one"},
		},
		{
			name:     "too many pages",
			page:     nil,
			maxPages: 3,
			wantJobs: 30, wantReqs: 3,
			wantErr: pagingError{PolicyID: "pol-1", Page: 4, Marker: "job-00029", Reason: "more than 3 pages (the page cap of a walk)"},
			wantMsg: `list_tasks: paging policy "pol-1" stopped at page 4 (marker "job-00029"): more than 3 pages (the page cap of a walk)`,
		},
		{
			name: "page ending with a job without job_id",
			page: func(string, int) []map[string]any {
				return append(append([]map[string]any{}, jobs[:9]...), idless(1)...)
			},
			wantJobs: 10, wantReqs: 1,
			wantErr: pagingError{PolicyID: "pol-1", Page: 1, Reason: "the last job of the page has no job_id, so there is no marker for the next page"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &jobServer{t: t, jobs: jobs, page: tt.page}
			srv := httptest.NewServer(s)
			defer srv.Close()
			c := newTestClient(t, srv, func(o *Options) { o.PageSize = 10; o.maxPages = tt.maxPages })
			ids, err := collect(t, c.Tasks(context.Background(), "pol-1", TaskQuery{}))
			if len(ids) != tt.wantJobs {
				t.Errorf("%d jobs, want %d", len(ids), tt.wantJobs)
			}
			var pe *pagingError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PagingError", err)
			}
			if *pe != tt.wantErr {
				t.Errorf("got  %+v\nwant %+v", *pe, tt.wantErr)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("message %q", err.Error())
			}
			if n := len(s.requests()); n != tt.wantReqs {
				t.Errorf("%d requests, want %d", n, tt.wantReqs)
			}
		})
	}
}

func TestWalkDedupAndIDless(t *testing.T) {
	page := []map[string]any{
		{"job_id": "a", "status": "RUNNING"},
		{"status": "WAITING"},
		{"job_id": "a", "status": "EXECUTE_SUCCESS"}, // duplicate: dropped
		{"status": "WAITING"},                        // no job_id: kept
		{"job_id": "b", "status": "SKIP"},
	}
	s := &jobServer{t: t, page: func(marker string, _ int) []map[string]any {
		if marker != "" {
			return nil // the next page is empty
		}
		return page
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newTestClient(t, srv, func(o *Options) { o.PageSize = 10 })
	var got []Task
	for task, err := range c.Tasks(context.Background(), "pol-1", TaskQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, task)
	}
	want := []Task{
		{JobID: "a", Status: StatusRunning},
		{Status: StatusWaiting},
		{Status: StatusWaiting},
		{JobID: "b", Status: StatusSkip},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}

func TestWalkErrors(t *testing.T) {
	// Page 2 fails with a 500 (no retries): 10 jobs, then the error, once.
	var mu sync.Mutex
	n := 0
	jobs := makeJobs(100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		if i == 2 {
			w.WriteHeader(500)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"tasks": jobs[:10]})
	}))
	defer srv.Close()
	c := newTestClient(t, srv, func(o *Options) { o.PageSize = 10; o.Engine.MaxAttempts = 1 })
	ids, err := collect(t, c.Tasks(context.Background(), "pol-1", TaskQuery{}))
	var ae *hwcloud.APIError
	if len(ids) != 10 || !errors.As(err, &ae) || ae.StatusCode != 500 || err.Error() != "list_tasks: HTTP 500 Internal Server Error" {
		t.Errorf("%d jobs, error %v", len(ids), err)
	}

	// Unknown policy.
	s := &jobServer{t: t, jobs: jobs}
	srv2 := httptest.NewServer(s)
	defer srv2.Close()
	c = newTestClient(t, srv2, nil)
	ids, err = collect(t, c.Tasks(context.Background(), "nope", TaskQuery{}))
	if len(ids) != 0 || err == nil || err.Error() != "list_tasks: HTTP 404 AutoBackup.0205: policy not found" {
		t.Errorf("%d jobs, error %v", len(ids), err)
	}

	// Bad policy IDs never reach the server.
	for _, id := range []string{"", "a/b", ".."} {
		_, err := collect(t, c.Tasks(context.Background(), id, TaskQuery{}))
		if err == nil {
			t.Errorf("policy ID %q accepted", id)
		}
	}
	if len(s.requests()) != 1 {
		t.Errorf("%d requests", len(s.requests()))
	}

	// A cancelled context ends the walk with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = collect(t, c.Tasks(ctx, "pol-1", TaskQuery{}))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v", err)
	}
}

// TestWalkResumeSkipsRepeatedMarker: a server that repeats the marker job at
// the top of the page after it; a walk resumed from that marker does not
// yield it again.
func TestWalkResumeSkipsRepeatedMarker(t *testing.T) {
	jobs := makeJobs(5)
	s := &jobServer{t: t, jobs: jobs, page: func(marker string, limit int) []map[string]any {
		for i, j := range jobs {
			if j["job_id"] == marker {
				return jobs[i:min(i+limit, len(jobs))] // the marker job comes first again
			}
		}
		return jobs[:min(limit, len(jobs))]
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newTestClient(t, srv, nil)
	ids, err := collect(t, c.Tasks(context.Background(), "pol-1", TaskQuery{Marker: "job-00001"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"job-00002", "job-00003", "job-00004"}; !slices.Equal(ids, want) {
		t.Errorf("jobs %v, want %v", ids, want)
	}
}
