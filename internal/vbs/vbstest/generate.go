package vbstest

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GenOptions configures Generate.
type GenOptions struct {
	// Policies, Disks and Days: Policies policies with Disks disks each and
	// the jobs of every scheduled run in (Now - Days×24h, Now].
	Policies int
	Disks    int
	Days     int
	// Now is the end of the history; default 2026-11-27T12:00:00Z. It is
	// truncated to milliseconds.
	Now time.Time
	// Seed makes the IDs, statuses and durations; the same options give the
	// same Scenario.
	Seed int64
	// FailRate, TimeoutRate and SkipRate are the fractions of finished jobs
	// (all jobs but those left RUNNING) that end EXECUTE_FAIL,
	// EXECUTE_TIMEOUT and SKIP: exactly round(n×rate) jobs each, picked
	// pseudo-randomly; the rest end EXECUTE_SUCCESS.
	FailRate    float64
	TimeoutRate float64
	SkipRate    float64
	// meanDuration is the mean duration of successful jobs, which last
	// between 50% and 150% of it; default 20m. Failed jobs last 5–50% of it,
	// timed-out jobs 300–400%, skipped jobs 0.
	meanDuration time.Duration
	// Schedules are the schedule templates cycled over the policies (their
	// ID is ignored; Name, default "policy", gets a "-NN" index suffix); the
	// default is defaultSchedules().
	Schedules []Policy
	// RunningLast leaves a policy's newest run RUNNING (no finished_at) when
	// it started less than meanDuration before Now. Without it, such runs are
	// finished, possibly with finished_at after Now.
	RunningLast bool
}

// defaultGenNow is the default GenOptions.Now: 2026-11-27T12:00:00Z (a Friday).
func defaultGenNow() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }

// defaultSchedules returns the default schedule mix of Generate: daily at
// 02:00 UTC (with a leftover week_frequency that frequency overrides, as
// real policies can carry), every 2 days at 03:00 UTC, weekly on MON and THU
// at 01:00 UTC, and twice daily at 02:00 and 14:00 UTC. The first three send
// a time_zone (UTC+08:00, UTC+01:00, UTC+08:00) under which their local run
// days are the UTC days, so the runs are those of a zone-less reading too.
func defaultSchedules() []Policy {
	return []Policy{
		{Name: "daily", StartTime: "02:00", Frequency: 1, WeekFrequency: []string{"MON"}, TimeZone: "UTC+08:00", RetentionNum: 30, Enabled: true},
		{Name: "every-2-days", StartTime: "03:00", Frequency: 2, TimeZone: "UTC+01:00", RetentionDay: 30, Enabled: true},
		{Name: "weekly-mon-thu", StartTime: "01:00", WeekFrequency: []string{"MON", "THU"}, TimeZone: "UTC+08:00", RetentionNum: 8, KeepFirstBackupOfMonth: true, Enabled: true},
		{Name: "twice-daily", StartTime: "02:00,14:00", Frequency: 1, RetentionNum: 14, Enabled: true},
	}
}

// scheduledRuns returns the run times of p's schedule in (from, to], oldest
// first, as the simulator interprets the vendor's documentation: each
// comma-separated "HH:MM" of StartTime is a UTC time of day (none valid
// means 00:00); its local time of day in TimeZone (a fixed offset
// "UTC±HH:MM"; "" or anything else is UTC) runs on every local day whose
// number since 1970-01-01 is a multiple of Frequency when Frequency > 0
// (frequency prevails over week_frequency), else on every local day that is
// one of WeekFrequency (SUN..SAT), else daily. "22:00,00:00,02:00" on MON at
// UTC+02:00 runs on SUN 22:00, MON 00:00 and MON 02:00 UTC.
func scheduledRuns(p Policy, from, to time.Time) []time.Time {
	times := parseStartTimes(p.StartTime)
	var weekdays [7]bool
	useWeekdays := false
	for _, d := range p.WeekFrequency {
		if wd, ok := parseWeekday(d); ok {
			weekdays[wd] = true
			useWeekdays = true
		}
	}
	if p.Frequency > 0 {
		useWeekdays = false
	}
	freq := int64(max(p.Frequency, 1))
	off := int64(zoneOffset(p.TimeZone) / time.Second)
	const daySec = 86400
	// Local day numbers that can hold a run in (from, to]: a run lies within
	// a day of its local midnight.
	first := floorDiv(from.Unix()+off, daySec) - 1
	last := floorDiv(to.Unix()+off, daySec) + 1
	var out []time.Time
	for n := first; n <= last; n++ {
		if useWeekdays {
			if !weekdays[(n%7+7+4)%7] { // 1970-01-01 was a Thursday
				continue
			}
		} else if (n%freq+freq)%freq != 0 {
			continue
		}
		for _, st := range times {
			local := (int64(st/time.Second) + off%daySec + daySec) % daySec // local time of day
			t := time.Unix(n*daySec+local-off, 0).UTC()
			if t.After(from) && !t.After(to) {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// zoneOffset parses a TimeZone of the form "UTC+08:00" or "UTC-03:30"; 0
// for anything else.
func zoneOffset(tz string) time.Duration {
	rest, ok := strings.CutPrefix(tz, "UTC")
	if !ok || len(rest) != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return 0
	}
	h, err1 := strconv.Atoi(rest[1:3])
	m, err2 := strconv.Atoi(rest[4:6])
	if err1 != nil || err2 != nil || h > 14 || m > 59 {
		return 0
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if rest[0] == '-' {
		return -d
	}
	return d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func parseStartTimes(s string) []time.Duration {
	var out []time.Duration
	for part := range strings.SplitSeq(s, ",") {
		hh, mm, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			continue
		}
		h, err1 := strconv.Atoi(hh)
		m, err2 := strconv.Atoi(mm)
		if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
			continue
		}
		out = append(out, time.Duration(h)*time.Hour+time.Duration(m)*time.Minute)
	}
	if len(out) == 0 {
		return []time.Duration{0}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func parseWeekday(s string) (time.Weekday, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "SUN":
		return time.Sunday, true
	case "MON":
		return time.Monday, true
	case "TUE":
		return time.Tuesday, true
	case "WED":
		return time.Wednesday, true
	case "THU":
		return time.Thursday, true
	case "FRI":
		return time.Friday, true
	case "SAT":
		return time.Saturday, true
	}
	return 0, false
}

// Hash tags separating the pseudo-random streams of the generator.
const (
	tagPolicy = iota + 1
	tagVolume
	tagJob
	tagStatus
	tagDuration
	tagName
)

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// mix hashes vals into a well-distributed 64-bit value.
func mix(vals ...uint64) uint64 {
	x := uint64(0x2545F4914F6CDD1D)
	for _, v := range vals {
		x = splitmix(x ^ v)
	}
	return x
}

// strHash is FNV-1a of s.
func strHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// unit maps h to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// uuid formats a version-4-style UUID from two hashes.
func uuid(a, b uint64) string {
	const hexDigits = "0123456789abcdef"
	a = a&^0xF000 | 0x4000
	b = b&^(0xC<<60) | 0x8<<60
	var out [36]byte
	pos := 0
	put := func(v uint64, nibbles int) {
		for i := nibbles - 1; i >= 0; i-- {
			out[pos] = hexDigits[(v>>(4*uint(i)))&0xF]
			pos++
		}
	}
	dash := func() { out[pos] = '-'; pos++ }
	put(a>>32, 8)
	dash()
	put(a>>16, 4)
	dash()
	put(a, 4)
	dash()
	put(b>>48, 4)
	dash()
	put(b, 12)
	return string(out[:])
}

func hashUUID(vals ...uint64) string {
	h := mix(vals...)
	return uuid(h, splitmix(h))
}

// Messages and codes of generated jobs.
const (
	genFailMessage    = "Backup failed: the snapshot of the volume could not be created."
	genFailCode       = "VolumeBackup.0064"
	genTimeoutMessage = "The backup job timed out."
	genSkipMessage    = "Skipped: a backup of the volume is already in progress."
)

type genSpec struct {
	tpl   Policy
	disks int
	id    string
	name  string
	idx   uint64
}

// Generate builds a deterministic Scenario: o.Policies policies (schedules
// cycled from o.Schedules) with o.Disks disks each, and one job per disk per
// scheduled run (see scheduledRuns) in (Now - Days×24h, Now]. A job's
// created_at is exactly its run time; jobs of one run differ by job_id only.
// Policy, volume and job IDs are UUID-like strings derived from the seed, the
// policy index, the disk index and the run time, so they do not depend on
// Days, Now or the rates. Policies get ResourceCount = Disks. Jobs in
// Scenario.Jobs are newest first.
func Generate(o GenOptions) Scenario {
	scheds := o.Schedules
	if len(scheds) == 0 {
		scheds = defaultSchedules()
	}
	seed := uint64(o.Seed)
	specs := make([]genSpec, 0, max(o.Policies, 0))
	for i := range max(o.Policies, 0) {
		tpl := scheds[i%len(scheds)]
		base := tpl.Name
		if base == "" {
			base = "policy"
		}
		specs = append(specs, genSpec{
			tpl:   tpl,
			disks: o.Disks,
			id:    hashUUID(seed, tagPolicy, uint64(i)),
			name:  fmt.Sprintf("%s-%02d", base, i),
			idx:   uint64(i),
		})
	}
	return generate(o, specs)
}

type jobRef struct {
	policy, job int
	key         uint64
}

func generate(o GenOptions, specs []genSpec) Scenario {
	now := o.Now
	if now.IsZero() {
		now = defaultGenNow()
	}
	now = now.UTC().Truncate(time.Millisecond)
	mean := o.meanDuration
	if mean <= 0 {
		mean = 20 * time.Minute
	}
	seed := uint64(o.Seed)
	from := now.Add(-time.Duration(max(o.Days, 0)) * 24 * time.Hour)
	sc := Scenario{Jobs: make(map[string][]Job, len(specs))}
	perPolicy := make([][]Job, len(specs))
	var pending []jobRef
	for si, sp := range specs {
		pol := clonePolicy(sp.tpl)
		pol.ID, pol.Name, pol.ResourceCount, pol.AutoResourceCount, pol.Omit = sp.id, sp.name, max(sp.disks, 0), false, nil
		sc.Policies = append(sc.Policies, pol)
		if o.Days <= 0 || sp.disks <= 0 {
			perPolicy[si] = []Job{}
			continue
		}
		vols := make([]string, sp.disks)
		for d := range vols {
			vols[d] = hashUUID(seed, tagVolume, sp.idx, uint64(d))
		}
		runs := scheduledRuns(pol, from, now)
		running := o.RunningLast && len(runs) > 0 && now.Sub(runs[len(runs)-1]) < mean
		// Newest run first, and within a run by job ID descending, so the
		// jobs come out newest first without sorting the whole slice.
		jobs := make([]Job, 0, len(runs)*sp.disks)
		for ri := len(runs) - 1; ri >= 0; ri-- {
			t := runs[ri]
			runStart := len(jobs)
			for d := range sp.disks {
				unix := uint64(t.Unix())
				j := Job{
					JobID:        hashUUID(seed, tagJob, sp.idx, uint64(d), unix),
					ResourceID:   vols[d],
					ResourceType: "volume",
					BackupName:   "autobk_" + uuid(mix(seed, tagName, sp.idx, uint64(d), unix), 0)[:4],
					CreatedAt:    t,
				}
				if running && ri == len(runs)-1 {
					j.Status = StatusRunning
				}
				jobs = append(jobs, j)
			}
			slices.SortFunc(jobs[runStart:], cmpNewestFirst)
			for k := runStart; k < len(jobs); k++ {
				if jobs[k].Status != StatusRunning {
					pending = append(pending, jobRef{policy: si, job: k, key: mix(seed, tagStatus, strHash(jobs[k].JobID))})
				}
			}
		}
		perPolicy[si] = jobs
	}

	// Exact status counts, placed pseudo-randomly.
	slices.SortFunc(pending, func(a, b jobRef) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := cmp.Compare(a.policy, b.policy); c != 0 {
			return c
		}
		return cmp.Compare(a.job, b.job)
	})
	n := len(pending)
	count := func(rate float64) int { return max(int(math.Round(float64(n)*rate)), 0) }
	nFail := min(count(o.FailRate), n)
	nTimeout := min(count(o.TimeoutRate), n-nFail)
	nSkip := min(count(o.SkipRate), n-nFail-nTimeout)
	for i, ref := range pending {
		j := &perPolicy[ref.policy][ref.job]
		u := unit(splitmix(ref.key ^ tagDuration))
		dur := func(lo, hi float64) time.Duration {
			return time.Duration(float64(mean) * (lo + (hi-lo)*u)).Truncate(time.Millisecond)
		}
		switch {
		case i < nFail:
			j.Status, j.Message, j.Code = StatusExecuteFail, genFailMessage, genFailCode
			j.FinishedAt = j.CreatedAt.Add(dur(0.05, 0.5))
		case i < nFail+nTimeout:
			j.Status, j.Message = StatusExecuteTimeout, genTimeoutMessage
			j.FinishedAt = j.CreatedAt.Add(dur(3, 4))
		case i < nFail+nTimeout+nSkip:
			j.Status, j.Message = StatusSkip, genSkipMessage
			j.FinishedAt = j.CreatedAt
		default:
			j.Status = StatusExecuteSuccess
			j.FinishedAt = j.CreatedAt.Add(dur(0.5, 1.5))
		}
	}
	for si, sp := range specs {
		sc.Jobs[sp.id] = perPolicy[si]
	}
	return sc
}

// Demo policy IDs of DemoScenario.
const (
	DemoDailyPolicyID      = "5d2a6c1e-8f3b-4a7d-9c2e-1b4f6a8d0c31"
	DemoWeeklyPolicyID     = "a3e9b7d5-2c4f-4e8a-b1d3-6f5e7c9a2b40"
	DemoTwiceDailyPolicyID = "c8f4e2a6-7b1d-4c9e-a5f3-2d8b6e4c1a59"
)

// DemoScenario is the demo account as of now (truncated to milliseconds): three
// policies with 20 disks in total and a week of history —
//
//	daily-db-volumes  daily 02:00, 8 disks, retention 14 backups
//	weekly-archive    MON,THU 01:00, 4 disks, retention 90 days
//	twice-daily-app   02:00,14:00, 8 disks, retention 28 backups
//
// About 5% of jobs failed; a run that started less than 20 minutes before now
// is still RUNNING. On top of that, fixed by position:
//   - daily-db-volumes, disk 3: its newest job started at least 3 hours before
//     now is stuck RUNNING, and the disk has no newer jobs;
//   - daily-db-volumes, disk 5: its newest finished job is EXECUTE_FAIL;
//   - weekly-archive, disk 1: its newest job started at least 4 hours before
//     now is the only EXECUTE_TIMEOUT (finished 4 hours after it started);
//   - twice-daily-app, disk 2: its second newest finished job is the only SKIP.
//
// Its EVS volume list names the disks db-data-01..08, archive-01..04 and
// app-01..08 (disk 0 of a policy is -01).
func DemoScenario(now time.Time) Scenario {
	specs := []genSpec{
		{tpl: Policy{StartTime: "02:00", Frequency: 1, RetentionNum: 14, Enabled: true}, disks: 8, id: DemoDailyPolicyID, name: "daily-db-volumes", idx: 0},
		{tpl: Policy{StartTime: "01:00", WeekFrequency: []string{"MON", "THU"}, RetentionDay: 90, KeepFirstBackupOfMonth: true, Enabled: true}, disks: 4, id: DemoWeeklyPolicyID, name: "weekly-archive", idx: 1},
		{tpl: Policy{StartTime: "02:00,14:00", Frequency: 1, RetentionNum: 28, Enabled: true}, disks: 8, id: DemoTwiceDailyPolicyID, name: "twice-daily-app", idx: 2},
	}
	const seed = 20261127
	now = now.UTC().Truncate(time.Millisecond)
	sc := generate(GenOptions{Days: 7, Now: now, Seed: seed, FailRate: 0.05, meanDuration: 20 * time.Minute, RunningLast: true}, specs)
	vol := func(idx, d uint64) string { return hashUUID(seed, tagVolume, idx, d) }

	// find returns the index of the n-th (0-based) job of resource res, newest
	// first, that satisfies ok; -1 if none.
	find := func(jobs []Job, res string, n int, ok func(*Job) bool) int {
		for i := range jobs {
			if jobs[i].ResourceID == res && ok(&jobs[i]) {
				if n == 0 {
					return i
				}
				n--
			}
		}
		return -1
	}
	olderThan := func(d time.Duration) func(*Job) bool {
		return func(j *Job) bool { return now.Sub(j.CreatedAt) >= d }
	}
	finished := func(j *Job) bool { return j.Status != StatusRunning }

	daily := sc.Jobs[DemoDailyPolicyID]
	if i := find(daily, vol(0, 5), 0, finished); i >= 0 {
		j := &daily[i]
		j.Status, j.Message, j.Code = StatusExecuteFail, genFailMessage, genFailCode
		j.FinishedAt = j.CreatedAt.Add(7*time.Minute + 312*time.Millisecond)
	}
	stuckRes := vol(0, 3)
	if i := find(daily, stuckRes, 0, olderThan(3*time.Hour)); i >= 0 {
		j := &daily[i]
		j.Status, j.Message, j.Code, j.FinishedAt = StatusRunning, "", nil, time.Time{}
		stuckAt := j.CreatedAt
		daily = slices.DeleteFunc(daily, func(x Job) bool { return x.ResourceID == stuckRes && x.CreatedAt.After(stuckAt) })
	}
	sc.Jobs[DemoDailyPolicyID] = daily

	weekly := sc.Jobs[DemoWeeklyPolicyID]
	if i := find(weekly, vol(1, 1), 0, olderThan(4*time.Hour)); i >= 0 {
		j := &weekly[i]
		j.Status, j.Message, j.Code = StatusExecuteTimeout, genTimeoutMessage, nil
		j.FinishedAt = j.CreatedAt.Add(4 * time.Hour)
	}

	// EVS names: db-data-01..08, archive-01..04, app-01..08.
	for _, p := range []struct {
		idx    uint64
		disks  int
		prefix string
	}{{0, 8, "db-data"}, {1, 4, "archive"}, {2, 8, "app"}} {
		for d := range p.disks {
			sc.Volumes = append(sc.Volumes, Volume{ID: vol(p.idx, uint64(d)), Name: fmt.Sprintf("%s-%02d", p.prefix, d+1)})
		}
	}

	twice := sc.Jobs[DemoTwiceDailyPolicyID]
	if i := find(twice, vol(2, 2), 1, finished); i >= 0 {
		j := &twice[i]
		j.Status, j.Message, j.Code = StatusSkip, genSkipMessage, nil
		j.FinishedAt = j.CreatedAt
	}
	return sc
}
