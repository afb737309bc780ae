package vbs

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/jsonfield"
)

// rawTask holds one element of "tasks" with every field left raw, so that each
// can be checked on its own and an error can name the field and the job.
type rawTask struct {
	Status       json.RawMessage `json:"status"`
	JobID        json.RawMessage `json:"job_id"`
	CreatedAt    json.RawMessage `json:"created_at"`
	FinishedAt   json.RawMessage `json:"finished_at"`
	BackupName   json.RawMessage `json:"backup_name"`
	ResourceID   json.RawMessage `json:"resource_id"`
	ResourceType json.RawMessage `json:"resource_type"`
	VBSJobID     json.RawMessage `json:"vbs_job_id"`
	Message      json.RawMessage `json:"message"`
	Code         json.RawMessage `json:"code"`
}

// decodeTasksPage decodes the body of a backup-jobs response,
// {"tasks": [...], "count": N}.
//
// Every task field may be missing or null (a missing string is "", a missing
// timestamp the zero time). Timestamps are parsed with ParseTime. "code" may be
// a string or a number (kept as its literal text, e.g. "0"). A status outside
// the documented ones is kept verbatim. Unknown keys are ignored.
//
// count is the "count" field as sent (documented as the total number of
// matching jobs, not the page size), or -1 when it is absent or not an
// integer; the client does not use it.
//
// A body that is not a JSON object, lacks the "tasks" key, or has a "tasks"
// that is not an array of objects is an error; "tasks": null is an empty page.
// A bad field is an error naming the job and the field, such as
// `task "c11b5a18": field finished_at: cannot parse "yesterday" as a timestamp`
// (`task #3` when the job has no job_id).
func decodeTasksPage(data []byte) (tasks []Task, count int, err error) {
	var page struct {
		Tasks json.RawMessage `json:"tasks"`
		Count json.RawMessage `json:"count"`
	}
	if err := json.Unmarshal(data, &page); err != nil {
		if isTypeError(err) {
			return nil, 0, fmt.Errorf("tasks page: body is %s, want an object", jsonfield.Kind(data))
		}
		return nil, 0, fmt.Errorf("tasks page: %w", err)
	}
	count = -1
	if n, err := decodeInt(page.Count); err == nil && len(page.Count) > 0 && !jsonfield.IsNull(page.Count) {
		count = n
	}
	if len(page.Tasks) == 0 {
		return nil, 0, errors.New(`tasks page: no "tasks" key`)
	}
	if jsonfield.IsNull(page.Tasks) {
		return []Task{}, count, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(page.Tasks, &elems); err != nil {
		return nil, 0, fmt.Errorf(`tasks page: "tasks" is %s, want an array`, jsonfield.Kind(page.Tasks))
	}
	tasks = make([]Task, 0, len(elems))
	for i, elem := range elems {
		t, err := decodeTask(elem, i)
		if err != nil {
			return nil, 0, err
		}
		tasks = append(tasks, t)
	}
	return tasks, count, nil
}

// decodeTask decodes the i-th (0-based) element of "tasks".
func decodeTask(elem json.RawMessage, i int) (Task, error) {
	label := fmt.Sprintf("task #%d", i+1)
	if jsonfield.Kind(elem) != "an object" {
		return Task{}, fmt.Errorf("%s: is %s, want an object", label, jsonfield.Kind(elem))
	}
	var rt rawTask
	if err := json.Unmarshal(elem, &rt); err != nil {
		return Task{}, fmt.Errorf("%s: %w", label, err)
	}
	var t Task
	var err error
	if t.JobID, err = jsonfield.String(rt.JobID); err != nil {
		return Task{}, fmt.Errorf("%s: field job_id: %w", label, err)
	}
	if t.JobID != "" {
		label = fmt.Sprintf("task %q", hwcloud.Truncate(t.JobID, 100))
	}
	fieldErr := func(field string, err error) error {
		return fmt.Errorf("%s: field %s: %w", label, field, err)
	}
	strs := []struct {
		name string
		raw  json.RawMessage
		dst  *string
	}{
		{"backup_name", rt.BackupName, &t.BackupName},
		{"resource_id", rt.ResourceID, &t.ResourceID},
		{"resource_type", rt.ResourceType, &t.ResourceType},
		{"vbs_job_id", rt.VBSJobID, &t.VBSJobID},
		{"message", rt.Message, &t.Message},
	}
	var status string
	if status, err = jsonfield.String(rt.Status); err != nil {
		return Task{}, fieldErr("status", err)
	}
	t.Status = Status(status)
	for _, f := range strs {
		if *f.dst, err = jsonfield.String(f.raw); err != nil {
			return Task{}, fieldErr(f.name, err)
		}
	}
	if t.Code, err = jsonfield.Code(rt.Code); err != nil {
		return Task{}, fieldErr("code", err)
	}
	times := []struct {
		name string
		raw  json.RawMessage
		dst  *time.Time
	}{
		{"created_at", rt.CreatedAt, &t.CreatedAt},
		{"finished_at", rt.FinishedAt, &t.FinishedAt},
	}
	for _, f := range times {
		s, err := jsonfield.String(f.raw)
		if err != nil {
			return Task{}, fieldErr(f.name, err)
		}
		v, err := hwcloud.ParseTime(s)
		if err != nil {
			return Task{}, fieldErr(f.name, err)
		}
		*f.dst = v
	}
	return t, nil
}

// rawPolicy holds one element of "backup_policies" with its fields left raw.
type rawPolicy struct {
	ID       json.RawMessage `json:"backup_policy_id"`
	Name     json.RawMessage `json:"backup_policy_name"`
	Schedule json.RawMessage `json:"scheduled_policy"`
	Count    json.RawMessage `json:"policy_resource_count"`
	TimeZone json.RawMessage `json:"time_zone"`
}

// rawSchedule is scheduled_policy with its fields left raw.
type rawSchedule struct {
	StartTime     json.RawMessage `json:"start_time"`
	Frequency     json.RawMessage `json:"frequency"`
	WeekFrequency json.RawMessage `json:"week_frequency"`
	// The API spells these "rentention"; the correct spelling is accepted too.
	RententionNum json.RawMessage `json:"rentention_num"`
	RententionDay json.RawMessage `json:"rentention_day"`
	RetentionNum  json.RawMessage `json:"retention_num"`
	RetentionDay  json.RawMessage `json:"retention_day"`
	RemainFirst   json.RawMessage `json:"remain_first_backup_of_curMonth"`
	Status        json.RawMessage `json:"status"`
	TimeZone      json.RawMessage `json:"time_zone"`
}

// decodePolicies decodes the body of a backup-policies response,
// {"backup_policies": [...]}.
//
// Fields: backup_policy_id, backup_policy_name, policy_resource_count and
// scheduled_policy with start_time (see parseStartTimes), frequency,
// week_frequency (see parseWeekdays; an array of names or one comma-separated
// string), rentention_num, rentention_day (the API's spelling; "retention_*"
// is accepted too), remain_first_backup_of_curMonth ("Y"/"N") and status
// ("ON"/"OFF", giving Policy.Enabled). Integers may be JSON numbers or numeric
// strings; missing or null fields are zero values. When a policy has both
// frequency and week_frequency, frequency prevails (the vendor's create and
// modify pages say so); the weekdays are kept in Schedule.Weekdays. time_zone
// (see parseZone) is read from scheduled_policy or, as the vendor's Python
// SDK fixture has it, from the policy itself; one that cannot be decoded is a
// problem that leaves Schedule.Zone nil (UTC) and keeps the rest of the
// schedule. Unknown keys are ignored. A policy without backup_policy_id is kept with an
// empty ID.
//
// One bad field does not cost the other policies, nor the policy's other
// fields: the policy is kept with that field at its zero value, and the
// problem is recorded in Policy.Problems, such as
// `field scheduled_policy.start_time: cannot parse "25:00" as a start time (want HH:MM)`.
// start_time, frequency and week_frequency make one schedule: when any of
// them is bad, StartTimes, FrequencyDays and Weekdays are all left zero, so
// that ExpectedInterval is 0 (unknown) rather than a guess from the rest. A
// scheduled_policy that is not an object leaves the whole Schedule and
// Enabled zero.
//
// The decode fails as a whole only for a broken response: a body that is not
// a JSON object, a missing "backup_policies" key, a "backup_policies" that is
// not an array, or an element that is not an object, such as
// `policy #2: is a string, want an object`. "backup_policies": null is an
// empty list.
func decodePolicies(data []byte) ([]Policy, error) {
	var body struct {
		Policies json.RawMessage `json:"backup_policies"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		if isTypeError(err) {
			return nil, fmt.Errorf("policies: body is %s, want an object", jsonfield.Kind(data))
		}
		return nil, fmt.Errorf("policies: %w", err)
	}
	if len(body.Policies) == 0 {
		return nil, errors.New(`policies: no "backup_policies" key`)
	}
	if jsonfield.IsNull(body.Policies) {
		return []Policy{}, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(body.Policies, &elems); err != nil {
		return nil, fmt.Errorf(`policies: "backup_policies" is %s, want an array`, jsonfield.Kind(body.Policies))
	}
	policies := make([]Policy, 0, len(elems))
	for i, elem := range elems {
		p, err := decodePolicy(elem, i)
		if err != nil {
			return nil, err
		}
		policies = append(policies, p)
	}
	return policies, nil
}

// decodePolicy decodes the i-th (0-based) element of "backup_policies". Only
// an element that is not a JSON object is an error; a bad field is recorded
// in Policy.Problems and left zero.
func decodePolicy(elem json.RawMessage, i int) (Policy, error) {
	if jsonfield.Kind(elem) != "an object" {
		return Policy{}, fmt.Errorf("policy #%d: is %s, want an object", i+1, jsonfield.Kind(elem))
	}
	var rp rawPolicy
	if err := json.Unmarshal(elem, &rp); err != nil {
		return Policy{}, fmt.Errorf("policy #%d: %w", i+1, err)
	}
	var p Policy
	problem := func(field string, err error) {
		p.Problems = append(p.Problems, fmt.Sprintf("field %s: %v", field, err))
	}
	var err error
	if p.ID, err = jsonfield.String(rp.ID); err != nil {
		problem("backup_policy_id", err)
	}
	if p.Name, err = jsonfield.String(rp.Name); err != nil {
		problem("backup_policy_name", err)
	}
	if p.ResourceCount, err = decodeInt(rp.Count); err != nil {
		problem("policy_resource_count", err)
	}
	if len(rp.Schedule) == 0 || jsonfield.IsNull(rp.Schedule) {
		return p, nil
	}
	if jsonfield.Kind(rp.Schedule) != "an object" {
		problem("scheduled_policy", fmt.Errorf("is %s, want an object", jsonfield.Kind(rp.Schedule)))
		return p, nil
	}
	var rs rawSchedule
	if err := json.Unmarshal(rp.Schedule, &rs); err != nil { // not expected: elem is valid JSON
		problem("scheduled_policy", err)
		return p, nil
	}
	sproblem := func(field string, err error) { problem("scheduled_policy."+field, err) }

	// The run times: each of the three fields is checked on its own so that
	// every bad one is reported; any bad one leaves all three zero.
	var sched Schedule
	runOK := true
	if start, err := jsonfield.String(rs.StartTime); err != nil {
		sproblem("start_time", err)
		runOK = false
	} else if sched.StartTimes, err = parseStartTimes(start); err != nil {
		sproblem("start_time", err)
		runOK = false
	}
	if freq, err := decodeInt(rs.Frequency); err != nil {
		sproblem("frequency", err)
		runOK = false
	} else if err := checkFrequency(freq); err != nil {
		sproblem("frequency", err)
		runOK = false
	} else {
		sched.FrequencyDays = freq
	}
	if week, err := jsonfield.StringList(rs.WeekFrequency); err != nil {
		sproblem("week_frequency", err)
		runOK = false
	} else if sched.Weekdays, err = parseWeekdays(week); err != nil {
		sproblem("week_frequency", err)
		runOK = false
	}
	if !runOK {
		sched = Schedule{}
	}
	tzRaw, tzField := rs.TimeZone, "scheduled_policy.time_zone"
	if len(tzRaw) == 0 || jsonfield.IsNull(tzRaw) {
		tzRaw, tzField = rp.TimeZone, "time_zone"
	}
	if tz, err := jsonfield.String(tzRaw); err != nil {
		problem(tzField, fmt.Errorf("%w; assuming UTC", err))
	} else if sched.Zone, err = parseZone(tz); err != nil {
		problem(tzField, fmt.Errorf("%w; assuming UTC", err))
	}

	ints := []struct {
		name     string
		raw, alt json.RawMessage
		dst      *int
	}{
		{"rentention_num", rs.RententionNum, rs.RetentionNum, &sched.RetentionNum},
		{"rentention_day", rs.RententionDay, rs.RetentionDay, &sched.RetentionDays},
	}
	for _, f := range ints {
		raw := f.raw
		if len(raw) == 0 {
			raw = f.alt
		}
		if *f.dst, err = decodeInt(raw); err != nil {
			sproblem(f.name, err)
		}
	}
	if sched.KeepFirstBackupOfMonth, err = jsonfield.Flag(rs.RemainFirst, "Y"); err != nil {
		sproblem("remain_first_backup_of_curMonth", err)
	}
	if p.Enabled, err = jsonfield.Flag(rs.Status, "ON"); err != nil {
		sproblem("status", err)
	}
	p.Schedule = sched
	return p, nil
}

// isTypeError reports whether err is a JSON type mismatch.
func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// decodeInt is jsonfield.Int within 32 bits, the range of VBS's counts.
func decodeInt(raw json.RawMessage) (int, error) {
	n, err := jsonfield.Int(raw, 32)
	return int(n), err
}
