package vbstest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud/hwcloudtest"
)

// Job statuses documented by the API.
const (
	StatusRunning        = "RUNNING"
	StatusWaiting        = "WAITING"
	StatusExecuteSuccess = "EXECUTE_SUCCESS"
	StatusExecuteFail    = "EXECUTE_FAIL"
	StatusExecuteTimeout = "EXECUTE_TIMEOUT"
	StatusSkip           = "SKIP"
)

// timeLayout is how CreatedAt and FinishedAt are sent: UTC without a zone,
// with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000"

func validStatus(s string) bool {
	switch s {
	case StatusRunning, StatusWaiting, StatusExecuteSuccess, StatusExecuteFail, StatusExecuteTimeout, StatusSkip:
		return true
	}
	return false
}

// Policy is a backup policy as the simulator serves it.
type Policy struct {
	// ID is backup_policy_id; Name is backup_policy_name.
	ID   string
	Name string
	// StartTime is sent verbatim as scheduled_policy.start_time, e.g. "02:00"
	// or "02:00,14:00".
	StartTime string
	// Frequency is scheduled_policy.frequency in days (sent when > 0); when
	// set it prevails over WeekFrequency, as the vendor documents.
	Frequency int
	// WeekFrequency is scheduled_policy.week_frequency, e.g. ["MON","THU"]
	// (sent when non-empty): local days in TimeZone.
	WeekFrequency []string
	// TimeZone is scheduled_policy.time_zone (sent when not empty), e.g.
	// "UTC+08:00"; the simulator's runs follow a "UTC±HH:MM" zone (see
	// scheduledRuns), other values are sent verbatim and read as UTC.
	TimeZone string
	// RetentionNum and RetentionDay are sent as rentention_num and
	// rentention_day (sic) when > 0.
	RetentionNum int
	RetentionDay int
	// KeepFirstBackupOfMonth is remain_first_backup_of_curMonth: "Y" or "N".
	KeepFirstBackupOfMonth bool
	// Enabled is scheduled_policy.status: "ON" or "OFF".
	Enabled bool
	// ResourceCount is policy_resource_count. If it is 0 and AutoResourceCount
	// is set, the number of distinct resource IDs among the policy's jobs is
	// sent instead.
	ResourceCount     int
	AutoResourceCount bool
	// Omit lists JSON keys to leave out: top-level keys ("backup_policy_name",
	// "scheduled_policy", "policy_resource_count", ...) and keys of
	// scheduled_policy prefixed with "scheduled_policy." (e.g.
	// "scheduled_policy.status").
	Omit []string
}

// Job is a backup job ("task") as the simulator serves it.
type Job struct {
	// JobID is job_id; it identifies the job within its policy (AddJobs
	// replaces a job with the same ID) and is the marker for paging.
	JobID string
	// Status is sent verbatim; normally one of the Status* constants.
	Status string
	// ResourceID, ResourceType and BackupName are resource_id,
	// resource_type (normally "volume") and backup_name.
	ResourceID   string
	ResourceType string
	BackupName   string
	// VBSJobID is vbs_job_id, sent when non-empty.
	VBSJobID string
	// Message is sent when non-empty.
	Message string
	// Code is sent as is (a string, a number, json.RawMessage...); nil omits it.
	Code any
	// CreatedAt and FinishedAt are sent in timeLayout (UTC, no zone); the zero
	// time omits the field. CreatedAt is also the sort key (zero sorts oldest).
	CreatedAt  time.Time
	FinishedAt time.Time
	// RawCreatedAt and RawFinishedAt, when non-empty, are sent verbatim instead
	// (quirk tests: "Z", offsets, garbage). They do not change the sort order.
	RawCreatedAt  string
	RawFinishedAt string
	// Omit lists JSON field names to leave out entirely, e.g. "status".
	// status, job_id, backup_name, resource_id and resource_type are sent
	// (possibly empty) unless omitted.
	Omit []string
}

func cloneJob(j Job) Job {
	j.Omit = slices.Clone(j.Omit)
	return j
}

func clonePolicy(p Policy) Policy {
	p.WeekFrequency = slices.Clone(p.WeekFrequency)
	p.Omit = slices.Clone(p.Omit)
	return p
}

// cmpNewestFirst orders by created_at then job_id, both descending.
func cmpNewestFirst(a, b Job) int {
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(b.JobID, a.JobID)
}

// policyState holds one policy and its jobs. jobs is sorted newest first when
// sorted is true; index maps every job ID to its current position in jobs.
type policyState struct {
	policy      Policy
	listed      bool
	jobs        []Job
	index       map[string]int
	sorted      bool
	statsValid  bool
	statusCount map[string]int
	resources   int
}

func newPolicyState() *policyState {
	return &policyState{index: map[string]int{}, sorted: true}
}

func (ps *policyState) ensureSorted() {
	if ps.sorted {
		return
	}
	slices.SortFunc(ps.jobs, cmpNewestFirst)
	clear(ps.index)
	for i := range ps.jobs {
		ps.index[ps.jobs[i].JobID] = i
	}
	ps.sorted = true
}

func (ps *policyState) ensureStats() {
	if ps.statsValid {
		return
	}
	ps.statusCount = map[string]int{}
	res := map[string]struct{}{}
	for i := range ps.jobs {
		ps.statusCount[ps.jobs[i].Status]++
		if id := ps.jobs[i].ResourceID; id != "" {
			res[id] = struct{}{}
		}
	}
	ps.resources = len(res)
	ps.statsValid = true
}

func (ps *policyState) add(j Job) {
	j = cloneJob(j)
	if i, ok := ps.index[j.JobID]; ok {
		if !ps.jobs[i].CreatedAt.Equal(j.CreatedAt) {
			ps.sorted = false
		}
		ps.jobs[i] = j
	} else {
		ps.index[j.JobID] = len(ps.jobs)
		ps.jobs = append(ps.jobs, j)
		ps.sorted = false
	}
	ps.statsValid = false
}

// state returns the policy state for id, creating an unlisted one if needed.
// Callers hold s.mu.
func (s *Server) state(id string) *policyState {
	ps := s.policies[id]
	if ps == nil {
		ps = newPolicyState()
		s.policies[id] = ps
	}
	return ps
}

// AddPolicy adds p, or replaces the policy with the same ID (keeping its jobs).
// Policies are listed in the order they were first added.
func (s *Server) AddPolicy(p Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addPolicyLocked(p)
}

func (s *Server) addPolicyLocked(p Policy) {
	ps := s.state(p.ID)
	if !ps.listed {
		ps.listed = true
		s.order = append(s.order, p.ID)
	}
	ps.policy = clonePolicy(p)
}

// RemovePolicy deletes the policy and its jobs; later calls for it get 404
// AutoBackup.0205.
func (s *Server) RemovePolicy(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.policies, id)
	s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
}

// Policies returns copies of the listed policies, in listing order.
func (s *Server) Policies() []Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Policy, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, clonePolicy(s.policies[id].policy))
	}
	return out
}

// AddJobs adds jobs to a policy; a job whose JobID already exists in the policy
// replaces it. Jobs may be added before their policy: they are served once
// AddPolicy adds it (until then the tasks call answers 404).
func (s *Server) AddJobs(policyID string, jobs ...Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.state(policyID)
	for _, j := range jobs {
		ps.add(j)
	}
}

// FinishJob sets a job's status and finished time (clearing RawFinishedAt).
func (s *Server) FinishJob(policyID, jobID, status string, finishedAt time.Time) error {
	return s.UpdateJob(policyID, jobID, func(j *Job) {
		j.Status = status
		j.FinishedAt = finishedAt
		j.RawFinishedAt = ""
	})
}

// UpdateJob calls fn with a copy of the job and stores the result. fn must not
// change JobID.
func (s *Server) UpdateJob(policyID, jobID string, fn func(*Job)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.policies[policyID]
	if ps == nil {
		return fmt.Errorf("vbstest: policy %q not found", policyID)
	}
	i, ok := ps.index[jobID]
	if !ok {
		return fmt.Errorf("vbstest: job %q not found in policy %q", jobID, policyID)
	}
	j := cloneJob(ps.jobs[i])
	fn(&j)
	if j.JobID != jobID {
		return fmt.Errorf("vbstest: UpdateJob must not change the job ID (%q to %q)", jobID, j.JobID)
	}
	if !j.CreatedAt.Equal(ps.jobs[i].CreatedAt) {
		ps.sorted = false
	}
	ps.jobs[i] = cloneJob(j)
	ps.statsValid = false
	return nil
}

// RemoveJob deletes a job, as the API does with jobs it no longer keeps: a
// job_id= query for it then answers an empty list.
func (s *Server) RemoveJob(policyID, jobID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.policies[policyID]
	if ps == nil {
		return fmt.Errorf("vbstest: policy %q not found", policyID)
	}
	i, ok := ps.index[jobID]
	if !ok {
		return fmt.Errorf("vbstest: job %q not found in policy %q", jobID, policyID)
	}
	ps.jobs = slices.Delete(ps.jobs, i, i+1)
	clear(ps.index)
	for k := range ps.jobs {
		ps.index[ps.jobs[k].JobID] = k
	}
	ps.statsValid = false
	return nil
}

// Jobs returns copies of a policy's jobs, newest first (created_at, then
// job_id, descending); nil for an unknown policy.
func (s *Server) Jobs(policyID string) []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.policies[policyID]
	if ps == nil {
		return nil
	}
	ps.ensureSorted()
	out := make([]Job, len(ps.jobs))
	for i := range ps.jobs {
		out[i] = cloneJob(ps.jobs[i])
	}
	return out
}

// Scenario is a complete simulator state: policies in listing order and the
// jobs of each policy by policy ID.
type Scenario struct {
	// Policies are listed in this order.
	Policies []Policy
	// Jobs holds each policy's jobs by policy ID (newest first when made by
	// Generate or DemoScenario; Load accepts any order).
	Jobs map[string][]Job
	// Volumes is the EVS volume list (see SetVolumes); nil names every disk
	// of the jobs by VolumeName.
	Volumes []Volume
}

// JobCount returns the number of jobs over all policies.
func (sc Scenario) JobCount() int {
	n := 0
	for _, js := range sc.Jobs {
		n += len(js)
	}
	return n
}

// Load replaces all policies, jobs and the volume list with sc (copied).
// Faults, tokens, counters and the access-key state are kept.
func (s *Server) Load(sc Scenario) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies = map[string]*policyState{}
	s.order = nil
	s.volumes = slices.Clone(sc.Volumes)
	for _, p := range sc.Policies {
		s.addPolicyLocked(p)
	}
	for id, jobs := range sc.Jobs {
		ps := s.state(id)
		ps.jobs = slices.Grow(ps.jobs, len(jobs))
		for _, j := range jobs {
			ps.add(j)
		}
	}
}

// taskQuery is a parsed tasks request.
type taskQuery struct {
	asc             bool
	limit, offset   int
	marker          string
	jobID           string
	status          string
	markerInclusive bool // FaultDuplicatePages
	countPage       bool // Options.CountIsPageSize
}

type paramError struct{ msg string }

// Error returns the message sent in the 400 body.
func (e *paramError) Error() string { return e.msg }

// parseRawQuery splits a raw query like the signature check does
// (hwcloudtest.DecodeQuery). The first value of a key wins; empty values are
// dropped.
func parseRawQuery(raw string) (map[string]string, error) {
	pairs, err := hwcloudtest.DecodeQuery(raw)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, kv := range pairs {
		if _, seen := out[kv[0]]; !seen && kv[1] != "" {
			out[kv[0]] = kv[1]
		}
	}
	return out, nil
}

func parseTaskQuery(raw string, maxLimit int) (taskQuery, error) {
	q := taskQuery{limit: defaultLimit}
	m, err := parseRawQuery(raw)
	if err != nil {
		return q, &paramError{"invalid query string"}
	}
	if v, ok := m["sort_dir"]; ok {
		switch v {
		case "asc":
			q.asc = true
		case "desc":
		default:
			return q, &paramError{"invalid sort_dir: must be asc or desc"}
		}
	}
	if v, ok := m["sort_key"]; ok && v != "created_at" {
		return q, &paramError{"invalid sort_key: must be created_at"}
	}
	if v, ok := m["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return q, &paramError{"invalid limit"}
		}
		q.limit = min(n, maxLimit)
	}
	if v, ok := m["offset"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return q, &paramError{"invalid offset"}
		}
		q.offset = n
	}
	if v, ok := m["status"]; ok {
		if !validStatus(v) {
			return q, &paramError{"invalid status"}
		}
		q.status = v
	}
	q.marker = m["marker"]
	q.jobID = m["job_id"]
	return q, nil
}

// renderTasks builds the tasks body for q. Callers hold s.mu.
func (ps *policyState) renderTasks(q taskQuery) ([]byte, error) {
	ps.ensureSorted()
	n := len(ps.jobs)
	// at maps the k-th position in the requested order to an index in jobs.
	at := func(k int) int {
		if q.asc {
			return n - 1 - k
		}
		return k
	}
	pos := func(idx int) int { return at(idx) } // at is its own inverse
	start := 0
	if q.marker != "" {
		idx, ok := ps.index[q.marker]
		if !ok {
			return nil, &paramError{"invalid marker"}
		}
		start = pos(idx) + 1
		if q.markerInclusive {
			start--
		}
	}
	b := make([]byte, 0, 64+q.limit*330)
	b = append(b, `{"tasks":[`...)
	count, written := 0, 0
	emit := func(j *Job) {
		if written > 0 {
			b = append(b, ',')
		}
		b = appendJob(b, j)
		written++
	}
	switch {
	case q.jobID != "":
		if idx, ok := ps.index[q.jobID]; ok && (q.status == "" || ps.jobs[idx].Status == q.status) {
			count = 1
			if pos(idx) >= start && q.offset == 0 {
				emit(&ps.jobs[idx])
			}
		}
	case q.status == "":
		count = n
		for k := start + q.offset; k < n && written < q.limit; k++ {
			emit(&ps.jobs[at(k)])
		}
	default:
		ps.ensureStats()
		count = ps.statusCount[q.status]
		skip := q.offset
		for k := start; k < n && written < q.limit; k++ {
			j := &ps.jobs[at(k)]
			if j.Status != q.status {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			emit(j)
		}
	}
	if q.countPage {
		count = written
	}
	b = append(b, `],"count":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, '}')
	return b, nil
}

func (s *Server) listTasks(r *http.Request, policyID string, f *Fault) response {
	q, err := parseTaskQuery(r.URL.RawQuery, s.opts.MaxLimit)
	if err != nil {
		return vbsError(http.StatusBadRequest, codeInvalidParameter, err.Error())
	}
	q.countPage = s.opts.CountIsPageSize
	if f != nil {
		switch f.Kind {
		case FaultStuckMarker:
			q.marker = ""
		case FaultDuplicatePages:
			q.markerInclusive = true
		}
	}
	s.mu.Lock()
	ps := s.policies[policyID]
	if ps == nil || !ps.listed {
		s.mu.Unlock()
		return vbsError(http.StatusNotFound, codePolicyNotFound, "The backup policy does not exist.")
	}
	body, err := ps.renderTasks(q)
	s.mu.Unlock()
	if err != nil {
		return vbsError(http.StatusBadRequest, codeInvalidParameter, err.Error())
	}
	return jsonResponse(http.StatusOK, body)
}

func (s *Server) listPolicies() response {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := []byte(`{"backup_policies":[`)
	for i, id := range s.order {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPolicy(b, s.policies[id])
	}
	b = append(b, "]}"...)
	return jsonResponse(http.StatusOK, b)
}

// objWriter appends a JSON object field by field.
type objWriter struct {
	b []byte
	n int
}

func (o *objWriter) key(k string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = appendString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *objWriter) str(k, v string) {
	o.key(k)
	o.b = appendString(o.b, v)
}

func (o *objWriter) time(k string, t time.Time) {
	o.key(k)
	o.b = append(o.b, '"')
	o.b = t.UTC().AppendFormat(o.b, timeLayout)
	o.b = append(o.b, '"')
}

func (o *objWriter) int(k string, v int) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, int64(v), 10)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			enc, _ := json.Marshal(s)
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendJob(b []byte, j *Job) []byte {
	keep := func(name string) bool { return len(j.Omit) == 0 || !slices.Contains(j.Omit, name) }
	o := objWriter{b: append(b, '{')}
	if keep("status") {
		o.str("status", j.Status)
	}
	if keep("job_id") {
		o.str("job_id", j.JobID)
	}
	if keep("created_at") {
		if j.RawCreatedAt != "" {
			o.str("created_at", j.RawCreatedAt)
		} else if !j.CreatedAt.IsZero() {
			o.time("created_at", j.CreatedAt)
		}
	}
	if keep("finished_at") {
		if j.RawFinishedAt != "" {
			o.str("finished_at", j.RawFinishedAt)
		} else if !j.FinishedAt.IsZero() {
			o.time("finished_at", j.FinishedAt)
		}
	}
	if keep("backup_name") {
		o.str("backup_name", j.BackupName)
	}
	if keep("resource_id") {
		o.str("resource_id", j.ResourceID)
	}
	if keep("resource_type") {
		o.str("resource_type", j.ResourceType)
	}
	if keep("vbs_job_id") && j.VBSJobID != "" {
		o.str("vbs_job_id", j.VBSJobID)
	}
	if keep("message") && j.Message != "" {
		o.str("message", j.Message)
	}
	if keep("code") && j.Code != nil {
		o.key("code")
		if s, ok := j.Code.(string); ok {
			o.b = appendString(o.b, s)
		} else if enc, err := json.Marshal(j.Code); err == nil {
			o.b = append(o.b, enc...)
		} else {
			o.b = append(o.b, "null"...)
		}
	}
	return append(o.b, '}')
}

func yn(v bool, yes, no string) string {
	if v {
		return yes
	}
	return no
}

func appendPolicy(b []byte, ps *policyState) []byte {
	p := &ps.policy
	keep := func(name string) bool { return !slices.Contains(p.Omit, name) }
	o := objWriter{b: append(b, '{')}
	if keep("backup_policy_id") {
		o.str("backup_policy_id", p.ID)
	}
	if keep("backup_policy_name") {
		o.str("backup_policy_name", p.Name)
	}
	if keep("scheduled_policy") {
		o.key("scheduled_policy")
		sp := objWriter{b: append(o.b, '{')}
		if keep("scheduled_policy.start_time") {
			sp.str("start_time", p.StartTime)
		}
		if keep("scheduled_policy.frequency") && p.Frequency > 0 {
			sp.int("frequency", p.Frequency)
		}
		if keep("scheduled_policy.week_frequency") && len(p.WeekFrequency) > 0 {
			sp.key("week_frequency")
			sp.b = append(sp.b, '[')
			for i, d := range p.WeekFrequency {
				if i > 0 {
					sp.b = append(sp.b, ',')
				}
				sp.b = appendString(sp.b, d)
			}
			sp.b = append(sp.b, ']')
		}
		if keep("scheduled_policy.time_zone") && p.TimeZone != "" {
			sp.str("time_zone", p.TimeZone)
		}
		if keep("scheduled_policy.rentention_num") && p.RetentionNum > 0 {
			sp.int("rentention_num", p.RetentionNum)
		}
		if keep("scheduled_policy.rentention_day") && p.RetentionDay > 0 {
			sp.int("rentention_day", p.RetentionDay)
		}
		if keep("scheduled_policy.remain_first_backup_of_curMonth") {
			sp.str("remain_first_backup_of_curMonth", yn(p.KeepFirstBackupOfMonth, "Y", "N"))
		}
		if keep("scheduled_policy.status") {
			sp.str("status", yn(p.Enabled, "ON", "OFF"))
		}
		o.b = append(sp.b, '}')
	}
	if keep("policy_resource_count") {
		n := p.ResourceCount
		if n == 0 && p.AutoResourceCount {
			ps.ensureStats()
			n = ps.resources
		}
		o.int("policy_resource_count", n)
	}
	return append(o.b, '}')
}
