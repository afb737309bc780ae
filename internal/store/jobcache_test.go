package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
)

// The failure details follow their jobs when the cache is compacted, and
// go when a job no longer failed.
func TestJobCacheKeepsFailDetails(t *testing.T) {
	t.Parallel()
	c := newJobCache()
	task := func(id string, st backup.Status, day int) (jobRef, *backup.Job, time.Time) {
		tk := &backup.Job{ID: id, Status: st, RawStatus: st.String(), ResourceID: "vol-" + id, ResourceType: "volume"}
		return refOf(tk), tk, time.Date(2026, 11, day, 2, 0, 0, 0, time.UTC)
	}
	put := func(id string, st backup.Status, day int, d failDetail) bool {
		r, tk, created := task(id, st, day)
		return c.upsert(r, tk, created, d)
	}
	put("a", backup.StatusFail, 20, failDetail{jobID: "a", code: "C1", message: "m1"})
	put("b", backup.StatusSuccess, 21, failDetail{})
	put("c", backup.StatusTimeout, 22, failDetail{jobID: "c", message: "m3"})
	if put("c", backup.StatusTimeout, 22, failDetail{jobID: "c", message: "m3"}) {
		t.Error("an unchanged failed job counts as a change")
	}
	if !put("c", backup.StatusTimeout, 22, failDetail{jobID: "c", code: "C3", message: "m3"}) {
		t.Error("a new code does not count as a change")
	}
	// Drop a: the cache is compacted (in map order) and c keeps its details
	// at its new index.
	c.retain(func(r jobRef, j cachedJob) bool {
		return j.created >= time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC).UnixMilli()
	})
	rc, _, _ := task("c", backup.StatusUnknown, 0)
	ic, ok := c.lookup(rc)
	want := map[uint32]failDetail{ic: {jobID: "c", code: "C3", message: "m3"}}
	if !ok || c.len() != 2 || !reflect.DeepEqual(c.fails, want) {
		t.Errorf("fails after retain = %+v, want %+v", c.fails, want)
	}
	// A job re-read in another status forgets its failure.
	put("c", backup.StatusSuccess, 22, failDetail{})
	if len(c.fails) != 0 {
		t.Errorf("fails = %+v, want none", c.fails)
	}
}
