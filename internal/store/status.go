package store

// FailedDisk is a disk whose newest finished backup job in the window failed
// (EXECUTE_FAIL or EXECUTE_TIMEOUT).
type FailedDisk struct {
	ResourceID, ResourceType string
	// Status is the newest finished job's status.
	Status string
	// ConsecutiveFailures counts the failed jobs since the last success
	// (vbs_resource_consecutive_failures).
	ConsecutiveFailures int
}

// FailedDisks returns the policy's disks whose newest finished job failed,
// sorted by resource ID and type; nil when there is none or the policy's
// jobs were never read.
func (p *PolicySnapshot) FailedDisks() []FailedDisk {
	if !p.HasData {
		return nil
	}
	var out []FailedDisk
	for _, r := range p.stats.resources {
		if r.consecutiveFailures == 0 || r.lastFinished < 0 {
			continue
		}
		out = append(out, FailedDisk{ResourceID: r.id, ResourceType: r.typ,
			Status: finishedStatuses[r.lastFinished].String(), ConsecutiveFailures: r.consecutiveFailures})
	}
	return out
}
