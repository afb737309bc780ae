package vbstest

import (
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"
)

func d(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, time.UTC) }

func TestScheduledRuns(t *testing.T) {
	from, to := d(20, 12), d(27, 12) // Fri 20 12:00 .. Fri 27 12:00
	cases := []struct {
		name string
		p    Policy
		want []time.Time
	}{
		{"daily", Policy{StartTime: "02:00", Frequency: 1}, []time.Time{d(21, 2), d(22, 2), d(23, 2), d(24, 2), d(25, 2), d(26, 2), d(27, 2)}},
		// Day numbers since 1970-01-01: 21 Nov 2026 is day 20778 (even).
		{"every 2 days", Policy{StartTime: "03:00", Frequency: 2}, []time.Time{d(21, 3), d(23, 3), d(25, 3), d(27, 3)}},
		{"every 3 days", Policy{StartTime: "00:00", Frequency: 3}, []time.Time{d(21, 0), d(24, 0), d(27, 0)}}, // 20778 = 3×6926
		{"weekly", Policy{StartTime: "01:00", WeekFrequency: []string{"MON", "thu"}}, []time.Time{d(23, 1), d(26, 1)}},
		{"twice daily", Policy{StartTime: "14:00, 02:00", Frequency: 1}, []time.Time{
			d(20, 14), d(21, 2), d(21, 14), d(22, 2), d(22, 14), d(23, 2), d(23, 14), d(24, 2), d(24, 14),
			d(25, 2), d(25, 14), d(26, 2), d(26, 14), d(27, 2)}},
		{"at the window edges", Policy{StartTime: "12:00"}, []time.Time{d(21, 12), d(22, 12), d(23, 12), d(24, 12), d(25, 12), d(26, 12), d(27, 12)}},
		{"bad start time", Policy{StartTime: "25:00,x", WeekFrequency: []string{"SAT", "XYZ"}}, []time.Time{d(21, 0)}},
	}
	for _, c := range cases {
		if got := scheduledRuns(c.p, from, to); !slices.EqualFunc(got, c.want, time.Time.Equal) {
			t.Errorf("%s: got %v\nwant %v", c.name, got, c.want)
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestGenerateExactCounts(t *testing.T) {
	sc := Generate(GenOptions{Policies: 2, Disks: 3, Days: 7, Seed: 1})
	if len(sc.Policies) != 2 {
		t.Fatalf("%d policies", len(sc.Policies))
	}
	p0, p1 := sc.Policies[0], sc.Policies[1]
	if p0.Name != "daily-00" || p0.StartTime != "02:00" || p0.Frequency != 1 || p0.ResourceCount != 3 || !p0.Enabled ||
		p1.Name != "every-2-days-01" || p1.StartTime != "03:00" || p1.Frequency != 2 {
		t.Errorf("policies %+v", sc.Policies)
	}
	// Daily: 7 runs × 3 disks; every 2 days: 4 runs (21, 23, 25, 27 Nov) × 3 disks.
	if n0, n1 := len(sc.Jobs[p0.ID]), len(sc.Jobs[p1.ID]); n0 != 21 || n1 != 12 || sc.JobCount() != 33 {
		t.Errorf("jobs %d + %d = %d, want 21 + 12", n0, n1, sc.JobCount())
	}
	newest := sc.Jobs[p0.ID][0]
	if !newest.CreatedAt.Equal(d(27, 2)) || newest.Status != StatusExecuteSuccess || newest.ResourceType != "volume" {
		t.Errorf("newest %+v", newest)
	}
	ids := map[string]bool{}
	res := map[string]bool{}
	for _, p := range sc.Policies {
		if !uuidRE.MatchString(p.ID) {
			t.Errorf("policy ID %q", p.ID)
		}
		jobs := sc.Jobs[p.ID]
		if !slices.IsSortedFunc(jobs, cmpNewestFirst) {
			t.Errorf("policy %s: jobs not newest first", p.Name)
		}
		for _, j := range jobs {
			if !uuidRE.MatchString(j.JobID) || !uuidRE.MatchString(j.ResourceID) || ids[j.JobID] {
				t.Fatalf("job %+v", j)
			}
			ids[j.JobID] = true
			res[j.ResourceID] = true
			if j.CreatedAt.Hour() != 2 && j.CreatedAt.Hour() != 3 || j.CreatedAt.Minute() != 0 || j.CreatedAt.Second() != 0 {
				t.Errorf("created_at %v not on the schedule", j.CreatedAt)
			}
		}
	}
	if len(res) != 6 {
		t.Errorf("%d resources, want 6", len(res))
	}

	full := Generate(GenOptions{Policies: 4, Disks: 3, Days: 7})
	// daily 7 + every 2 days 4 + MON/THU 2 + twice daily 14 runs, 3 disks each.
	if got := full.JobCount(); got != (7+4+2+14)*3 {
		t.Errorf("default mix: %d jobs", got)
	}
	wf := full.Policies[2]
	if wf.Name != "weekly-mon-thu-02" || !slices.Equal(wf.WeekFrequency, []string{"MON", "THU"}) || wf.Frequency != 0 {
		t.Errorf("weekly policy %+v", wf)
	}
	if empty := Generate(GenOptions{}); len(empty.Policies) != 0 || empty.JobCount() != 0 {
		t.Errorf("empty: %+v", empty)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	o := GenOptions{Policies: 5, Disks: 4, Days: 10, Seed: 42, FailRate: 0.1, TimeoutRate: 0.05, SkipRate: 0.05, RunningLast: true}
	a, b := Generate(o), Generate(o)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same options, different scenarios")
	}
	o.Seed = 43
	if c := Generate(o); reflect.DeepEqual(a, c) || c.JobCount() != a.JobCount() {
		t.Error("another seed: same scenario or another size")
	}
	// IDs do not depend on Days: a longer history contains the same jobs.
	short := Generate(GenOptions{Policies: 2, Disks: 2, Days: 3, Seed: 7})
	long := Generate(GenOptions{Policies: 2, Disks: 2, Days: 9, Seed: 7})
	for _, p := range short.Policies {
		for i, j := range short.Jobs[p.ID] {
			if long.Jobs[p.ID][i].JobID != j.JobID || long.Jobs[p.ID][i].ResourceID != j.ResourceID {
				t.Fatalf("job %d of %s differs", i, p.Name)
			}
		}
	}
}

func TestGenerateStatusesAndDurations(t *testing.T) {
	mean := 20 * time.Minute
	now := time.Date(2026, 11, 27, 2, 10, 0, 0, time.UTC)
	sc := Generate(GenOptions{Policies: 4, Disks: 5, Days: 30, Now: now, Seed: 3, FailRate: 0.1, TimeoutRate: 0.05, SkipRate: 0.02, RunningLast: true})
	counts := map[string]int{}
	for _, p := range sc.Policies {
		for _, j := range sc.Jobs[p.ID] {
			counts[j.Status]++
			dur := j.FinishedAt.Sub(j.CreatedAt)
			var lo, hi time.Duration
			switch j.Status {
			case StatusRunning:
				if !j.FinishedAt.IsZero() || now.Sub(j.CreatedAt) >= mean {
					t.Errorf("running job %+v", j)
				}
				continue
			case StatusExecuteSuccess:
				lo, hi = mean/2, mean*3/2
			case StatusExecuteFail:
				lo, hi = mean/20, mean/2
				if j.Message == "" || j.Code != "VolumeBackup.0064" {
					t.Errorf("failed job without message/code: %+v", j)
				}
			case StatusExecuteTimeout:
				lo, hi = 3*mean, 4*mean
			case StatusSkip:
				lo, hi = 0, 0
			}
			if dur < lo || dur > hi || dur%time.Millisecond != 0 {
				t.Errorf("%s job lasted %v", j.Status, dur)
			}
		}
	}
	// The 02:00 runs of the daily and twice-daily policies started 10 minutes ago.
	running := counts[StatusRunning]
	if running != 10 {
		t.Errorf("running = %d, want 10", running)
	}
	n := sc.JobCount() - running
	round := func(f float64) int { return int(f + 0.5) }
	if counts[StatusExecuteFail] != round(float64(n)*0.1) || counts[StatusExecuteTimeout] != round(float64(n)*0.05) || counts[StatusSkip] != round(float64(n)*0.02) ||
		counts[StatusExecuteSuccess] != n-counts[StatusExecuteFail]-counts[StatusExecuteTimeout]-counts[StatusSkip] {
		t.Errorf("n = %d, counts %v", n, counts)
	}
	// Without RunningLast the same runs are finished.
	sc = Generate(GenOptions{Policies: 4, Disks: 5, Days: 30, Now: now, Seed: 3})
	for _, js := range sc.Jobs {
		for _, j := range js {
			if j.Status != StatusExecuteSuccess {
				t.Fatalf("status %s with zero rates", j.Status)
			}
		}
	}
}

func TestGenerateCustomSchedules(t *testing.T) {
	sc := Generate(GenOptions{Policies: 3, Disks: 1, Days: 7, Schedules: []Policy{{StartTime: "06:00", Frequency: 7, Name: "weekly"}, {StartTime: "00:00,12:00"}}})
	if sc.Policies[0].Name != "weekly-00" || sc.Policies[1].Name != "policy-01" || sc.Policies[2].Name != "weekly-02" {
		t.Errorf("names %v %v %v", sc.Policies[0].Name, sc.Policies[1].Name, sc.Policies[2].Name)
	}
	if n := len(sc.Jobs[sc.Policies[0].ID]); n != 1 {
		t.Errorf("every 7 days over 7 days: %d runs", n)
	}
	// 00:00 and 12:00 in (20 Nov 12:00, 27 Nov 12:00]: 7 + 7.
	if n := len(sc.Jobs[sc.Policies[1].ID]); n != 14 {
		t.Errorf("twice daily: %d runs", n)
	}
}

func TestDemoScenario(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	sc := DemoScenario(now)
	if !reflect.DeepEqual(sc, DemoScenario(now)) {
		t.Fatal("not deterministic")
	}
	names := []string{}
	disks := 0
	for _, p := range sc.Policies {
		names = append(names, p.Name)
		disks += p.ResourceCount
		if !p.Enabled {
			t.Errorf("%s disabled", p.Name)
		}
	}
	if !slices.Equal(names, []string{"daily-db-volumes", "weekly-archive", "twice-daily-app"}) || disks != 20 {
		t.Errorf("policies %v, %d disks", names, disks)
	}
	if sc.Policies[0].ID != DemoDailyPolicyID || sc.Policies[1].ID != DemoWeeklyPolicyID || sc.Policies[2].ID != DemoTwiceDailyPolicyID {
		t.Error("policy IDs")
	}
	lens := []int{len(sc.Jobs[DemoDailyPolicyID]), len(sc.Jobs[DemoWeeklyPolicyID]), len(sc.Jobs[DemoTwiceDailyPolicyID])}
	if !slices.Equal(lens, []int{7 * 8, 2 * 4, 14 * 8}) {
		t.Errorf("jobs per policy %v", lens)
	}
	counts := map[string]int{}
	res := map[string]bool{}
	var stuck []Job
	for _, js := range sc.Jobs {
		for _, j := range js {
			counts[j.Status]++
			res[j.ResourceID] = true
			if j.Status == StatusRunning {
				stuck = append(stuck, j)
			}
		}
	}
	if len(res) != 20 {
		t.Errorf("%d resources", len(res))
	}
	if counts[StatusExecuteTimeout] != 1 || counts[StatusSkip] != 1 || counts[StatusRunning] != 1 || counts[StatusExecuteFail] < 2 {
		t.Errorf("counts %v", counts)
	}
	if len(stuck) == 1 && (!stuck[0].CreatedAt.Equal(d(27, 2)) || !stuck[0].FinishedAt.IsZero()) {
		t.Errorf("stuck job %+v", stuck[0])
	}
	// The newest job of disk 5 of daily-db-volumes failed.
	daily := sc.Jobs[DemoDailyPolicyID]
	failedNewest := false
	for _, j := range daily[:8] {
		if j.Status == StatusExecuteFail {
			failedNewest = true
		}
	}
	if !failedNewest {
		t.Error("no failure in the newest daily run")
	}

	// Five minutes after a 02:00 run: that run is in progress, and the stuck
	// job of disk 3 is the one of the day before (the disk has no newer job).
	early := DemoScenario(time.Date(2026, 11, 27, 2, 5, 0, 0, time.UTC))
	if n := early.JobCount(); n != 55+8+112 {
		t.Errorf("early: %d jobs", n)
	}
	running := 0
	var oldRunning []Job
	for _, js := range early.Jobs {
		for _, j := range js {
			if j.Status == StatusRunning {
				running++
				if j.CreatedAt.Before(d(27, 0)) {
					oldRunning = append(oldRunning, j)
				}
			}
		}
	}
	if running != 7+8+1 || len(oldRunning) != 1 || !oldRunning[0].CreatedAt.Equal(d(26, 2)) {
		t.Errorf("early: %d running, stuck %+v", running, oldRunning)
	}
}

func TestServeGeneratedScenario(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	s.Load(DemoScenario(testNow))
	page := decodeTasks(t, get(t, s, tasksPath(s, DemoDailyPolicyID), [2]string{"status", StatusRunning}))
	if page.Count != 1 || len(page.Tasks) != 1 || page.Tasks[0].CreatedAt != "2026-11-27T02:00:00.000" || page.Tasks[0].FinishedAt != "" {
		t.Errorf("running: %+v", page)
	}
	page = decodeTasks(t, get(t, s, tasksPath(s, DemoTwiceDailyPolicyID), [2]string{"limit", "1000"}))
	if page.Count != 112 || len(page.Tasks) != 112 {
		t.Errorf("twice daily: %d/%d", len(page.Tasks), page.Count)
	}
}

// TestScheduledRunsTimeZone: start_time is UTC, the run days are local days
// in time_zone, and frequency prevails over week_frequency.
func TestScheduledRunsTimeZone(t *testing.T) {
	from, to := d(20, 12), d(27, 12) // Fri 20 12:00 .. Fri 27 12:00
	cases := []struct {
		name string
		p    Policy
		want []time.Time
	}{
		// The vendor's example: local MON 00:00, 02:00, 04:00 at UTC+02:00.
		{"vendor example", Policy{StartTime: "22:00,00:00,02:00", WeekFrequency: []string{"MON"}, TimeZone: "UTC+02:00"},
			[]time.Time{d(22, 22), d(23, 0), d(23, 2)}},
		{"vendor example without zone", Policy{StartTime: "22:00,00:00,02:00", WeekFrequency: []string{"MON"}},
			[]time.Time{d(23, 0), d(23, 2), d(23, 22)}},
		{"negative offset", Policy{StartTime: "01:00", WeekFrequency: []string{"SUN"}, TimeZone: "UTC-03:00"},
			[]time.Time{d(23, 1)}}, // local SUN 22:00 = MON 01:00 UTC
		{"frequency prevails", Policy{StartTime: "02:00", Frequency: 1, WeekFrequency: []string{"MON"}, TimeZone: "UTC+08:00"},
			[]time.Time{d(21, 2), d(22, 2), d(23, 2), d(24, 2), d(25, 2), d(26, 2), d(27, 2)}},
		// Local days at UTC+02:00: 22:00 UTC is on the next local day, so
		// the even local days 21, 23, 25, 27 run at 22:00 UTC the day before.
		{"every 2 days, zone", Policy{StartTime: "22:00", Frequency: 2, TimeZone: "UTC+02:00"},
			[]time.Time{d(20, 22), d(22, 22), d(24, 22), d(26, 22)}},
		{"unknown zone is UTC", Policy{StartTime: "01:00", WeekFrequency: []string{"MON", "THU"}, TimeZone: "Mars/Olympus"},
			[]time.Time{d(23, 1), d(26, 1)}},
	}
	for _, c := range cases {
		if got := scheduledRuns(c.p, from, to); !slices.EqualFunc(got, c.want, time.Time.Equal) {
			t.Errorf("%s: got %v\nwant %v", c.name, got, c.want)
		}
	}
	// The default schedules' zones keep their runs on the UTC days.
	for _, p := range defaultSchedules() {
		utc := p
		utc.TimeZone, utc.WeekFrequency = "", nil
		if p.Frequency == 0 {
			utc.WeekFrequency = p.WeekFrequency
		}
		if got, want := scheduledRuns(p, from, to), scheduledRuns(utc, from, to); !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Errorf("%s: got %v\nwant %v", p.Name, got, want)
		}
	}
}
