package cbrtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, s *Server, path string, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("%s: %v: %s", path, err, data)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", path)
	}
	return resp.StatusCode, body
}

func ids(body map[string]any) []string {
	var out []string
	list, _ := body["operation_logs"].([]any)
	for _, e := range list {
		out = append(out, e.(map[string]any)["id"].(string))
	}
	return out
}

func TestListOperationLogsFilters(t *testing.T) {
	s := NewServer(Options{SkipAuth: true})
	defer s.Close()
	t0 := time.Date(2025, 6, 2, 2, 0, 0, 0, time.UTC)
	s.AddLogs(
		OperationLog{ID: "a", Status: "success", Created: t0, Ended: t0.Add(time.Minute)},
		OperationLog{ID: "b", Status: "running", Created: t0.Add(time.Hour)},
		OperationLog{ID: "c", Status: "failed", Created: t0.Add(2 * time.Hour), OperationType: "restore"},
		OperationLog{ID: "d", Status: "waiting", Created: t0.Add(3 * time.Hour)},
	)
	p := "/v3/" + DefaultProjectID + "/operation-logs"
	for _, tc := range []struct {
		query string
		want  string
		count float64
	}{
		{"", "d,c,b,a", 4},
		{"?limit=2", "d,c", 4},
		{"?limit=2&offset=2", "b,a", 4},
		{"?offset=4", "", 4},
		{"?operation_type=backup", "d,b,a", 3},
		{"?status=running", "b", 1},
		{"?start_time=2025-06-02T03:00:00Z&end_time=2025-06-02T04:00:00Z", "c,b", 2},
	} {
		code, body := get(t, s, p+tc.query, nil)
		if code != 200 || strings.Join(ids(body), ",") != tc.want || body["count"] != tc.count {
			t.Errorf("%q: %d %v count %v, want %s count %v", tc.query, code, ids(body), body["count"], tc.want, tc.count)
		}
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?offset=-1", "?status=SUCCESS", "?start_time=2025-06-02T03:00:00.000Z", "?end_time=2025-06-02"} {
		code, body := get(t, s, p+q, nil)
		if code != 400 || body["error_code"] != CodeInvalidParameter || body["error_msg"] == "" {
			t.Errorf("%q: %d %v, want 400 %s", q, code, body, CodeInvalidParameter)
		}
	}
	code, body := get(t, s, p+"/zz", nil)
	if code != 404 || body["error_code"] != CodeLogNotFound || body["error_msg"] != "Operation log does not exist." {
		t.Errorf("unknown task: %d %v", code, body)
	}
	code, body = get(t, s, p+"/a", nil)
	if code != 200 || body["operation_log"].(map[string]any)["id"] != "a" {
		t.Errorf("show: %d %v", code, body)
	}
	code, body = get(t, s, "/v3/other/operation-logs", nil)
	if code != 403 || body["error_code"] != CodeNotAuthenticated {
		t.Errorf("other project: %d %v", code, body)
	}
	code, body = get(t, s, "/v2/x", nil)
	if code != 404 || body["error_code"] != CodeAPINotFound {
		t.Errorf("unknown path: %d %v", code, body)
	}
}

func TestOrdersAndTimeFilter(t *testing.T) {
	t0 := time.Date(2025, 6, 2, 2, 0, 0, 0, time.UTC)
	logs := []OperationLog{
		{ID: "a", Status: "success", Created: t0, Updated: t0.Add(5 * time.Hour)},
		{ID: "b", Status: "success", Created: t0.Add(time.Hour), Updated: t0.Add(time.Hour)},
	}
	for _, tc := range []struct {
		o     Options
		query string
		want  string
	}{
		{Options{Order: OldestFirst}, "", "a,b"},
		{Options{TimeFilter: "updated_at"}, "?start_time=2025-06-02T04:00:00Z", "a"},
		{Options{}, "?start_time=2025-06-02T04:00:00Z", ""},
	} {
		tc.o.SkipAuth = true
		s := NewServer(tc.o)
		s.AddLogs(logs...)
		_, body := get(t, s, "/v3/"+DefaultProjectID+"/operation-logs"+tc.query, nil)
		if got := strings.Join(ids(body), ","); got != tc.want {
			t.Errorf("%+v %q: %s, want %s", tc.o, tc.query, got, tc.want)
		}
		s.Close()
	}
}

func TestTimeFormatsServed(t *testing.T) {
	s := NewServer(Options{SkipAuth: true})
	defer s.Close()
	t0 := time.Date(2025, 6, 2, 2, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for i := 0; i < 40; i++ {
		id := UUID(uint64(i))
		s.AddLogs(OperationLog{ID: id, Status: "success", Created: t0})
		seen[TimeFormat(id)] = true
	}
	if len(seen) != len(timeFormats) {
		t.Errorf("formats used: %v", seen)
	}
	_, body := get(t, s, "/v3/"+DefaultProjectID+"/operation-logs/"+UUID(0), nil)
	if got := body["operation_log"].(map[string]any)["created_at"]; got != t0.Format(TimeFormat(UUID(0))) {
		t.Errorf("created_at = %v", got)
	}
}

func TestFaultsAndAuth(t *testing.T) {
	s := NewServer(Options{Tokens: []string{"tok"}})
	defer s.Close()
	p := "/v3/" + DefaultProjectID + "/policies"
	code, body := get(t, s, p, nil)
	if code != 401 || body["error_code"] != CodeAuthFailed || body["request_id"] == "" {
		t.Errorf("no credentials: %d %v", code, body)
	}
	if code, _ := get(t, s, p, map[string]string{"X-Auth-Token": "bad"}); code != 401 {
		t.Errorf("bad token: %d", code)
	}
	if code, _ := get(t, s, p, map[string]string{"X-Auth-Token": "tok", "X-Project-Id": "x"}); code != 401 {
		t.Errorf("other X-Project-Id: %d", code)
	}
	if code, body := get(t, s, p, map[string]string{"X-Auth-Token": "tok"}); code != 200 || body["policies"] == nil {
		t.Errorf("token: %d %v", code, body)
	}
	s.AddFault(Fault{Op: OpListPolicies, Status: 503, Code: "BackupService.9910", Message: "busy", Times: 1})
	s.AddFault(Fault{Op: OpListVaults, Status: 429, Code: CodeThrottled, Match: func(q url.Values) bool { return q.Get("offset") == "5" }})
	code, body = get(t, s, p, map[string]string{"X-Auth-Token": "tok"})
	if code != 503 || body["error_code"] != "BackupService.9910" || body["error_msg"] != "busy" {
		t.Errorf("fault: %d %v", code, body)
	}
	if code, _ := get(t, s, p, map[string]string{"X-Auth-Token": "tok"}); code != 200 {
		t.Errorf("fault not used up: %d", code)
	}
	if code, body := get(t, s, "/v3/"+DefaultProjectID+"/vaults?offset=5", nil); code != 429 || body["error_code"] != CodeThrottled || body["request_id"] == "" {
		t.Errorf("gateway fault: %d %v", code, body)
	}
	if n := s.Requests(OpListPolicies); n != 6 {
		t.Errorf("Requests = %d, want 6", n)
	}
}

func TestGenerate(t *testing.T) {
	now := DefaultGenNow()
	sc := Generate(GenOptions{Policies: 3, DisksPerPolicy: 4, Days: 10, Now: now})
	if len(sc.Policies) != 3 || len(sc.Vaults) != 3 || len(sc.Logs) != 3*4*10 {
		t.Fatalf("%d policies, %d vaults, %d logs", len(sc.Policies), len(sc.Vaults), len(sc.Logs))
	}
	ids := map[string]bool{}
	statuses := map[string]int{}
	for _, l := range sc.Logs {
		if ids[l.ID] || l.Created.After(now) {
			t.Fatalf("duplicate or future log %+v", l)
		}
		ids[l.ID] = true
		statuses[l.Status]++
		if (l.Status == "running" || l.Status == "waiting") != l.Ended.IsZero() {
			t.Errorf("log %s: status %s, ended %v", l.ID, l.Status, l.Ended)
		}
	}
	if statuses["success"] == 0 {
		t.Errorf("statuses %v", statuses)
	}
	again := Generate(GenOptions{Policies: 3, DisksPerPolicy: 4, Days: 10, Now: now})
	if again.Logs[7] != sc.Logs[7] {
		t.Error("not deterministic")
	}
}

func TestDemoScenario(t *testing.T) {
	now := time.Date(2025, 6, 4, 9, 0, 0, 0, time.UTC)
	sc := DemoScenario(now)
	statuses := map[string]bool{}
	manual := 0
	for _, l := range sc.Logs {
		statuses[l.Status] = true
		if l.PolicyID == "" {
			manual++
		}
		if l.Created.After(now) {
			t.Errorf("task %s created in the future", l.ID)
		}
	}
	for _, s := range append(logStatuses, "paused") {
		if !statuses[s] {
			t.Errorf("no %s task", s)
		}
	}
	if manual != 1 || len(sc.Policies) != 3 || len(sc.Vaults) != 2 || len(sc.Policies[1].VaultIDs) != 2 {
		t.Errorf("scenario shape: %d manual, %d policies, %d vaults", manual, len(sc.Policies), len(sc.Vaults))
	}
}
