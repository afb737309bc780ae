package vbs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// TestSimulatorWalk10000 walks 10,000 jobs of one policy in the simulator
// (AK/SK signed with the simulator's default credentials, so every request
// is also checked by its independent signature verifier) with page size 100.
//
// It takes exactly 101 requests. Pages 1 to 100 are full, and no page but
// an empty one ends a walk (a short page does not either: the server may cap
// limit, see Client.Tasks). The simulator's count is the total (10,000), but
// the client never uses count, whose meaning vbs-api.md leaves unverified, so
// after the 100th page it asks for a 101st, which comes back empty.
func TestSimulatorWalk10000(t *testing.T) {
	t.Parallel()
	const n = 10000
	sim := vbstest.NewServer(vbstest.Options{})
	defer sim.Close()
	sim.AddPolicy(vbstest.Policy{ID: "pol-walk", Name: "walk", StartTime: "02:00", Frequency: 1, Enabled: true, ResourceCount: 1})
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	jobs := make([]vbstest.Job, n)
	for i := range jobs {
		created := base.Add(time.Duration(i) * time.Minute)
		jobs[i] = vbstest.Job{
			JobID: fmt.Sprintf("job-%05d", i), Status: vbstest.StatusExecuteSuccess,
			ResourceID: "disk-1", ResourceType: "volume", BackupName: fmt.Sprintf("autobk_%05d", i),
			CreatedAt: created, FinishedAt: created.Add(30 * time.Second),
		}
	}
	sim.AddJobs("pol-walk", jobs...)

	c, err := New(Options{
		Endpoint:  sim.URL(),
		ProjectID: vbstest.DefaultProjectID,
		Auth:      hwcloud.NewAKSK(vbstest.DefaultAccessKey, vbstest.DefaultSecretKey, ""),
		Engine:    hwcloud.EngineOptions{HTTPClient: sim.Client()},
		PageSize:  100,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seen := make(map[string]int, n)
	k := 0
	for task, err := range c.Tasks(ctx, "pol-walk", TaskQuery{}) {
		if err != nil {
			t.Fatalf("after %d jobs: %v", k, err)
		}
		// Newest first: the k-th job yielded is job n-1-k, decoded exactly.
		i := n - 1 - k
		created := base.Add(time.Duration(i) * time.Minute)
		want := Task{
			JobID: fmt.Sprintf("job-%05d", i), Status: StatusExecuteSuccess,
			ResourceID: "disk-1", ResourceType: "volume", BackupName: fmt.Sprintf("autobk_%05d", i),
			CreatedAt: created, FinishedAt: created.Add(30 * time.Second),
		}
		if task != want {
			t.Fatalf("job %d:\n got %+v\nwant %+v", k, task, want)
		}
		seen[task.JobID]++
		k++
	}
	if k != n || len(seen) != n {
		t.Fatalf("%d jobs yielded, %d distinct; want %d of each", k, len(seen), n)
	}
	for id, times := range seen {
		if times != 1 {
			t.Errorf("job %s yielded %d times", id, times)
		}
	}
	if got := sim.Requests(vbstest.OpListTasks); got != 101 {
		t.Errorf("%d list_tasks requests, want 101 (100 full pages, then an empty one)", got)
	}
}
