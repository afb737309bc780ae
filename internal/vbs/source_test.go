package vbs

import (
	"context"
	"errors"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// JobOf maps every documented status to its backup.Status, keeps the API's
// word, and an undocumented status is StatusUnknown.
func TestJobOf(t *testing.T) {
	created := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		raw  Status
		want backup.Status
	}{
		{StatusRunning, backup.StatusRunning}, {StatusWaiting, backup.StatusWaiting},
		{StatusExecuteSuccess, backup.StatusSuccess}, {StatusExecuteFail, backup.StatusFail},
		{StatusExecuteTimeout, backup.StatusTimeout}, {StatusSkip, backup.StatusSkip},
		{"FROZEN", backup.StatusUnknown}, {"", backup.StatusUnknown},
	} {
		got := JobOf(Task{JobID: "j1", Status: tt.raw, ResourceID: "vol-1", ResourceType: "volume",
			CreatedAt: created, FinishedAt: created.Add(time.Minute), Code: "VBS.1", Message: "m"})
		want := backup.Job{ID: "j1", ResourceID: "vol-1", ResourceType: "volume", Status: tt.want, RawStatus: string(tt.raw),
			Created: created, Finished: created.Add(time.Minute), ErrorCode: "VBS.1", ErrorMessage: "m"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("JobOf(status %q) = %+v\nwant %+v", tt.raw, got, want)
		}
	}
}

// The client as a backup.PolicySource against the simulator: policies in
// the model, a walk with PolicyID set, a resume after a job the API no
// longer has refused as backup.ErrResumeRefused (the API's 400), and an
// unknown policy ErrNotFound: no HTTP status needed to tell them apart.
func TestSourceOverSimulator(t *testing.T) {
	sim := vbstest.NewServer(vbstest.Options{})
	defer sim.Close()
	sim.AddPolicy(vbstest.Policy{ID: "pol-1", Name: "daily", StartTime: "02:00", Frequency: 1, Enabled: true, ResourceCount: 2})
	base := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	sim.AddJobs("pol-1",
		vbstest.Job{JobID: "job-1", Status: vbstest.StatusExecuteSuccess, ResourceID: "vol-1", ResourceType: "volume", CreatedAt: base, FinishedAt: base.Add(time.Minute)},
		vbstest.Job{JobID: "job-2", Status: "FROZEN", ResourceID: "vol-2", ResourceType: "volume", CreatedAt: base.Add(time.Hour)},
	)
	c, err := New(Options{Endpoint: sim.URL(), ProjectID: vbstest.DefaultProjectID,
		Auth: hwcloud.NewAKSK(vbstest.DefaultAccessKey, vbstest.DefaultSecretKey, ""), Engine: hwcloud.EngineOptions{HTTPClient: sim.Client(), MaxAttempts: 1}, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var src backup.PolicySource = c
	ps, err := src.Policies(ctx)
	if err != nil || len(ps) != 1 || ps[0].ID != "pol-1" || ps[0].Name != "daily" || !ps[0].Enabled || ps[0].ResourceCount != 2 ||
		ps[0].ExpectedInterval() != 24*time.Hour {
		t.Fatalf("Policies = %+v, %v", ps, err)
	}
	var ids []string
	for j, err := range src.PolicyJobs(ctx, "pol-1", backup.PolicyJobQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		if j.PolicyID != "pol-1" {
			t.Errorf("job %s: PolicyID %q", j.ID, j.PolicyID)
		}
		ids = append(ids, j.ID+"/"+j.Status.String()+"/"+j.RawStatus)
	}
	if want := []string{"job-2/UNKNOWN/FROZEN", "job-1/EXECUTE_SUCCESS/EXECUTE_SUCCESS"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("walk %q, want %q", ids, want)
	}
	j, ok, err := src.PolicyJob(ctx, "pol-1", "job-1")
	if err != nil || !ok || j.ID != "job-1" || j.PolicyID != "pol-1" || j.Status != backup.StatusSuccess {
		t.Errorf("PolicyJob = %+v, %v, %v", j, ok, err)
	}
	if _, ok, err := src.PolicyJob(ctx, "pol-1", "job-gone"); ok || err != nil {
		t.Errorf("PolicyJob of a gone job: %v, %v; want false, nil", ok, err)
	}
	last := func(pid string, q backup.PolicyJobQuery) (n int, err error) {
		for _, e := range src.PolicyJobs(ctx, pid, q) {
			n++
			err = e
		}
		return n, err
	}
	var apiErr *hwcloud.APIError
	if n, err := last("pol-1", backup.PolicyJobQuery{After: "job-gone"}); n != 1 || !errors.Is(err, backup.ErrResumeRefused) || !errors.As(err, &apiErr) {
		t.Errorf("resume after a gone job: %d results, last %v; want one error matching backup.ErrResumeRefused", n, err)
	}
	if n, err := last("pol-gone", backup.PolicyJobQuery{}); n != 1 || !errors.Is(err, backup.ErrNotFound) || errors.Is(err, backup.ErrResumeRefused) {
		t.Errorf("unknown policy: %d results, last %v; want one error matching backup.ErrNotFound only", n, err)
	}
}

// An answer to job_id= with other jobs only is backup.ErrFilterIgnored.
func TestPolicyJobFilterIgnored(t *testing.T) {
	ignoring := &jobServer{t: t, jobs: makeJobs(30), page: func(_ string, _ int) []map[string]any { return makeJobs(30) }}
	srv := httptest.NewServer(ignoring)
	defer srv.Close()
	c := newTestClient(t, srv, nil)
	_, ok, err := c.PolicyJob(context.Background(), "pol-1", "job-99999")
	if ok || !errors.Is(err, backup.ErrFilterIgnored) || !errors.Is(err, ErrFilterIgnored) {
		t.Fatalf("filter ignored: found=%v err=%v", ok, err)
	}
}
