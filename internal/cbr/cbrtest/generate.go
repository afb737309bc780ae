package cbrtest

import (
	"fmt"
	"time"
)

// Scenario is a set of policies, vaults and tasks to Load.
type Scenario struct {
	Policies []Policy
	Vaults   []Vault
	Logs     []OperationLog
}

// GenOptions sizes a generated history; zero fields take the defaults.
type GenOptions struct {
	// Policies (default 10), each with its own vault of DisksPerPolicy EVS
	// disks (default 50), run daily at 01:00 + policy index hours UTC
	// (mod 24) over Days days (default 300) up to Now.
	Policies       int
	DisksPerPolicy int
	Days           int
	// Now ends the history; default DefaultGenNow().
	Now time.Time
	// Seed varies the IDs and outcomes.
	Seed uint64
	// DisksPerPolicy, Days and Policies make Policies × DisksPerPolicy ×
	// Days tasks, less the runs of the last day still ahead of Now.
}

// DefaultGenNow is the default end of a generated history.
func DefaultGenNow() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }

// splitmix is a 64-bit mixing function (SplitMix64's finaliser).
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func mix(vals ...uint64) uint64 {
	h := uint64(0x243f6a8885a308d3)
	for _, v := range vals {
		h = splitmix(h ^ v)
	}
	return h
}

// UUID returns a deterministic UUID-shaped ID for the values.
func UUID(vals ...uint64) string {
	a, b := mix(append(vals, 1)...), mix(append(vals, 2)...)
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, 0x8000|b>>48&0x3fff, b&0xffffffffffff)
}

// Generate builds a history of Policies × DisksPerPolicy × Days tasks (one
// per disk and daily run that started before Now). Outcomes are fixed by
// Seed: about 2 % failed (BackupService.7003), 0.5 % timeout, 0.5 %
// skipped, the rest success; durations 5–65 minutes; a run still going at
// Now is running (or waiting for the second half of its disks).
func Generate(o GenOptions) Scenario {
	if o.Policies <= 0 {
		o.Policies = 10
	}
	if o.DisksPerPolicy <= 0 {
		o.DisksPerPolicy = 50
	}
	if o.Days <= 0 {
		o.Days = 300
	}
	if o.Now.IsZero() {
		o.Now = DefaultGenNow()
	}
	var sc Scenario
	first := o.Now.Truncate(24*time.Hour).AddDate(0, 0, -o.Days+1)
	sc.Logs = make([]OperationLog, 0, o.Policies*o.DisksPerPolicy*o.Days)
	for p := 0; p < o.Policies; p++ {
		pid := UUID(o.Seed, 1, uint64(p))
		vid := UUID(o.Seed, 2, uint64(p))
		hour := (1 + p) % 24
		sc.Policies = append(sc.Policies, Policy{
			ID: pid, Name: fmt.Sprintf("daily-%02d", p), Enabled: true,
			Patterns: []string{fmt.Sprintf("FREQ=DAILY;INTERVAL=1;BYHOUR=%02d;BYMINUTE=00", hour)},
			Start:    first.AddDate(0, 0, -1), VaultIDs: []string{vid},
		})
		v := Vault{ID: vid, Name: fmt.Sprintf("vault-%02d", p), SizeGB: 100 * o.DisksPerPolicy, Threshold: 80}
		for d := 0; d < o.DisksPerPolicy; d++ {
			v.Resources = append(v.Resources, Resource{
				ID: UUID(o.Seed, 3, uint64(p), uint64(d)), Name: fmt.Sprintf("disk-%02d-%03d", p, d),
				Type: "OS::Cinder::Volume", SizeGB: 40, BackupCount: 7,
			})
		}
		v.UsedMB = 40 * 1024 * o.DisksPerPolicy / 2
		sc.Vaults = append(sc.Vaults, v)
		for day := 0; day < o.Days; day++ {
			run := first.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
			if run.After(o.Now) {
				continue
			}
			for d, r := range v.Resources {
				h := mix(o.Seed, 4, uint64(p), uint64(d), uint64(day))
				created := run.Add(time.Duration(h%30000) * time.Millisecond)
				l := OperationLog{
					ID: UUID(o.Seed, 5, uint64(p), uint64(d), uint64(day)), PolicyID: pid,
					VaultID: vid, VaultName: v.Name, ResourceID: r.ID, ResourceName: r.Name, ResourceType: r.Type,
					Created: created, Started: created.Add(-15 * time.Millisecond), Progress: 100,
				}
				ended := l.Started.Add(5*time.Minute + time.Duration(h>>20%3600)*time.Second)
				switch x := h >> 40 % 1000; {
				case ended.After(o.Now):
					l.Status, l.Progress = "running", int(o.Now.Sub(l.Started)*100/ended.Sub(l.Started))
					if d >= len(v.Resources)/2 {
						l.Status, l.Progress = "waiting", 0
					}
					l.Updated = o.Now
				case x < 20:
					l.Status, l.Ended = "failed", l.Started.Add(6*time.Second)
					l.ErrorCode, l.ErrorMessage = "BackupService.7003", "Backup is not allowed in the current disk status."
				case x < 25:
					l.Status, l.Ended = "timeout", ended
				case x < 30:
					l.Status, l.Ended = "skipped", l.Started
				default:
					l.Status, l.Ended = "success", ended
				}
				sc.Logs = append(sc.Logs, l)
			}
		}
	}
	return sc
}

// DemoScenario is a small CBR account for the demo and collector tests,
// with every status, a weekly RRULE policy, a policy over two vaults, a
// manual backup (no policy), a disabled policy and a vault near full, all
// relative to now:
//
//   - "nightly-disks" (daily 02:00 UTC) over vault "vault-prod-disks"
//     (200 GB, 25 % used, disks data-disk-01 and -02);
//   - "weekend-servers" (SA,SU at 08:00 and 20:00 UTC) over
//     "vault-servers" (100 GB, 95 % used, server web-01) and
//     "vault-prod-disks";
//   - "paused" (disabled, daily 04:00) with no vault;
//   - tasks: success, failed (BackupService.7003), timeout, skipped,
//     running, waiting, one in the undocumented status "paused", and a
//     manual backup of data-disk-02 without policy_id.
func DemoScenario(now time.Time) Scenario {
	now = now.UTC().Truncate(time.Second)
	const (
		pNightly = "5b9e0c1d-2f3a-4b4c-8d5e-6f7a8b9c0d1e"
		pWeekend = "0c7d2e91-4a3b-4c5d-9e6f-7a8b9c0d1e2f"
		pPaused  = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
		vDisks   = "7d1c2a3b-4e5f-4a6b-9c8d-0e1f2a3b4c5d"
		vServers = "2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b"
		disk1    = "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f7a8b9"
		disk2    = "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b"
		server1  = "4b5c6d7e-8f90-4a1b-b2c3-d4e5f6a7b8c9"
	)
	const volume, server = "OS::Cinder::Volume", "OS::Nova::Server"
	sc := Scenario{
		Policies: []Policy{
			{ID: pNightly, Name: "nightly-disks", Enabled: true, VaultIDs: []string{vDisks},
				Patterns: []string{"FREQ=DAILY;INTERVAL=1;BYHOUR=2;BYMINUTE=00"}, Start: now.AddDate(0, -1, 0)},
			{ID: pWeekend, Name: "weekend-servers", Enabled: true, VaultIDs: []string{vServers, vDisks},
				Patterns: []string{"FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=08;BYMINUTE=00", "FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=20;BYMINUTE=00"},
				Start:    now.AddDate(0, -1, 0)},
			{ID: pPaused, Name: "paused", Enabled: false, Patterns: []string{"FREQ=DAILY;BYHOUR=4;BYMINUTE=0"}},
		},
		Vaults: []Vault{
			{ID: vDisks, Name: "vault-prod-disks", SizeGB: 200, UsedMB: 51200, Threshold: 80, Resources: []Resource{
				{ID: disk1, Name: "data-disk-01", Type: volume, SizeGB: 100, BackupCount: 13, ProtectStatus: "protecting"},
				{ID: disk2, Name: "data-disk-02", Type: volume, SizeGB: 50, BackupCount: 11}}},
			{ID: vServers, Name: "vault-servers", ObjectType: "server", SizeGB: 100, UsedMB: 97280, Threshold: 80, Resources: []Resource{
				{ID: server1, Name: "web-01", Type: server, SizeGB: 40, BackupCount: 8}}},
		},
	}
	day := now.Truncate(24 * time.Hour)
	n := 0
	add := func(policy, vault, vname, res, rname, rtype, status string, created time.Time, dur time.Duration, code, msg string) {
		n++
		l := OperationLog{ID: UUID(99, uint64(n)), PolicyID: policy, Status: status, VaultID: vault, VaultName: vname,
			ResourceID: res, ResourceName: rname, ResourceType: rtype, Created: created, Started: created.Add(-20 * time.Millisecond),
			ErrorCode: code, ErrorMessage: msg, Progress: 100}
		switch status {
		case "running":
			l.Progress, l.Updated = 37, now
		case "waiting":
			l.Progress, l.Started, l.Updated = 0, time.Time{}, created
		default:
			l.Ended = l.Started.Add(dur)
		}
		sc.Logs = append(sc.Logs, l)
	}
	for d := 3; d >= 1; d-- {
		run := day.AddDate(0, 0, -d).Add(2 * time.Hour)
		add(pNightly, vDisks, "vault-prod-disks", disk1, "data-disk-01", volume, "success", run, 7*time.Minute+38*time.Second, "", "")
		st, code, msg := "success", "", ""
		if d == 1 {
			st, code, msg = "failed", "BackupService.7003", "Backup is not allowed in the current disk status."
		}
		add(pNightly, vDisks, "vault-prod-disks", disk2, "data-disk-02", volume, st, run.Add(time.Second), 6*time.Minute, code, msg)
	}
	last := day.Add(-4 * time.Hour) // 20:00 the day before
	add(pWeekend, vServers, "vault-servers", server1, "web-01", server, "timeout", last.AddDate(0, 0, -1), 4*time.Hour, "", "")
	add(pWeekend, vServers, "vault-servers", server1, "web-01", server, "skipped", last.Add(-12*time.Hour), 0, "BackupService.6113", "The vault status does not allow backup.")
	add(pWeekend, vServers, "vault-servers", server1, "web-01", server, "success", last, 25*time.Minute, "", "")
	add(pWeekend, vDisks, "vault-prod-disks", disk1, "data-disk-01", volume, "paused", last, 0, "", "")
	add(pNightly, vDisks, "vault-prod-disks", disk1, "data-disk-01", volume, "running", now.Add(-10*time.Minute), 0, "", "")
	add(pNightly, vDisks, "vault-prod-disks", disk2, "data-disk-02", volume, "waiting", now.Add(-10*time.Minute), 0, "", "")
	add("", vDisks, "vault-prod-disks", disk2, "data-disk-02", volume, "success", now.Add(-26*time.Hour), 3*time.Minute, "", "")
	return sc
}
