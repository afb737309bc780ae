// Package backup is the service-neutral model of backup policies, the jobs
// they run and the storage they write to, and the interfaces through which a
// service client hands them to the rest of the exporter: PolicySource for a
// service whose jobs are listed per policy and resumed after a job (VBS),
// Source for one whose jobs are read project-wide from a cursor (CBR).
//
// Data flows one way: a Source reads a service's API and returns these types;
// nothing in this package knows HTTP, paging or a service's field names. The
// service clients own their paging and cursor rules and return the errors
// defined here at their edge (errors.Is ErrAuth, ErrNotFound, ...), so that no
// HTTP status has to be interpreted outside a client.
package backup

import (
	"time"
)

// Status is the state of a backup job, normalised over the services. The
// numeric order is the order of the status label in every metric family and
// must not change: Statuses returns it.
type Status uint8

// The job statuses. Their labels are the VBS names, which the metrics use
// for every service.
const (
	// StatusRunning is a job in progress (VBS RUNNING, CBR running).
	StatusRunning Status = iota
	// StatusWaiting is a job queued and not started (VBS WAITING, CBR waiting).
	StatusWaiting
	// StatusSuccess is a job that finished without error (VBS
	// EXECUTE_SUCCESS, CBR success).
	StatusSuccess
	// StatusFail is a job that finished with an error (VBS EXECUTE_FAIL, CBR
	// failed).
	StatusFail
	// StatusTimeout is a job that ran past the service's time limit (VBS
	// EXECUTE_TIMEOUT, CBR timeout).
	StatusTimeout
	// StatusSkip is a job that never started because a pre-check failed
	// (VBS SKIP, CBR skipped).
	StatusSkip
	// StatusUnknown is any status the service did not document; Job.RawStatus
	// keeps the service's word.
	StatusUnknown
)

// NumStatuses is the number of Status values, for arrays indexed by Status.
const NumStatuses = int(StatusUnknown) + 1

// statusLabels are the label values, indexed by Status.
var statusLabels = [NumStatuses]string{
	"RUNNING", "WAITING", "EXECUTE_SUCCESS", "EXECUTE_FAIL", "EXECUTE_TIMEOUT", "SKIP", "UNKNOWN",
}

// Statuses returns every status in label order: RUNNING, WAITING,
// EXECUTE_SUCCESS, EXECUTE_FAIL, EXECUTE_TIMEOUT, SKIP, UNKNOWN.
func Statuses() []Status {
	out := make([]Status, NumStatuses)
	for i := range out {
		out[i] = Status(i)
	}
	return out
}

// FinishedStatuses returns the terminal statuses in label order:
// EXECUTE_SUCCESS, EXECUTE_FAIL, EXECUTE_TIMEOUT, SKIP.
func FinishedStatuses() []Status {
	return []Status{StatusSuccess, StatusFail, StatusTimeout, StatusSkip}
}

// String returns the status label, e.g. "EXECUTE_SUCCESS"; "UNKNOWN" for
// a value outside the constants.
func (s Status) String() string {
	if int(s) < NumStatuses {
		return statusLabels[s]
	}
	return statusLabels[StatusUnknown]
}

// ParseStatus maps a label as String returns it back to its Status; ok is
// false (and the result StatusUnknown) for any other text.
func ParseStatus(label string) (s Status, ok bool) {
	for i, l := range statusLabels {
		if l == label {
			return Status(i), true
		}
	}
	return StatusUnknown, false
}

// Terminal reports whether a job in status s can no longer change: success,
// failure, timeout or skip. Unknown statuses are not terminal.
func (s Status) Terminal() bool {
	switch s {
	case StatusSuccess, StatusFail, StatusTimeout, StatusSkip:
		return true
	}
	return false
}

// Open reports whether a job in status s may still change and so must be
// re-checked: running, waiting or unknown.
func (s Status) Open() bool { return !s.Terminal() }

// Failed reports whether s counts as a failure: EXECUTE_FAIL or
// EXECUTE_TIMEOUT.
func (s Status) Failed() bool { return s == StatusFail || s == StatusTimeout }

// Job is one backup job: one resource, one run of a policy (or one manual
// backup, with an empty PolicyID).
type Job struct {
	// ID identifies the job within its service and project.
	ID string
	// PolicyID is the policy that triggered the job; "" for a manual backup
	// or when the service did not say.
	PolicyID string
	// ResourceID, ResourceType and ResourceName describe what was backed up,
	// e.g. an EVS disk of type "OS::Cinder::Volume". Any may be "".
	ResourceID   string
	ResourceType string
	ResourceName string
	// Status is the normalised status; RawStatus is the service's own word
	// ("success", "EXECUTE_SUCCESS", or an undocumented value).
	Status    Status
	RawStatus string
	// Created, Started, Finished and Updated are in UTC; the zero time when
	// the service did not send them. Services without a start or update time
	// leave those zero.
	Created  time.Time
	Started  time.Time
	Finished time.Time
	Updated  time.Time
	// ErrorCode and ErrorMessage are the service's result code and message
	// ("" when none, e.g. on success).
	ErrorCode    string
	ErrorMessage string
}

// Begin is when the job's work began: Started, or Created when Started is
// missing.
func (j Job) Begin() time.Time {
	if !j.Started.IsZero() {
		return j.Started
	}
	return j.Created
}

// Duration is Finished − Begin(), or 0 when either is missing or the
// difference is negative.
func (j Job) Duration() time.Duration {
	b := j.Begin()
	if b.IsZero() || j.Finished.IsZero() {
		return 0
	}
	if d := j.Finished.Sub(b); d > 0 {
		return d
	}
	return 0
}

// Schedule is a policy's run schedule as far as the exporter needs it.
type Schedule interface {
	// ExpectedInterval is the longest gap between two consecutive scheduled
	// runs: the time a missed-backup alert should allow between jobs. 0
	// means unknown.
	ExpectedInterval() time.Duration
}

// Policy is a backup policy of a project.
type Policy struct {
	ID   string
	Name string
	// Enabled is false for a policy that schedules nothing.
	Enabled bool
	// Schedule may be nil when the service sent none or it could not be
	// decoded (see Problems).
	Schedule Schedule
	// ResourceCount is the number of resources the policy backs up (VBS:
	// disks bound to the policy; CBR: resources of the vaults the policy
	// is applied to).
	ResourceCount int
	// Problems lists fields of the policy that could not be decoded, each as
	// `field X: reason`; those fields keep their zero values. Nil when every
	// field decoded.
	Problems []string
}

// ExpectedInterval is the schedule's ExpectedInterval, 0 without a schedule.
func (p Policy) ExpectedInterval() time.Duration {
	if p.Schedule == nil {
		return 0
	}
	return p.Schedule.ExpectedInterval()
}

// Resource is a protected object: a server, a disk, a file system.
type Resource struct {
	ID   string
	Type string // e.g. "OS::Cinder::Volume"
	Name string
	// SizeBytes is the capacity the resource takes in its vault, 0 when
	// unknown.
	SizeBytes int64
	// BackupCount is the number of backups of the resource, -1 when unknown.
	BackupCount int
	// ProtectStatus is the service's protection state, e.g. "available".
	ProtectStatus string
}

// Vault is a storage container for backups (CBR); VBS has none.
type Vault struct {
	ID   string
	Name string
	// ObjectType is the kind of resources it holds ("server", "disk", ...),
	// ProtectType "backup" or "replication", Status e.g. "available".
	ObjectType  string
	ProtectType string
	Status      string
	// CapacityBytes and UsedBytes are in bytes whatever unit the API uses;
	// UsedBytes ≤ CapacityBytes is not guaranteed.
	CapacityBytes int64
	UsedBytes     int64
	// Threshold is the usage percentage above which the service notifies,
	// 0 when unknown.
	Threshold int
	Resources []Resource
	// PolicyIDs are the policies applied to the vault, sorted, without
	// duplicates.
	PolicyIDs []string
	// Problems lists fields that could not be decoded, as in Policy.
	Problems []string
}
