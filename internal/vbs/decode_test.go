package vbs

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func utc(y int, mo time.Month, d, h, mi, s, ms int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ms*int(time.Millisecond), time.UTC)
}

func TestDecodeTasksPageVendorExample(t *testing.T) {
	body := `{
  "tasks": [
    {"status": "RUNNING", "job_id": "0781095c-b8ab-4ce5-99f3-4b5f6b2d1c8e", "created_at": "2016-12-03T06:24:34.467",
     "backup_name": "autobk_a61d", "resource_id": "f47a4ab5-11f5-4509-97f5-80ce0dd74e37", "resource_type": "volume"},
    {"status": "EXECUTE_SUCCESS", "job_id": "c11b5a18-b2dd-4b49-a2d7-2a5b0d1c3f11", "created_at": "2016-12-02T09:06:46.706",
     "finished_at": "2016-12-02T13:00:00.121", "backup_name": "autobk_e6d2",
     "resource_id": "f47a4ab5-11f5-4509-97f5-80ce0dd74e37", "resource_type": "volume"}
  ],
  "count": 2
}`
	tasks, count, err := decodeTasksPage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []Task{
		{JobID: "0781095c-b8ab-4ce5-99f3-4b5f6b2d1c8e", Status: StatusRunning, ResourceID: "f47a4ab5-11f5-4509-97f5-80ce0dd74e37",
			ResourceType: "volume", BackupName: "autobk_a61d", CreatedAt: utc(2016, 12, 3, 6, 24, 34, 467)},
		{JobID: "c11b5a18-b2dd-4b49-a2d7-2a5b0d1c3f11", Status: StatusExecuteSuccess, ResourceID: "f47a4ab5-11f5-4509-97f5-80ce0dd74e37",
			ResourceType: "volume", BackupName: "autobk_e6d2", CreatedAt: utc(2016, 12, 2, 9, 6, 46, 706), FinishedAt: utc(2016, 12, 2, 13, 0, 0, 121)},
	}
	if !reflect.DeepEqual(tasks, want) || count != 2 {
		t.Errorf("got %+v count %d", tasks, count)
	}
}

func TestDecodeTasksPageFieldForms(t *testing.T) {
	body := `{"tasks": [
	  {"job_id": "a", "code": 0, "message": "ok", "vbs_job_id": "v1", "status": "EXECUTE_FAIL", "extra": {"x": [1]}},
	  {"job_id": "b", "code": "VolumeBackup.0064", "status": "PAUSED", "created_at": "2016-12-02T09:06:46Z"},
	  {"job_id": "c", "code": null, "status": null, "created_at": "2016-12-02 17:06:46.5+08:00", "finished_at": ""},
	  {"job_id": "d", "code": 12.50, "created_at": null},
	  {}
	]}`
	tasks, count, err := decodeTasksPage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []Task{
		{JobID: "a", Code: "0", Message: "ok", VBSJobID: "v1", Status: StatusExecuteFail},
		{JobID: "b", Code: "VolumeBackup.0064", Status: "PAUSED", CreatedAt: utc(2016, 12, 2, 9, 6, 46, 0)},
		{JobID: "c", CreatedAt: utc(2016, 12, 2, 9, 6, 46, 500)},
		{JobID: "d", Code: "12.50"},
		{},
	}
	if !reflect.DeepEqual(tasks, want) {
		t.Errorf("got  %+v\nwant %+v", tasks, want)
	}
	if count != -1 {
		t.Errorf("count %d, want -1 (absent)", count)
	}

	tasks, count, err = decodeTasksPage([]byte(`{"tasks": null, "count": "x"}`))
	if err != nil || len(tasks) != 0 || count != -1 {
		t.Errorf("null tasks: %v %d %v", tasks, count, err)
	}
	tasks, count, err = decodeTasksPage([]byte(`{"tasks": [], "count": 12345}`))
	if err != nil || len(tasks) != 0 || count != 12345 {
		t.Errorf("empty tasks: %v %d %v", tasks, count, err)
	}
}

func TestDecodeTasksPageErrors(t *testing.T) {
	for body, want := range map[string]string{
		`{"tasks":[{"job_id":"c11b5a18-b2dd","finished_at":"yesterday"}]}`: `task "c11b5a18-b2dd": field finished_at: cannot parse "yesterday" as a timestamp`,
		`{"tasks":[{"job_id":"a"},{"created_at":"2016-13-01T00:00:00"}]}`:  `task #2: field created_at: cannot parse "2016-13-01T00:00:00" as a timestamp`,
		`{"tasks":[{"job_id":"a","created_at":1480669606}]}`:               `task "a": field created_at: is a number, want a string`,
		`{"tasks":[{"job_id":5}]}`:                                         `task #1: field job_id: is a number, want a string`,
		`{"tasks":[{"job_id":"a","code":true}]}`:                           `task "a": field code: is a boolean, want a string or a number`,
		`{"tasks":[{"job_id":"a","status":["RUNNING"]}]}`:                  `task "a": field status: is an array, want a string`,
		`{"tasks":[{"job_id":"a","resource_id":{}}]}`:                      `task "a": field resource_id: is an object, want a string`,
		`{"tasks":[1]}`:    `task #1: is a number, want an object`,
		`{"tasks":[null]}`: `task #1: is null, want an object`,
		`{"tasks":{}}`:     `tasks page: "tasks" is an object, want an array`,
		`{}`:               `tasks page: no "tasks" key`,
		`null`:             `tasks page: no "tasks" key`,
		`[]`:               `tasks page: body is an array, want an object`,
		`{"tasks":[`:       `tasks page: unexpected end of JSON input`,
		``:                 `tasks page: unexpected end of JSON input`,
	} {
		_, _, err := decodeTasksPage([]byte(body))
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", body, err, want)
		}
	}
}

func TestDecodePolicies(t *testing.T) {
	got, err := decodePolicies([]byte(vendorPolicies))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []Policy{vendorPolicy}) {
		t.Errorf("vendor example: %+v", got)
	}

	body := `{"backup_policies": [
	  {"backup_policy_id": "p1", "backup_policy_name": "twice", "policy_resource_count": "3", "unknown": 1,
	   "scheduled_policy": {"start_time": " 14:00 , 02:00,02:00,", "frequency": "2", "rentention_num": null,
	     "retention_day": 7, "remain_first_backup_of_curMonth": "n", "status": "OFF", "time_zone": "UTC+08:00"}},
	  {"backup_policy_id": "p2", "scheduled_policy": {"week_frequency": ["fri", "Mon", "MON", "sunday"], "frequency": 1,
	     "status": "on", "remain_first_backup_of_curMonth": true}},
	  {"backup_policy_id": "p3", "scheduled_policy": {"week_frequency": "TUE, SAT", "start_time": "9:00"}},
	  {"backup_policy_id": "p4"},
	  {"backup_policy_name ": "trailing space key", "scheduled_policy": null}
	]}`
	got, err = decodePolicies([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []Policy{
		{ID: "p1", Name: "twice", ResourceCount: 3, Schedule: Schedule{
			StartTimes: []time.Duration{2 * time.Hour, 14 * time.Hour}, FrequencyDays: 2, RetentionDays: 7,
			Zone: time.FixedZone("UTC+08:00", 8*3600)}},
		{ID: "p2", Enabled: true, Schedule: Schedule{FrequencyDays: 1, // frequency prevails; the weekdays are kept
			Weekdays: []time.Weekday{time.Sunday, time.Monday, time.Friday}, KeepFirstBackupOfMonth: true}},
		{ID: "p3", Schedule: Schedule{StartTimes: []time.Duration{9 * time.Hour}, Weekdays: []time.Weekday{time.Tuesday, time.Saturday}}},
		{ID: "p4"},
		{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	got, err = decodePolicies([]byte(`{"backup_policies": []}`))
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
}

// A bad field costs only that field: the policy is kept with the rest, the
// bad field zero and the problem recorded in Problems; the other policies
// are untouched.
func TestDecodePoliciesProblems(t *testing.T) {
	pol := func(sched string) string {
		return `{"backup_policy_id": "p1", "backup_policy_name": "plan01", "policy_resource_count": 2,
		  "scheduled_policy": {"rentention_num": 10, "rentention_day": 30, "remain_first_backup_of_curMonth": "Y",
		  "status": "ON", ` + sched + `}}`
	}
	// kept is p1 with everything but the run times (which a bad run time
	// field zeroes as a whole) and the given problems.
	kept := func(problems ...string) Policy {
		return Policy{ID: "p1", Name: "plan01", Enabled: true, ResourceCount: 2, Problems: problems,
			Schedule: Schedule{RetentionNum: 10, RetentionDays: 30, KeepFirstBackupOfMonth: true}}
	}
	const badStart = `field scheduled_policy.start_time: cannot parse "noon" as a start time (want HH:MM)`
	for _, tt := range []struct {
		policy string
		want   Policy
	}{
		{pol(`"start_time": "noon", "frequency": 1`), kept(badStart)},
		{pol(`"start_time": "02:00,noon", "frequency": 1`), kept(badStart)},
		{pol(`"start_time": "25:00", "week_frequency": ["MON"]`),
			kept(`field scheduled_policy.start_time: cannot parse "25:00" as a start time (want HH:MM)`)},
		{pol(`"start_time": 2, "frequency": 1`), kept(`field scheduled_policy.start_time: is a number, want a string`)},
		{pol(`"start_time": "12:00", "week_frequency": ["XYZ"]`),
			kept(`field scheduled_policy.week_frequency: unknown weekday "XYZ" (want SUN, MON, TUE, WED, THU, FRI or SAT)`)},
		// A bad week_frequency also discards a good frequency: which of the
		// two the policy meant is unknown.
		{pol(`"start_time": "12:00", "frequency": 1, "week_frequency": ["MON","FUNDAY"]`),
			kept(`field scheduled_policy.week_frequency: unknown weekday "FUNDAY" (want SUN, MON, TUE, WED, THU, FRI or SAT)`)},
		{pol(`"week_frequency": [1]`), kept(`field scheduled_policy.week_frequency: want an array of strings`)},
		{pol(`"week_frequency": {}`), kept(`field scheduled_policy.week_frequency: is an object, want an array of strings`)},
		{pol(`"start_time": "12:00", "frequency": -1`), kept(`field scheduled_policy.frequency: -1 is out of range 0..3650`)},
		{pol(`"start_time": "12:00", "frequency": 3651`), kept(`field scheduled_policy.frequency: 3651 is out of range 0..3650`)},
		{pol(`"frequency": 1.5`), kept(`field scheduled_policy.frequency: cannot use "1.5" as an integer`)},
		{pol(`"frequency": "daily"`), kept(`field scheduled_policy.frequency: cannot use "daily" as an integer`)},
		{pol(`"frequency": 1e99`), kept(`field scheduled_policy.frequency: cannot use "1e99" as an integer`)},
		// Every bad field is reported, in a fixed order.
		{pol(`"start_time": "noon", "frequency": "x", "week_frequency": "MON,XYZ"`), kept(
			badStart,
			`field scheduled_policy.frequency: cannot use "x" as an integer`,
			`field scheduled_policy.week_frequency: unknown weekday "XYZ" (want SUN, MON, TUE, WED, THU, FRI or SAT)`)},
		// Bad fields outside the run times leave the schedule intact.
		{`{"backup_policy_id": "p1", "scheduled_policy": {"start_time": "12:00", "frequency": 1, "rentention_num": [1],
		   "rentention_day": "a week", "remain_first_backup_of_curMonth": 1, "status": 1}}`,
			Policy{ID: "p1", Schedule: Schedule{StartTimes: []time.Duration{12 * time.Hour}, FrequencyDays: 1}, Problems: []string{
				`field scheduled_policy.rentention_num: is an array, want an integer`,
				`field scheduled_policy.rentention_day: cannot use "a week" as an integer`,
				`field scheduled_policy.remain_first_backup_of_curMonth: is a number, want a string`,
				`field scheduled_policy.status: is a number, want a string`}}},
		{`{"backup_policy_id": "p1", "policy_resource_count": "many", "scheduled_policy": {"start_time": "12:00", "frequency": 2}}`,
			Policy{ID: "p1", Schedule: Schedule{StartTimes: []time.Duration{12 * time.Hour}, FrequencyDays: 2},
				Problems: []string{`field policy_resource_count: cannot use "many" as an integer`}}},
		{`{"backup_policy_id": "p", "policy_resource_count": 1e99}`,
			Policy{ID: "p", Problems: []string{`field policy_resource_count: cannot use "1e99" as an integer`}}},
		{`{"backup_policy_id": "p1", "backup_policy_name": "plan01", "policy_resource_count": 2, "scheduled_policy": []}`,
			Policy{ID: "p1", Name: "plan01", ResourceCount: 2, Problems: []string{`field scheduled_policy: is an array, want an object`}}},
		{`{"backup_policy_id": "p1", "backup_policy_name": "plan01", "scheduled_policy": "daily"}`,
			Policy{ID: "p1", Name: "plan01", Problems: []string{`field scheduled_policy: is a string, want an object`}}},
		// An undecodable ID or name is left empty; the rest is kept.
		{`{"backup_policy_id": 1, "backup_policy_name": "plan01", "scheduled_policy": {"frequency": 1, "status": "ON"}}`,
			Policy{Name: "plan01", Enabled: true, Schedule: Schedule{FrequencyDays: 1},
				Problems: []string{`field backup_policy_id: is a number, want a string`}}},
		{`{"backup_policy_id": "p1", "backup_policy_name": {"en": "plan01"}}`,
			Policy{ID: "p1", Problems: []string{`field backup_policy_name: is an object, want a string`}}},
	} {
		body := `{"backup_policies": [` + tt.policy + `, {"backup_policy_id": "good", "scheduled_policy": {"start_time": "02:00", "frequency": 1}}]}`
		got, err := decodePolicies([]byte(body))
		if err != nil {
			t.Errorf("%s: %v", tt.policy, err)
			continue
		}
		want := []Policy{tt.want, {ID: "good", Schedule: Schedule{StartTimes: []time.Duration{2 * time.Hour}, FrequencyDays: 1}}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.policy, got, want)
		}
		if iv := got[0].Schedule.ExpectedInterval(); len(tt.want.Schedule.StartTimes) == 0 && tt.want.Schedule.FrequencyDays == 0 && iv != 0 {
			t.Errorf("%s: ExpectedInterval %v, want 0 (unknown)", tt.policy, iv)
		}
	}
}

// Only a broken response fails the whole decode.
func TestDecodePoliciesErrors(t *testing.T) {
	for body, want := range map[string]string{
		`{"backup_policies": ["p"]}`:                           `policy #1: is a string, want an object`,
		`{"backup_policies": [{"backup_policy_id": "a"}, 1]}`:  `policy #2: is a number, want an object`,
		`{"backup_policies": [{"backup_policy_id": "a"}, []]}`: `policy #2: is an array, want an object`,
		`{"backup_policies": [null]}`:                          `policy #1: is null, want an object`,
		`{"backup_policies": {}}`:                              `policies: "backup_policies" is an object, want an array`,
		`{"backup_policies": "p1,p2"}`:                         `policies: "backup_policies" is a string, want an array`,
		`{"policies": []}`:                                     `policies: no "backup_policies" key`,
		`null`:                                                 `policies: no "backup_policies" key`,
		`<html>`:                                               `policies: invalid character '<' looking for beginning of value`,
		`{"backup_policies": [{"backup_policy_id": "a"}`:       `policies: unexpected end of JSON input`,
		`"x"`: `policies: body is a string, want an object`,
		`[]`:  `policies: body is an array, want an object`,
	} {
		got, err := decodePolicies([]byte(body))
		if err == nil || err.Error() != want || got != nil {
			t.Errorf("%s:\n got %v, %v\nwant %s", body, got, err, want)
		}
	}
}

func TestParseStartTimes(t *testing.T) {
	h := time.Hour
	for in, want := range map[string][]time.Duration{
		"":                    nil,
		" , ":                 nil,
		"12:00":               {12 * h},
		"02:00,14:00":         {2 * h, 14 * h},
		"14:00, 02:00 ,14:00": {2 * h, 14 * h},
		"0:30":                {30 * time.Minute},
		"23:59:59":            {24*h - time.Second},
	} {
		got, err := parseStartTimes(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseStartTimes(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"24:00", "12", "12:0", "12:60", "-1:00", "1:00:60", "a:00", "12:00:00:00", "123:00", "１２:００"} {
		if got, err := parseStartTimes(in); err == nil {
			t.Errorf("parseStartTimes(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseWeekdays(t *testing.T) {
	got, err := parseWeekdays([]string{"SAT", "sun", " Wed ", "wednesday", "", "THU"})
	want := []time.Weekday{time.Sunday, time.Wednesday, time.Thursday, time.Saturday}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := parseWeekdays([]string{"MO"}); err == nil || !strings.Contains(err.Error(), `unknown weekday "MO"`) {
		t.Errorf("MO: %v", err)
	}
}

// TestDecodePoliciesTimeZone: time_zone is read from scheduled_policy or,
// as the vendor's Python SDK fixture has it, from the policy; one that
// cannot be decoded is a problem, the zone is UTC and the schedule is kept.
func TestDecodePoliciesTimeZone(t *testing.T) {
	h := time.Hour
	body := `{"backup_policies": [
	  {"backup_policy_id": "in-schedule", "scheduled_policy": {"start_time": "22:00,00:00,02:00", "week_frequency": ["MON"], "time_zone": "UTC+02:00"}},
	  {"backup_policy_id": "policy-level", "time_zone": "UTC+02:00", "scheduled_policy": {"start_time": "22:00,00:00,02:00", "week_frequency": ["MON"]}},
	  {"backup_policy_id": "both", "time_zone": "UTC-05:00", "scheduled_policy": {"start_time": "22:00,00:00,02:00", "week_frequency": ["MON"], "time_zone": "+02:00"}},
	  {"backup_policy_id": "bad", "scheduled_policy": {"start_time": "22:00,00:00,02:00", "week_frequency": ["MON"], "time_zone": "Beijing"}},
	  {"backup_policy_id": "not a string", "scheduled_policy": {"start_time": "02:00", "frequency": 1, "time_zone": 8}},
	  {"backup_policy_id": "both frequencies", "scheduled_policy": {"start_time": "02:00", "frequency": 1, "week_frequency": ["MON"], "time_zone": "UTC+08:00"}}
	]}`
	got, err := decodePolicies([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		interval time.Duration
		zone     string
		problems []string
	}{
		{164 * h, "UTC+02:00", nil},
		{164 * h, "UTC+02:00", nil},
		{164 * h, "UTC+02:00", nil},
		{146 * h, "UTC", []string{`field scheduled_policy.time_zone: cannot use "Beijing" as a time zone (want an offset such as UTC+08:00 or +08:00, or an IANA name such as Asia/Shanghai); assuming UTC`}},
		{24 * h, "UTC", []string{`field scheduled_policy.time_zone: is a number, want a string; assuming UTC`}},
		{24 * h, "UTC+08:00", nil},
	}
	if len(got) != len(want) {
		t.Fatalf("%d policies, want %d", len(got), len(want))
	}
	for i, w := range want {
		p := got[i]
		zone := "UTC"
		if p.Schedule.Zone != nil {
			zone = p.Schedule.Zone.String()
		}
		if iv := p.Schedule.ExpectedInterval(); iv != w.interval || zone != w.zone || !reflect.DeepEqual(p.Problems, w.problems) {
			t.Errorf("%s: interval %v, zone %s, problems %q; want %v, %s, %q", p.ID, iv, zone, p.Problems, w.interval, w.zone, w.problems)
		}
	}
}
