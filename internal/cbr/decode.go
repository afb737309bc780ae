package cbr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/jsonfield"
)

// Byte units of the vault billing fields: the API gives size and allocated
// in GB and used in MB; the usage ratio it documents, used / (size × 1024),
// implies binary units.
const (
	bytesPerMB = 1 << 20
	bytesPerGB = 1 << 30
)

// OperationLog is one task ("operation log") of the task list, with the
// fields the exporter uses.
type OperationLog struct {
	// Job is the task in the neutral model: ID, PolicyID, the resource of
	// extra_info.resource, Status mapped by MapStatus with RawStatus the
	// API's word, the four times, and error_info's code and message.
	backup.Job
	// OperationType is e.g. "backup", "restore"; any string is kept.
	OperationType string
	VaultID       string
	VaultName     string
	// Progress is extra_info.common.progress (0–100), -1 when absent.
	Progress int
}

// Page is the paging part of a list response: "count", "limit" and
// "offset", each -1 when absent or not an integer. The client does not rely
// on them (cbr-api.md §2: count's meaning is undocumented).
type Page struct {
	Count, Limit, Offset int
}

// MapStatus maps a task status to the neutral model: success, failed,
// timeout, skipped, running and waiting map to EXECUTE_SUCCESS,
// EXECUTE_FAIL, EXECUTE_TIMEOUT, SKIP, RUNNING and WAITING; anything else
// (compared without regard to case and surrounding spaces) is UNKNOWN.
func MapStatus(s string) backup.Status {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "success":
		return backup.StatusSuccess
	case "failed":
		return backup.StatusFail
	case "timeout":
		return backup.StatusTimeout
	case "skipped":
		return backup.StatusSkip
	case "running":
		return backup.StatusRunning
	case "waiting":
		return backup.StatusWaiting
	}
	return backup.StatusUnknown
}

// APIStatus is the task status the API uses for s ("success" for
// EXECUTE_SUCCESS ...), "" for UNKNOWN.
func APIStatus(s backup.Status) string {
	switch s {
	case backup.StatusSuccess:
		return "success"
	case backup.StatusFail:
		return "failed"
	case backup.StatusTimeout:
		return "timeout"
	case backup.StatusSkip:
		return "skipped"
	case backup.StatusRunning:
		return "running"
	case backup.StatusWaiting:
		return "waiting"
	}
	return ""
}

type rawOpLog struct {
	ID            json.RawMessage `json:"id"`
	Status        json.RawMessage `json:"status"`
	OperationType json.RawMessage `json:"operation_type"`
	PolicyID      json.RawMessage `json:"policy_id"`
	VaultID       json.RawMessage `json:"vault_id"`
	VaultName     json.RawMessage `json:"vault_name"`
	CreatedAt     json.RawMessage `json:"created_at"`
	StartedAt     json.RawMessage `json:"started_at"`
	UpdatedAt     json.RawMessage `json:"updated_at"`
	EndedAt       json.RawMessage `json:"ended_at"`
	ErrorInfo     json.RawMessage `json:"error_info"`
	ExtraInfo     json.RawMessage `json:"extra_info"`
}

// DecodeOperationLogs decodes the body of the task list,
// {"operation_logs": [...], "count", "limit", "offset"}.
//
// Every field of a task may be missing or null (a missing string is "", a
// missing time the zero time). Times are parsed by hwcloud.ParseTime, which takes
// every documented form: "2020-02-23T01:00:32Z",
// "2019-05-23T14:35:23.584+00:00", "2020-02-05T10:38:34.209782" (UTC) and
// "2020-01-08 09:59:49". error_info.code may be a string or a number.
// Unknown keys are ignored.
//
// A body that is not a JSON object, lacks "operation_logs", or whose
// "operation_logs" is not an array of objects is an error; null is an empty
// page. A field of the wrong type is an error naming the task and the field:
// `operation log "c3f1a2b4": field ended_at: cannot parse "soon" as a
// timestamp` (`operation log #3` when it has no id).
func DecodeOperationLogs(data []byte) ([]OperationLog, Page, error) {
	elems, page, err := decodeList(data, "operation_logs", "operation logs")
	if err != nil {
		return nil, page, err
	}
	out := make([]OperationLog, 0, len(elems))
	for i, e := range elems {
		l, err := decodeOpLog(e, i)
		if err != nil {
			return nil, page, err
		}
		out = append(out, l)
	}
	return out, page, nil
}

// DecodeOperationLog decodes the body of the single-task call,
// {"operation_log": {...}}, as DecodeOperationLogs decodes one element.
func DecodeOperationLog(data []byte) (OperationLog, error) {
	var body struct {
		Log json.RawMessage `json:"operation_log"`
	}
	if err := unmarshalObject(data, &body, "operation log"); err != nil {
		return OperationLog{}, err
	}
	if len(body.Log) == 0 || jsonfield.IsNull(body.Log) {
		return OperationLog{}, errors.New(`operation log: no "operation_log" key`)
	}
	return decodeOpLog(body.Log, 0)
}

func decodeOpLog(elem json.RawMessage, i int) (OperationLog, error) {
	label := fmt.Sprintf("operation log #%d", i+1)
	var r rawOpLog
	if err := unmarshalElem(elem, &r, label); err != nil {
		return OperationLog{}, err
	}
	l := OperationLog{Progress: -1}
	var err error
	if l.ID, err = jsonfield.String(r.ID); err != nil {
		return OperationLog{}, fmt.Errorf("%s: field id: %w", label, err)
	}
	if l.ID != "" {
		label = fmt.Sprintf("operation log %q", hwcloud.Truncate(l.ID, 100))
	}
	d := fieldDecoder{label: label}
	d.str("status", r.Status, &l.RawStatus)
	l.Status = MapStatus(l.RawStatus)
	d.str("operation_type", r.OperationType, &l.OperationType)
	d.str("policy_id", r.PolicyID, &l.PolicyID)
	d.str("vault_id", r.VaultID, &l.VaultID)
	d.str("vault_name", r.VaultName, &l.VaultName)
	d.time("created_at", r.CreatedAt, &l.Created)
	d.time("started_at", r.StartedAt, &l.Started)
	d.time("updated_at", r.UpdatedAt, &l.Updated)
	d.time("ended_at", r.EndedAt, &l.Finished)
	if obj, ok := d.object("error_info", r.ErrorInfo); ok {
		d.code("error_info.code", obj["code"], &l.ErrorCode)
		d.str("error_info.message", obj["message"], &l.ErrorMessage)
	}
	if extra, ok := d.object("extra_info", r.ExtraInfo); ok {
		if res, ok := d.object("extra_info.resource", extra["resource"]); ok {
			d.str("extra_info.resource.id", res["id"], &l.ResourceID)
			d.str("extra_info.resource.type", res["type"], &l.ResourceType)
			d.str("extra_info.resource.name", res["name"], &l.ResourceName)
		}
		if common, ok := d.object("extra_info.common", extra["common"]); ok {
			if p := common["progress"]; len(p) > 0 && !jsonfield.IsNull(p) {
				d.int("extra_info.common.progress", p, &l.Progress)
			}
		}
	}
	if d.err != nil {
		return OperationLog{}, d.err
	}
	return l, nil
}

// Policy is one backup policy of the policy list.
type Policy struct {
	ID, Name string
	Enabled  bool
	// OperationType is "backup" or "replication".
	OperationType string
	// Schedule holds trigger.properties.pattern and start_time.
	Schedule Schedule
	// VaultIDs are associated_vaults[].vault_id, sorted, without duplicates.
	VaultIDs []string
	// Problems lists fields that could not be decoded, each as
	// `field X: reason`; those keep their zero values (a bad pattern leaves
	// the whole Schedule zero, so its interval is 0, unknown).
	Problems []string
}

// DecodePolicies decodes the body of the policy list,
// {"policies": [...], "count": N}.
//
// Fields: id, name, enabled (a boolean, or "true"/"false"), operation_type,
// trigger.properties.pattern (an array of strings, or one string) and
// .start_time, and associated_vaults[].vault_id. Missing or null fields are
// zero values; unknown keys are ignored. One bad field does not cost the
// other policies nor the policy's other fields: it is recorded in
// Policy.Problems, such as `field trigger.properties.pattern: pattern 1
// "FREQ=YEARLY": FREQ YEARLY is not supported (want DAILY or WEEKLY)`.
// Only a broken response fails as a whole: a body that is not an object, no
// "policies" key, a "policies" that is not an array, or an element that is
// not an object (`policy #2: is a string, want an object`).
func DecodePolicies(data []byte) ([]Policy, error) {
	elems, _, err := decodeList(data, "policies", "policies")
	if err != nil {
		return nil, err
	}
	out := make([]Policy, 0, len(elems))
	for i, e := range elems {
		p, err := decodePolicy(e, i)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func decodePolicy(elem json.RawMessage, i int) (Policy, error) {
	var raw map[string]json.RawMessage
	if err := unmarshalElem(elem, &raw, fmt.Sprintf("policy #%d", i+1)); err != nil {
		return Policy{}, err
	}
	var p Policy
	d := fieldDecoder{problems: &p.Problems}
	d.str("id", raw["id"], &p.ID)
	d.str("name", raw["name"], &p.Name)
	d.bool("enabled", raw["enabled"], &p.Enabled)
	d.str("operation_type", raw["operation_type"], &p.OperationType)
	if trig, ok := d.object("trigger", raw["trigger"]); ok {
		if props, ok := d.object("trigger.properties", trig["properties"]); ok {
			var patterns []string
			var start time.Time
			okP := d.strList("trigger.properties.pattern", props["pattern"], &patterns)
			okS := d.time("trigger.properties.start_time", props["start_time"], &start)
			if okP && okS {
				s, err := ParseSchedule(patterns, start)
				if err != nil {
					d.problem("trigger.properties.pattern", err)
				} else {
					p.Schedule = s
				}
			}
		}
	}
	if av := raw["associated_vaults"]; len(av) > 0 && !jsonfield.IsNull(av) {
		var list []json.RawMessage
		if err := json.Unmarshal(av, &list); err != nil {
			d.problem("associated_vaults", fmt.Errorf("is %s, want an array", jsonfield.Kind(av)))
		}
		for k, e := range list {
			obj, ok := d.object(fmt.Sprintf("associated_vaults[%d]", k), e)
			if !ok {
				continue
			}
			var id string
			if d.str(fmt.Sprintf("associated_vaults[%d].vault_id", k), obj["vault_id"], &id) && id != "" {
				p.VaultIDs = append(p.VaultIDs, id)
			}
		}
		slices.Sort(p.VaultIDs)
		p.VaultIDs = slices.Compact(p.VaultIDs)
	}
	return p, nil
}

// DecodeVaults decodes the body of the vault list,
// {"vaults": [...], "count", "limit", "offset"}, into the neutral model.
//
// Fields: id, name, threshold, billing.{size (GB), used (MB), status,
// object_type, protect_type} and resources[].{id, name, type,
// protect_status, size (GB), backup_count}. Capacity and used space are
// converted to bytes (GB = 2^30, MB = 2^20 bytes); a missing backup_count
// is -1. Integers may be JSON numbers or numeric strings. Missing or null
// fields are zero values; a bad field is recorded in Vault.Problems as for
// policies. PolicyIDs is left empty: the vault object does not name its
// policies. The failures as a whole are those of DecodePolicies.
func DecodeVaults(data []byte) ([]backup.Vault, Page, error) {
	elems, page, err := decodeList(data, "vaults", "vaults")
	if err != nil {
		return nil, page, err
	}
	out := make([]backup.Vault, 0, len(elems))
	for i, e := range elems {
		v, err := decodeVault(e, i)
		if err != nil {
			return nil, page, err
		}
		out = append(out, v)
	}
	return out, page, nil
}

func decodeVault(elem json.RawMessage, i int) (backup.Vault, error) {
	var raw map[string]json.RawMessage
	if err := unmarshalElem(elem, &raw, fmt.Sprintf("vault #%d", i+1)); err != nil {
		return backup.Vault{}, err
	}
	var v backup.Vault
	d := fieldDecoder{problems: &v.Problems}
	d.str("id", raw["id"], &v.ID)
	d.str("name", raw["name"], &v.Name)
	d.int("threshold", raw["threshold"], &v.Threshold)
	if b, ok := d.object("billing", raw["billing"]); ok {
		var size, used int64
		if d.int64("billing.size", b["size"], &size) {
			v.CapacityBytes = scale(size, bytesPerGB)
		}
		if d.int64("billing.used", b["used"], &used) {
			v.UsedBytes = scale(used, bytesPerMB)
		}
		d.str("billing.status", b["status"], &v.Status)
		d.str("billing.object_type", b["object_type"], &v.ObjectType)
		d.str("billing.protect_type", b["protect_type"], &v.ProtectType)
	}
	if rs := raw["resources"]; len(rs) > 0 && !jsonfield.IsNull(rs) {
		var list []json.RawMessage
		if err := json.Unmarshal(rs, &list); err != nil {
			d.problem("resources", fmt.Errorf("is %s, want an array", jsonfield.Kind(rs)))
		}
		for k, e := range list {
			f := func(name string) string { return fmt.Sprintf("resources[%d].%s", k, name) }
			obj, ok := d.object(fmt.Sprintf("resources[%d]", k), e)
			if !ok {
				continue
			}
			r := backup.Resource{BackupCount: -1}
			d.str(f("id"), obj["id"], &r.ID)
			d.str(f("type"), obj["type"], &r.Type)
			d.str(f("name"), obj["name"], &r.Name)
			d.str(f("protect_status"), obj["protect_status"], &r.ProtectStatus)
			var size int64
			if d.int64(f("size"), obj["size"], &size) {
				r.SizeBytes = scale(size, bytesPerGB)
			}
			if c := obj["backup_count"]; len(c) > 0 && !jsonfield.IsNull(c) {
				d.int(f("backup_count"), c, &r.BackupCount)
			}
			v.Resources = append(v.Resources, r)
		}
	}
	return v, nil
}

// scale multiplies n by unit, saturating instead of overflowing; negative
// values are kept negative (they are the API's, not ours to hide).
func scale(n, unit int64) int64 {
	if n > math.MaxInt64/unit {
		return math.MaxInt64
	}
	if n < math.MinInt64/unit {
		return math.MinInt64
	}
	return n * unit
}

// decodeList decodes {"<key>": [objects...], "count", "limit", "offset"}
// into the raw elements.
func decodeList(data []byte, key, what string) ([]json.RawMessage, Page, error) {
	page := Page{-1, -1, -1}
	var body map[string]json.RawMessage
	if err := unmarshalObject(data, &body, what); err != nil {
		return nil, page, err
	}
	for _, f := range []struct {
		k   string
		dst *int
	}{{"count", &page.Count}, {"limit", &page.Limit}, {"offset", &page.Offset}} {
		if raw := body[f.k]; len(raw) > 0 && !jsonfield.IsNull(raw) {
			if n, err := decodeInt(raw); err == nil {
				*f.dst = int(n)
			}
		}
	}
	list, ok := body[key]
	if !ok {
		return nil, page, fmt.Errorf("%s: no %q key", what, key)
	}
	if jsonfield.IsNull(list) {
		return []json.RawMessage{}, page, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(list, &elems); err != nil {
		return nil, page, fmt.Errorf("%s: %q is %s, want an array", what, key, jsonfield.Kind(list))
	}
	return elems, page, nil
}

// unmarshalObject decodes a response body that must be a JSON object.
func unmarshalObject(data []byte, v any, what string) error {
	if k := jsonfield.Kind(data); k != "an object" {
		if k == "missing" {
			return fmt.Errorf("%s: empty body, want an object", what)
		}
		if json.Valid(data) {
			return fmt.Errorf("%s: body is %s, want an object", what, k)
		}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// unmarshalElem decodes a list element that must be a JSON object.
func unmarshalElem(elem json.RawMessage, v any, label string) error {
	if k := jsonfield.Kind(elem); k != "an object" {
		return fmt.Errorf("%s: is %s, want an object", label, k)
	}
	if err := json.Unmarshal(elem, v); err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	return nil
}

// fieldDecoder decodes fields one by one. With problems set it records each
// bad field there and goes on (the field stays zero); otherwise the first
// bad field becomes err, prefixed with label, and later fields are skipped.
type fieldDecoder struct {
	label    string
	problems *[]string
	err      error
}

// problem records a bad field; it reports false for convenience.
func (d *fieldDecoder) problem(field string, err error) bool {
	if d.problems != nil {
		*d.problems = append(*d.problems, fmt.Sprintf("field %s: %v", field, err))
	} else if d.err == nil {
		d.err = fmt.Errorf("%s: field %s: %w", d.label, field, err)
	}
	return false
}

func (d *fieldDecoder) str(field string, raw json.RawMessage, dst *string) bool {
	if d.err != nil {
		return false
	}
	s, err := jsonfield.String(raw)
	if err != nil {
		return d.problem(field, err)
	}
	*dst = s
	return true
}

func (d *fieldDecoder) code(field string, raw json.RawMessage, dst *string) bool {
	if d.err != nil {
		return false
	}
	if jsonfield.Kind(raw) == "a number" {
		*dst = string(bytes.TrimSpace(raw))
		return true
	}
	return d.str(field, raw, dst)
}

func (d *fieldDecoder) time(field string, raw json.RawMessage, dst *time.Time) bool {
	var s string
	if !d.str(field, raw, &s) {
		return false
	}
	t, err := hwcloud.ParseTime(s)
	if err != nil {
		return d.problem(field, err)
	}
	*dst = t
	return true
}

func (d *fieldDecoder) int64(field string, raw json.RawMessage, dst *int64) bool {
	if d.err != nil {
		return false
	}
	n, err := decodeInt(raw)
	if err != nil {
		return d.problem(field, err)
	}
	*dst = n
	return true
}

func (d *fieldDecoder) int(field string, raw json.RawMessage, dst *int) bool {
	var n int64
	if !d.int64(field, raw, &n) {
		return false
	}
	if n > math.MaxInt32 || n < math.MinInt32 {
		return d.problem(field, fmt.Errorf("%d is out of range", n))
	}
	*dst = int(n)
	return true
}

func (d *fieldDecoder) bool(field string, raw json.RawMessage, dst *bool) bool {
	if d.err != nil || len(raw) == 0 || jsonfield.IsNull(raw) {
		return false
	}
	switch jsonfield.Kind(raw) {
	case "a boolean":
		*dst = string(bytes.TrimSpace(raw)) == "true"
		return true
	case "a string":
		s, _ := jsonfield.String(raw)
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			*dst = true
			return true
		case "false", "":
			*dst = false
			return true
		}
		return d.problem(field, fmt.Errorf("cannot use %q as a boolean", hwcloud.Truncate(s, 40)))
	}
	return d.problem(field, fmt.Errorf("is %s, want a boolean", jsonfield.Kind(raw)))
}

// object decodes an optional JSON object into its raw fields; ok is false
// when it is missing, null or bad (bad is recorded).
func (d *fieldDecoder) object(field string, raw json.RawMessage) (map[string]json.RawMessage, bool) {
	if d.err != nil || len(raw) == 0 || jsonfield.IsNull(raw) {
		return nil, false
	}
	if jsonfield.Kind(raw) != "an object" {
		d.problem(field, fmt.Errorf("is %s, want an object", jsonfield.Kind(raw)))
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		d.problem(field, err)
		return nil, false
	}
	return m, true
}

// strList accepts an array of strings, one string (a one-element list),
// null or nothing.
func (d *fieldDecoder) strList(field string, raw json.RawMessage, dst *[]string) bool {
	if d.err != nil {
		return false
	}
	switch jsonfield.Kind(raw) {
	case "missing", "null":
		return true
	case "a string":
		s, _ := jsonfield.String(raw)
		*dst = []string{s}
		return true
	case "an array":
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return d.problem(field, errors.New("want an array of strings"))
		}
		*dst = list
		return true
	}
	return d.problem(field, fmt.Errorf("is %s, want an array of strings", jsonfield.Kind(raw)))
}

// decodeInt is jsonfield.Int within 64 bits.
func decodeInt(raw json.RawMessage) (int64, error) { return jsonfield.Int(raw, 64) }
