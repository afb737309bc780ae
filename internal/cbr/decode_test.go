package cbr

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func ms(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// TestDecodeOperationLogsDocExample decodes the task list of cbr-api.md §7.
func TestDecodeOperationLogsDocExample(t *testing.T) {
	logs, page, err := DecodeOperationLogs(readTestdata(t, "operation_logs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if page != (Page{Count: 3, Limit: 1000, Offset: 0}) {
		t.Errorf("page = %+v", page)
	}
	const pol = "5b9e0c1d-2f3a-4b4c-8d5e-6f7a8b9c0d1e"
	vault := func(l OperationLog) OperationLog {
		l.OperationType, l.VaultID, l.VaultName = "backup", "7d1c2a3b-4e5f-4a6b-9c8d-0e1f2a3b4c5d", "vault-prod-disks"
		return l
	}
	want := []OperationLog{
		vault(OperationLog{Progress: 100, Job: backup.Job{
			ID: "c3f1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b", PolicyID: pol,
			ResourceID: "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f7a8b9", ResourceType: "OS::Cinder::Volume", ResourceName: "data-disk-01",
			Status: backup.StatusSuccess, RawStatus: "success",
			Created: ms("2025-06-02T02:00:03.118Z"), Started: ms("2025-06-02T02:00:03.102Z"),
			Updated: ms("2025-06-02T02:07:41.530Z"), Finished: ms("2025-06-02T02:07:41.497Z"),
		}}),
		vault(OperationLog{Progress: 0, Job: backup.Job{
			ID: "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70", PolicyID: pol,
			ResourceID: "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b", ResourceType: "OS::Cinder::Volume", ResourceName: "data-disk-02",
			Status: backup.StatusFail, RawStatus: "failed",
			Created: ms("2025-06-02T02:00:03.251Z"), Started: ms("2025-06-02T02:00:03.240Z"),
			Updated: ms("2025-06-02T02:00:09.874Z"), Finished: ms("2025-06-02T02:00:09.860Z"),
			ErrorCode: "BackupService.7003", ErrorMessage: "Backup is not allowed in the current disk status.",
		}}),
		vault(OperationLog{Progress: 37, Job: backup.Job{
			ID: "e7f8a9b0-c1d2-4e3f-8a4b-5c6d7e8f9a0b", PolicyID: pol,
			ResourceID: "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f7a8b9", ResourceType: "OS::Cinder::Volume", ResourceName: "data-disk-01",
			Status: backup.StatusRunning, RawStatus: "running",
			Created: ms("2025-06-03T02:00:02.907Z"), Started: ms("2025-06-03T02:00:02.893Z"),
			Updated: ms("2025-06-03T02:03:15.412Z"),
		}}),
	}
	if !reflect.DeepEqual(logs, want) {
		t.Errorf("got  %+v\nwant %+v", logs, want)
	}
	if d := logs[0].Duration(); d != 7*time.Minute+38*time.Second+395*time.Millisecond {
		t.Errorf("duration = %v", d)
	}
}

func TestDecodePoliciesDocExample(t *testing.T) {
	ps, err := DecodePolicies(readTestdata(t, "policies.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("got %d policies", len(ps))
	}
	p := ps[0]
	if p.ID != "5b9e0c1d-2f3a-4b4c-8d5e-6f7a8b9c0d1e" || p.Name != "nightly-disks" || !p.Enabled ||
		p.OperationType != "backup" || p.Problems != nil ||
		!reflect.DeepEqual(p.VaultIDs, []string{"7d1c2a3b-4e5f-4a6b-9c8d-0e1f2a3b4c5d"}) {
		t.Errorf("policy = %+v", p)
	}
	if got := p.Schedule.ExpectedInterval(); got != 24*time.Hour {
		t.Errorf("interval = %v, want 24h", got)
	}
	if !p.Schedule.Start.Equal(ms("2025-05-20T09:12:44Z")) ||
		!reflect.DeepEqual(p.Schedule.Patterns, []string{"FREQ=DAILY;INTERVAL=1;BYHOUR=2;BYMINUTE=00"}) {
		t.Errorf("schedule = %+v", p.Schedule)
	}
}

func TestDecodeVaultsDocExample(t *testing.T) {
	vs, page, err := DecodeVaults(readTestdata(t, "vaults.json"))
	if err != nil {
		t.Fatal(err)
	}
	if page != (Page{Count: 1, Limit: 1000, Offset: 0}) {
		t.Errorf("page = %+v", page)
	}
	want := []backup.Vault{{
		ID: "7d1c2a3b-4e5f-4a6b-9c8d-0e1f2a3b4c5d", Name: "vault-prod-disks",
		ObjectType: "disk", ProtectType: "backup", Status: "available",
		// 200 GB capacity, 51200 MB used: a quarter.
		CapacityBytes: 200 << 30, UsedBytes: 50 << 30, Threshold: 80,
		Resources: []backup.Resource{
			{ID: "3a4b5c6d-7e8f-4901-a2b3-c4d5e6f7a8b9", Type: "OS::Cinder::Volume", Name: "data-disk-01",
				SizeBytes: 100 << 30, BackupCount: 13, ProtectStatus: "protecting"},
			{ID: "8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b", Type: "OS::Cinder::Volume", Name: "data-disk-02",
				SizeBytes: 50 << 30, BackupCount: 11, ProtectStatus: "available"},
		},
	}}
	if !reflect.DeepEqual(vs, want) {
		t.Errorf("got  %+v\nwant %+v", vs, want)
	}
	if r := float64(vs[0].UsedBytes) / float64(vs[0].CapacityBytes); r != 0.25 {
		t.Errorf("usage ratio = %v, want 0.25", r)
	}
}

func TestMapStatus(t *testing.T) {
	for in, want := range map[string]backup.Status{
		"success": backup.StatusSuccess, "failed": backup.StatusFail, "timeout": backup.StatusTimeout,
		"skipped": backup.StatusSkip, "running": backup.StatusRunning, "waiting": backup.StatusWaiting,
		" SUCCESS ": backup.StatusSuccess, "": backup.StatusUnknown, "paused": backup.StatusUnknown,
		"EXECUTE_SUCCESS": backup.StatusUnknown,
	} {
		if got := MapStatus(in); got != want {
			t.Errorf("MapStatus(%q) = %v, want %v", in, got, want)
		}
	}
	for _, s := range backup.Statuses() {
		api := APIStatus(s)
		if s == backup.StatusUnknown {
			if api != "" {
				t.Errorf("APIStatus(UNKNOWN) = %q", api)
			}
			continue
		}
		if MapStatus(api) != s {
			t.Errorf("MapStatus(APIStatus(%v)) = %v", s, MapStatus(api))
		}
	}
}

func TestDecodeOperationLogsTolerant(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []OperationLog
	}{
		{"empty object element", `{"operation_logs":[{}]}`, []OperationLog{{Progress: -1, Job: backup.Job{Status: backup.StatusUnknown}}}},
		{"nulls everywhere", `{"operation_logs":[{"id":null,"status":null,"created_at":null,"error_info":null,"extra_info":{"resource":null,"common":{"progress":null}}}]}`,
			[]OperationLog{{Progress: -1, Job: backup.Job{Status: backup.StatusUnknown}}}},
		{"null list", `{"operation_logs":null,"count":0}`, []OperationLog{}},
		{"time formats and numeric code", `{"operation_logs":[{"id":"a","status":"timeout","created_at":"2020-02-23T01:00:32Z",
			"started_at":"2020-02-05T10:38:34.209782","updated_at":"2020-01-08 09:59:49","ended_at":"2019-05-23T16:35:23.584+02:00",
			"error_info":{"code":6500},"extra_info":{"resource":{"id":"r","type":"OS::Nova::Server"},"common":{"progress":"40"}}}]}`,
			[]OperationLog{{Progress: 40, Job: backup.Job{ID: "a", Status: backup.StatusTimeout, RawStatus: "timeout",
				Created: ms("2020-02-23T01:00:32Z"), Started: ms("2020-02-05T10:38:34.209782Z"),
				Updated: ms("2020-01-08T09:59:49Z"), Finished: ms("2019-05-23T14:35:23.584Z"),
				ErrorCode: "6500", ResourceID: "r", ResourceType: "OS::Nova::Server"}}}},
		{"unknown status kept", `{"operation_logs":[{"id":"b","status":"paused","operation_type":"migrate_resources"}]}`,
			[]OperationLog{{Progress: -1, OperationType: "migrate_resources", Job: backup.Job{ID: "b", Status: backup.StatusUnknown, RawStatus: "paused"}}}},
	} {
		got, _, err := DecodeOperationLogs([]byte(tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		decode           func([]byte) error
	}{
		{"logs not object", `[]`, "operation logs: body is an array, want an object", decLogs},
		{"logs empty", ``, "operation logs: empty body, want an object", decLogs},
		{"logs no key", `{"count":1}`, `operation logs: no "operation_logs" key`, decLogs},
		{"logs not array", `{"operation_logs":{}}`, `operation logs: "operation_logs" is an object, want an array`, decLogs},
		{"log not object", `{"operation_logs":[{},"x"]}`, "operation log #2: is a string, want an object", decLogs},
		{"bad time", `{"operation_logs":[{"id":"c3f1a2b4","ended_at":"soon"}]}`, `operation log "c3f1a2b4": field ended_at: cannot parse "soon" as a timestamp`, decLogs},
		{"bad id", `{"operation_logs":[{"id":5}]}`, `operation log #1: field id: is a number, want a string`, decLogs},
		{"bad resource", `{"operation_logs":[{"id":"x","extra_info":{"resource":[]}}]}`, `operation log "x": field extra_info.resource: is an array, want an object`, decLogs},
		{"truncated", `{"operation_logs":[`, "operation logs: unexpected end of JSON input", decLogs},
		{"single no key", `{}`, `operation log: no "operation_log" key`, func(b []byte) error { _, err := DecodeOperationLog(b); return err }},
		{"policies no key", `{"count":1}`, `policies: no "policies" key`, func(b []byte) error { _, err := DecodePolicies(b); return err }},
		{"policy not object", `{"policies":[1]}`, `policy #1: is a number, want an object`, func(b []byte) error { _, err := DecodePolicies(b); return err }},
		{"vault not object", `{"vaults":[null]}`, `vault #1: is null, want an object`, func(b []byte) error { _, _, err := DecodeVaults(b); return err }},
	} {
		err := tc.decode([]byte(tc.body))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func decLogs(b []byte) error { _, _, err := DecodeOperationLogs(b); return err }

func TestDecodePolicyProblems(t *testing.T) {
	ps, err := DecodePolicies([]byte(`{"policies":[
		{"id":"p1","name":7,"enabled":"yes","trigger":{"properties":{"pattern":["FREQ=YEARLY"]}},"associated_vaults":[{"vault_id":"v2"},{"vault_id":"v1"},{"vault_id":"v2"},{}]},
		{"id":"p2","enabled":"true","trigger":{"properties":{"pattern":"FREQ=WEEKLY;BYDAY=MO;BYHOUR=1;BYMINUTE=0","start_time":"2020-01-08 09:59:49"}}},
		{"id":"p3","trigger":{"properties":{"pattern":["FREQ=DAILY"],"start_time":"never"}},"associated_vaults":"v1"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{
		"field name: is a number, want a string",
		`field enabled: cannot use "yes" as a boolean`,
		`field trigger.properties.pattern: pattern 1 "FREQ=YEARLY": FREQ YEARLY is not supported (want DAILY or WEEKLY)`,
	}; !reflect.DeepEqual(ps[0].Problems, want) {
		t.Errorf("p1 problems = %q", ps[0].Problems)
	}
	if !reflect.DeepEqual(ps[0].VaultIDs, []string{"v1", "v2"}) || ps[0].Schedule.ExpectedInterval() != 0 {
		t.Errorf("p1 = %+v", ps[0])
	}
	if !ps[1].Enabled || ps[1].Problems != nil || ps[1].Schedule.ExpectedInterval() != 7*24*time.Hour {
		t.Errorf("p2 = %+v", ps[1])
	}
	if want := []string{
		`field trigger.properties.start_time: cannot parse "never" as a timestamp`,
		"field associated_vaults: is a string, want an array",
	}; !reflect.DeepEqual(ps[2].Problems, want) || ps[2].Schedule.ExpectedInterval() != 0 {
		t.Errorf("p3 = %+v", ps[2])
	}
}

func TestDecodeVaultUnits(t *testing.T) {
	vs, _, err := DecodeVaults([]byte(`{"vaults":[
		{"id":"a","billing":{"size":"1","used":1536,"allocated":1},"resources":[{"id":"r","size":3}]},
		{"id":"b","billing":{"size":10485760,"used":2147483647}},
		{"id":"c","billing":{"size":1.5,"used":true},"resources":{}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if vs[0].CapacityBytes != 1<<30 || vs[0].UsedBytes != 1536<<20 || vs[0].Resources[0].SizeBytes != 3<<30 || vs[0].Resources[0].BackupCount != -1 {
		t.Errorf("a = %+v", vs[0])
	}
	// The documented maximum size, 10485760 GB = 10 PiB, and int32's largest MB.
	if vs[1].CapacityBytes != 10485760<<30 || vs[1].UsedBytes != 2147483647<<20 {
		t.Errorf("b = %+v", vs[1])
	}
	want := []string{`field billing.size: cannot use "1.5" as an integer`, "field billing.used: is a boolean, want an integer", "field resources: is an object, want an array"}
	if !reflect.DeepEqual(vs[2].Problems, want) || vs[2].CapacityBytes != 0 {
		t.Errorf("c = %+v", vs[2])
	}
	if !strings.Contains(strings.Join(vs[2].Problems, ""), "billing") {
		t.Error("problems do not name the field")
	}
}
