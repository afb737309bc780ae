// Package vbs is a client for the Huawei Cloud Volume Backup Service (VBS) API:
// backup policies and the backup jobs ("tasks") they trigger, authenticated
// with AK/SK request signing or IAM tokens (see package hwcloud).
package vbs

import (
	"time"
)

// Status is the state of a backup job as the API reports it. Values outside the
// known constants are kept verbatim, never dropped.
type Status string

// The job statuses documented by the API. The last four are terminal.
const (
	StatusRunning        Status = "RUNNING"
	StatusWaiting        Status = "WAITING"
	StatusExecuteSuccess Status = "EXECUTE_SUCCESS"
	StatusExecuteFail    Status = "EXECUTE_FAIL"
	StatusExecuteTimeout Status = "EXECUTE_TIMEOUT"
	StatusSkip           Status = "SKIP"
)

// Statuses lists every documented status in a fixed order.
var Statuses = []Status{StatusRunning, StatusWaiting, StatusExecuteSuccess, StatusExecuteFail, StatusExecuteTimeout, StatusSkip}

// Task is one backup job of a policy: one disk, one scheduled run.
type Task struct {
	JobID        string
	Status       Status
	ResourceID   string
	ResourceType string
	BackupName   string
	VBSJobID     string
	// CreatedAt and FinishedAt are in UTC; the zero time when the API omitted them.
	CreatedAt  time.Time
	FinishedAt time.Time
	Message    string
	// Code is the vendor's result code; the API sends it as a string or a number.
	Code string
}

// Policy is a backup policy of a project.
type Policy struct {
	ID            string
	Name          string
	Enabled       bool // scheduled_policy.status == "ON"
	ResourceCount int  // policy_resource_count
	Schedule      Schedule
	// Problems lists fields of the policy that could not be decoded, each as
	// `field X: reason`; those fields keep their zero values. It is nil when
	// every field decoded.
	Problems []string
}

// Schedule is a policy's parsed scheduled_policy.
type Schedule struct {
	// StartTimes are the daily run times as offsets from midnight UTC, sorted
	// ascending, without duplicates ("02:00,14:00" gives 2h and 14h). The
	// vendor documents start_time in UTC; an item with its own zone
	// ("02:00+08:00") is converted.
	StartTimes []time.Duration
	// FrequencyDays is the number of days between runs (1-14); 0 when
	// unset. When set, it prevails over Weekdays.
	FrequencyDays int
	// Weekdays are the days the policy runs on, in Zone, sorted Sunday
	// first, without duplicates; used only when FrequencyDays is 0.
	Weekdays []time.Weekday
	// Zone is the policy's time_zone, the zone of its run days (and of the
	// local order of StartTimes); nil for UTC or when time_zone is absent
	// or could not be decoded.
	Zone *time.Location
	// RetentionNum and RetentionDays are rentention_num and rentention_day (0 when absent).
	RetentionNum  int
	RetentionDays int
	// KeepFirstBackupOfMonth is remain_first_backup_of_curMonth == "Y".
	KeepFirstBackupOfMonth bool
}
