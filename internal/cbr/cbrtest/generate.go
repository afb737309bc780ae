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
