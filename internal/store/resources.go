package store

import (
	"cmp"
	"slices"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
)

// ResourceFailure is the newest failed (EXECUTE_FAIL) or timed-out
// (EXECUTE_TIMEOUT) job of one disk of a policy within the lookback window:
// what vbs_resource_last_failure_info and
// vbs_resource_last_failure_timestamp_seconds export, plus the message and
// the disk's name for the status page.
type ResourceFailure struct {
	PolicyID, PolicyName     string
	ResourceID, ResourceType string
	// ResourceName is the disk's name when known (resource_names), else "".
	ResourceName string
	// Status is backup.StatusFail or backup.StatusTimeout.
	Status backup.Status
	// Time is the job's finished_at, or its created_at when it has none.
	Time  time.Time
	JobID string
	// Code is the vendor's result code ("" when the job had none), at most
	// 64 bytes; Message is the job's message, at most 256 bytes. Both have
	// the client's secrets redacted and control characters folded to
	// spaces: safe to show, but still untrusted text (escape it in HTML).
	Code, Message string
	// Current is true when the failure is the disk's newest finished job
	// (no success or skip since); false when a later job succeeded.
	Current bool
}

// Failures returns the newest failure of each disk of the policy that had
// one in the lookback window, sorted by resource ID, then type. It is empty
// until the policy's jobs were read (HasData).
func (p *PolicySnapshot) Failures() []ResourceFailure {
	if !p.Known || !p.HasData {
		return nil
	}
	var out []ResourceFailure
	for i := range p.stats.resources {
		r := &p.stats.resources[i]
		if !r.hasFailure {
			continue
		}
		out = append(out, ResourceFailure{
			PolicyID: p.Policy.ID, PolicyName: p.Policy.Name,
			ResourceID: r.id, ResourceType: r.typ, ResourceName: p.names[r.id],
			Status: r.failureStatus.status(), Time: time.UnixMilli(r.failureAt).UTC(),
			JobID: r.failure.jobID, Code: r.failure.code, Message: r.failure.message,
			Current: r.consecutiveFailures > 0,
		})
	}
	return out
}

// Failures returns the failures of every policy (see
// PolicySnapshot.Failures), newest first; ties by policy ID, then resource.
func (s *Snapshot) Failures() []ResourceFailure {
	var out []ResourceFailure
	for i := range s.Policies {
		out = append(out, s.Policies[i].Failures()...)
	}
	slices.SortStableFunc(out, func(a, b ResourceFailure) int { return b.Time.Compare(a.Time) })
	return out
}

// ResourceName returns the name of a disk as the last successful name
// lookup gave it (see TargetOptions.Names); false when it is not known.
func (s *Snapshot) ResourceName(id string) (string, bool) {
	n, ok := s.names[id]
	return n, ok
}

// NamedResources calls yield with the ID, type and name of each disk seen
// in the policies' jobs whose name is known, once per (ID, type), sorted by
// ID, then type.
func (s *Snapshot) NamedResources(yield func(id, typ, name string)) {
	if len(s.names) == 0 {
		return
	}
	var keys []resourceKey
	seen := map[resourceKey]bool{}
	for i := range s.Policies {
		p := &s.Policies[i]
		if !p.Known || !p.HasData {
			continue
		}
		for j := range p.stats.resources {
			r := &p.stats.resources[j]
			k := resourceKey{ID: r.id, Type: r.typ}
			if _, ok := s.names[r.id]; ok && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	slices.SortFunc(keys, func(a, b resourceKey) int { return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Type, b.Type)) })
	for _, k := range keys {
		yield(k.ID, k.Type, s.names[k.ID])
	}
}
