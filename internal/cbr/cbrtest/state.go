package cbrtest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Policy is a backup policy as the simulator serves it.
type Policy struct {
	ID, Name string
	Enabled  bool
	// OperationType defaults to "backup".
	OperationType string
	// Patterns are the RRULE strings of trigger.properties.pattern.
	Patterns []string
	// Start is trigger.properties.start_time (zero: omitted).
	Start time.Time
	// VaultIDs are the associated vaults.
	VaultIDs []string
}

// Resource is a resource of a vault.
type Resource struct {
	ID, Name, Type string
	// ProtectStatus defaults to "available".
	ProtectStatus string
	// SizeGB is the capacity allocated to the resource, in GB.
	SizeGB      int
	BackupCount int
}

// Vault is a vault; its billing is in the API's units.
type Vault struct {
	ID, Name string
	// ObjectType ("disk", "server", ...), ProtectType ("backup"), Status
	// ("available", "lock", ...); defaults "disk", "backup", "available".
	ObjectType, ProtectType, Status string
	// SizeGB is billing.size (GB), UsedMB billing.used (MB).
	SizeGB, UsedMB int
	Threshold      int
	Resources      []Resource
}

// OperationLog is a task.
type OperationLog struct {
	// ID is the task id; PolicyID is "" for a manual backup.
	ID, PolicyID string
	// Status is the API's word: success, failed, timeout, skipped, running,
	// waiting (anything else is served as is).
	Status string
	// OperationType defaults to "backup".
	OperationType           string
	VaultID, VaultName      string
	ResourceID              string
	ResourceName            string
	ResourceType            string
	Created, Started        time.Time
	Updated, Ended          time.Time
	ErrorCode, ErrorMessage string
	Progress                int
}

// AddPolicy adds or replaces (by ID) a policy.
func (s *Server) AddPolicy(p Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.OperationType == "" {
		p.OperationType = "backup"
	}
	p.Patterns, p.VaultIDs = slices.Clone(p.Patterns), slices.Clone(p.VaultIDs)
	for i := range s.policies {
		if s.policies[i].ID == p.ID {
			s.policies[i] = p
			return
		}
	}
	s.policies = append(s.policies, p)
}

// AddVault adds or replaces (by ID) a vault.
func (s *Server) AddVault(v Vault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v.Resources = slices.Clone(v.Resources)
	for i := range s.vaults {
		if s.vaults[i].ID == v.ID {
			s.vaults[i] = v
			return
		}
	}
	s.vaults = append(s.vaults, v)
}

// AddLogs adds or replaces (by ID) tasks. A task without ID gets one.
func (s *Server) AddLogs(logs ...OperationLog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range logs {
		if l.ID == "" {
			s.nextID++
			l.ID = fmt.Sprintf("sim-%08d", s.nextID)
		}
		if l.OperationType == "" {
			l.OperationType = "backup"
		}
		if l.Updated.IsZero() {
			l.Updated = latest(l.Created, l.Started, l.Ended)
		}
		cp := l
		s.logs[l.ID] = &cp
	}
	s.sorted = nil
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// UpdateLog changes a task in place; fn gets a copy to modify. It reports
// whether the task exists.
func (s *Server) UpdateLog(id string, fn func(*OperationLog)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.logs[id]
	if !ok {
		return false
	}
	cp := *l
	fn(&cp)
	cp.ID = id
	s.logs[id] = &cp
	s.sorted = nil
	return true
}

// FinishLog sets a task's final status, end and update time.
func (s *Server) FinishLog(id, status string, ended time.Time) bool {
	return s.UpdateLog(id, func(l *OperationLog) {
		l.Status, l.Ended, l.Updated, l.Progress = status, ended, ended, 100
	})
}

// RemoveLog deletes a task.
func (s *Server) RemoveLog(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.logs, id)
	s.sorted = nil
}

// Log returns a task.
func (s *Server) Log(id string) (OperationLog, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.logs[id]
	if !ok {
		return OperationLog{}, false
	}
	return *l, true
}

// LogCount is the number of tasks held.
func (s *Server) LogCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.logs)
}

// Logs returns every task, oldest first.
func (s *Server) Logs() []OperationLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]OperationLog, 0, len(s.logs))
	for _, l := range s.sortedLocked() {
		out = append(out, *l)
	}
	return out
}

// Load adds a scenario's policies, vaults and tasks.
func (s *Server) Load(sc Scenario) {
	for _, p := range sc.Policies {
		s.AddPolicy(p)
	}
	for _, v := range sc.Vaults {
		s.AddVault(v)
	}
	s.AddLogs(sc.Logs...)
}

func (s *Server) sortedLocked() []*OperationLog {
	if s.sorted != nil {
		return s.sorted
	}
	out := make([]*OperationLog, 0, len(s.logs))
	for _, l := range s.logs {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b *OperationLog) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	s.sorted = out
	return out
}

// apiTime is the only time format the query parameters accept.
const apiTime = "2006-01-02T15:04:05Z"

// timeFormats are the documented response forms, used in turn.
var timeFormats = []string{
	"2006-01-02T15:04:05Z",
	"2006-01-02T15:04:05.000+00:00",
	"2006-01-02T15:04:05.000000",
	"2006-01-02 15:04:05",
}

// TimeFormat is the layout in which the simulator writes the times of the
// task with this ID: one of the documented forms, chosen by a hash of the ID.
func TimeFormat(id string) string {
	return timeFormats[hash(id)%uint64(len(timeFormats))]
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

var logStatuses = []string{"success", "failed", "timeout", "skipped", "running", "waiting"}

func (s *Server) listLogs(q url.Values) response {
	bad := func(msg string) response { return cbrError(http.StatusBadRequest, CodeInvalidParameter, msg) }
	limit, offset := 1000, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.opts.MaxLimit {
			return bad(fmt.Sprintf("Invalid limit %q: must be 1-%d.", v, s.opts.MaxLimit))
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return bad(fmt.Sprintf("Invalid offset %q.", v))
		}
		offset = n
	}
	var from, to time.Time
	for _, f := range []struct {
		k   string
		dst *time.Time
	}{{"start_time", &from}, {"end_time", &to}} {
		if v := q.Get(f.k); v != "" {
			t, err := time.Parse(apiTime, v)
			if err != nil || len(v) != len(apiTime) {
				return bad(fmt.Sprintf("Invalid %s %q: want YYYY-MM-DDTHH:MM:SSZ.", f.k, v))
			}
			*f.dst = t
		}
	}
	status := q.Get("status")
	if status != "" && !slices.Contains(logStatuses, status) {
		return bad(fmt.Sprintf("Invalid status %q.", status))
	}
	opType, resID, vaultID := q.Get("operation_type"), q.Get("resource_id"), q.Get("vault_id")

	s.mu.Lock()
	all := s.sortedLocked()
	if s.opts.TimeFilter != "updated_at" {
		// Sorted by created_at: cut the window by binary search.
		lo, hi := 0, len(all)
		if !from.IsZero() {
			lo = sort.Search(len(all), func(i int) bool { return !all[i].Created.Before(from) })
		}
		if !to.IsZero() {
			hi = sort.Search(len(all), func(i int) bool { return all[i].Created.After(to) })
		}
		all = all[lo:max(lo, hi)]
	}
	var match []*OperationLog
	for _, l := range all {
		t := l.Created
		if s.opts.TimeFilter == "updated_at" {
			t = l.Updated
		}
		switch {
		case !from.IsZero() && t.Before(from), !to.IsZero() && t.After(to),
			status != "" && l.Status != status, opType != "" && l.OperationType != opType,
			resID != "" && l.ResourceID != resID, vaultID != "" && l.VaultID != vaultID:
			continue
		}
		match = append(match, l)
	}
	switch s.opts.Order {
	case NewestFirst:
		slices.Reverse(match)
	case Scrambled:
		sort.SliceStable(match, func(i, j int) bool { return hash(match[i].ID) < hash(match[j].ID) })
	}
	count := len(match)
	var page []*OperationLog
	if offset < len(match) {
		page = match[offset:min(len(match), offset+limit)]
	}
	b := []byte(`{"operation_logs":[`)
	for i, l := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLog(b, l, s.opts.ProjectID)
	}
	s.mu.Unlock()
	b = fmt.Appendf(b, `],"count":%d,"limit":%d,"offset":%d}`, count, limit, offset)
	return response{http.StatusOK, b}
}

func (s *Server) showLog(id string) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.logs[id]
	if !ok {
		return cbrError(http.StatusNotFound, CodeLogNotFound, "Operation log does not exist.")
	}
	b := append([]byte(`{"operation_log":`), appendLog(nil, l, s.opts.ProjectID)...)
	return response{http.StatusOK, append(b, '}')}
}

// wireLog is the JSON of a task.
type wireLog struct {
	ID            string            `json:"id"`
	Status        string            `json:"status"`
	OperationType string            `json:"operation_type"`
	PolicyID      string            `json:"policy_id,omitempty"`
	ProviderID    string            `json:"provider_id"`
	ProjectID     string            `json:"project_id"`
	VaultID       string            `json:"vault_id,omitempty"`
	VaultName     string            `json:"vault_name,omitempty"`
	CreatedAt     string            `json:"created_at"`
	StartedAt     string            `json:"started_at"`
	UpdatedAt     string            `json:"updated_at"`
	EndedAt       string            `json:"ended_at,omitempty"`
	ErrorInfo     map[string]string `json:"error_info"`
	ExtraInfo     map[string]any    `json:"extra_info"`
}

func appendLog(b []byte, l *OperationLog, project string) []byte {
	layout := TimeFormat(l.ID)
	ft := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(layout)
	}
	w := wireLog{
		ID: l.ID, Status: l.Status, OperationType: l.OperationType, PolicyID: l.PolicyID,
		ProviderID: "d1603440-187d-4516-af25-121250c7cc97", ProjectID: project,
		VaultID: l.VaultID, VaultName: l.VaultName,
		CreatedAt: ft(l.Created), StartedAt: ft(l.Started), UpdatedAt: ft(l.Updated), EndedAt: ft(l.Ended),
		ErrorInfo: map[string]string{"code": l.ErrorCode, "message": l.ErrorMessage},
		ExtraInfo: map[string]any{
			"resource": map[string]string{"id": l.ResourceID, "name": l.ResourceName, "type": l.ResourceType},
			"common":   map[string]any{"progress": l.Progress, "request_id": "req-" + l.ID},
		},
	}
	data, _ := json.Marshal(w)
	return append(b, data...)
}

func (s *Server) listPolicies(q url.Values) response {
	opType, vaultID := q.Get("operation_type"), q.Get("vault_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []map[string]any{}
	for _, p := range s.policies {
		if opType != "" && p.OperationType != opType || vaultID != "" && !slices.Contains(p.VaultIDs, vaultID) {
			continue
		}
		av := []map[string]string{}
		for _, v := range p.VaultIDs {
			av = append(av, map[string]string{"vault_id": v})
		}
		props := map[string]any{"pattern": p.Patterns}
		if !p.Start.IsZero() {
			props["start_time"] = p.Start.UTC().Format("2006-01-02T15:04:05.000+00:00")
		}
		list = append(list, map[string]any{
			"id": p.ID, "name": p.Name, "enabled": p.Enabled, "operation_type": p.OperationType,
			"operation_definition": map[string]any{"max_backups": 14, "timezone": "UTC+00:00"},
			"trigger":              map[string]any{"id": "trigger-" + p.ID, "name": "default", "type": "time", "properties": props},
			"associated_vaults":    av,
		})
	}
	b, _ := json.Marshal(map[string]any{"policies": list, "count": len(list)})
	return response{http.StatusOK, b}
}

func (s *Server) listVaults(q url.Values) response {
	limit, offset := 1000, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return cbrError(http.StatusBadRequest, CodeInvalidParameter, fmt.Sprintf("Invalid limit %q.", v))
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return cbrError(http.StatusBadRequest, CodeInvalidParameter, fmt.Sprintf("Invalid offset %q.", v))
		}
		offset = n
	}
	policyID, objType := q.Get("policy_id"), q.Get("object_type")
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []Vault
	for _, v := range s.vaults {
		if objType != "" && def(v.ObjectType, "disk") != objType {
			continue
		}
		if policyID != "" && !slices.ContainsFunc(s.policies, func(p Policy) bool {
			return p.ID == policyID && slices.Contains(p.VaultIDs, v.ID)
		}) {
			continue
		}
		match = append(match, v)
	}
	list := []map[string]any{}
	for i := offset; i < len(match) && i < offset+limit; i++ {
		v := match[i]
		res := []map[string]any{}
		for _, r := range v.Resources {
			res = append(res, map[string]any{"id": r.ID, "name": r.Name, "type": r.Type,
				"protect_status": def(r.ProtectStatus, "available"), "size": r.SizeGB,
				"backup_size": r.BackupCount * 1024, "backup_count": r.BackupCount})
		}
		list = append(list, map[string]any{
			"id": v.ID, "name": v.Name, "project_id": s.opts.ProjectID,
			"provider_id": "d1603440-187d-4516-af25-121250c7cc97", "enterprise_project_id": "0",
			"created_at": "2025-05-20T09:10:02.518734", "auto_bind": false, "bind_rules": map[string]any{},
			"threshold": v.Threshold, "smn_notify": true, "locked": false, "tags": []any{},
			"billing": map[string]any{"size": v.SizeGB, "used": v.UsedMB, "allocated": v.SizeGB,
				"status": def(v.Status, "available"), "object_type": def(v.ObjectType, "disk"),
				"protect_type": def(v.ProtectType, "backup"), "charging_mode": "post_paid",
				"cloud_type": "public", "consistent_level": "crash_consistent", "spec_code": "vault.backup.volume.normal"},
			"resources": res,
		})
	}
	b, _ := json.Marshal(map[string]any{"vaults": list, "count": len(match), "limit": limit, "offset": offset})
	return response{http.StatusOK, b}
}

func def(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
