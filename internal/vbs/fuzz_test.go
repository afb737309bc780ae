package vbs

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/jsonfield"
)

func FuzzDecodeTasksPage(f *testing.F) {
	for _, s := range []string{
		`{"tasks":[{"status":"RUNNING","job_id":"0781095c","created_at":"2016-12-03T06:24:34.467","backup_name":"autobk_a61d","resource_id":"f47a4ab5","resource_type":"volume"},{"status":"EXECUTE_SUCCESS","job_id":"c11b5a18","created_at":"2016-12-02T09:06:46.706","finished_at":"2016-12-02T13:00:00.121"}],"count":2}`,
		`{"tasks":[{"job_id":"a","code":0,"message":"m","vbs_job_id":"v"},{"code":"X.1"},{"code":null},{}]}`,
		`{"tasks":[{"job_id":"a","finished_at":"yesterday"}]}`,
		`{"tasks":[{"job_id":5}]}`, `{"tasks":[1]}`, `{"tasks":null}`, `{"tasks":{}}`, `{}`, `[]`, `null`, ``,
		`{"tasks":[`, `{"tasks":[{"job_id":"a","created_at":"2016-12-02T09:06:46+08:00","status":"PAUSED"}],"count":"7"}`,
		`{"tasks":[{"code":1e400}]}`, `{"tasks":[{"job_id":"\u0000\ud800"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tasks, count, err := decodeTasksPage(data)
		if err != nil {
			if tasks != nil || count != 0 {
				t.Errorf("error %v with results %v %d", err, tasks, count)
			}
			return
		}
		if count < -1 {
			t.Errorf("count %d", count)
		}
		for _, task := range tasks {
			for _, ts := range []time.Time{task.CreatedAt, task.FinishedAt} {
				if !ts.IsZero() && ts.Location() != time.UTC {
					t.Errorf("time %v not in UTC", ts)
				}
			}
		}
	})
}

func FuzzDecodePolicies(f *testing.F) {
	for _, s := range []string{
		vendorPolicies,
		`{"backup_policies":[{"backup_policy_id":"p1","scheduled_policy":{"start_time":" 14:00 , 02:00,02:00,","frequency":"2","retention_day":7,"remain_first_backup_of_curMonth":"n","status":"OFF"}}]}`,
		`{"backup_policies":[{"backup_policy_id":"p2","scheduled_policy":{"week_frequency":["fri","Mon","sunday"],"status":"on","remain_first_backup_of_curMonth":true}}]}`,
		`{"backup_policies":[{"scheduled_policy":{"week_frequency":"TUE, SAT","start_time":"9:00:30"}},{},{"scheduled_policy":null}]}`,
		`{"backup_policies":[{"scheduled_policy":{"start_time":"25:00"}}]}`,
		`{"backup_policies":[{"scheduled_policy":{"frequency":1e99}}]}`,
		`{"backup_policies":[{"scheduled_policy":{"frequency":-1}}]}`,
		`{"backup_policies":[{"policy_resource_count":"x"}]}`,
		`{"backup_policies":[{"backup_policy_id":"p1","scheduled_policy":{"start_time":"noon","frequency":1,"status":"ON"}},{"backup_policy_id":"p2","scheduled_policy":{"week_frequency":["XYZ"]}}]}`,
		`{"backup_policies":[{"backup_policy_id":7,"backup_policy_name":[],"scheduled_policy":"daily"},{"scheduled_policy":{"rentention_num":"x","status":1}}]}`,
		`{"backup_policies":[{},null]}`, `{"backup_policies":["p"]}`,
		`{"backup_policies":[]}`, `{"backup_policies":null}`, `{"backup_policies":{}}`, `{}`, `[]`, `<html>`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		policies, err := decodePolicies(data)
		// Only a broken response fails the decode: one whose backup_policies
		// is not a list of objects. A bad field is a problem of its policy.
		var body struct {
			Policies *[]json.RawMessage `json:"backup_policies"`
		}
		wellFormed := json.Unmarshal(data, &body) == nil && body.Policies != nil
		if wellFormed {
			for _, elem := range *body.Policies {
				wellFormed = wellFormed && jsonfield.Kind(elem) == "an object"
			}
		}
		if err != nil {
			if policies != nil {
				t.Errorf("error %v with results", err)
			}
			if wellFormed {
				t.Errorf("error %v for a list of objects", err)
			}
			return
		}
		if wellFormed && len(policies) != len(*body.Policies) {
			t.Errorf("%d policies from a list of %d", len(policies), len(*body.Policies))
		}
		for _, p := range policies {
			s := p.Schedule
			if p.Problems != nil && len(p.Problems) == 0 {
				t.Errorf("empty, non-nil Problems")
			}
			for _, pr := range p.Problems {
				if !strings.HasPrefix(pr, "field ") {
					t.Errorf("problem %q does not name a field", pr)
				}
				for _, f := range []string{"start_time", "frequency", "week_frequency"} {
					if strings.HasPrefix(pr, "field scheduled_policy."+f+":") &&
						(s.StartTimes != nil || s.FrequencyDays != 0 || s.Weekdays != nil) {
						t.Errorf("problem %q with run times %+v", pr, s)
					}
				}
			}
			if !slices.IsSorted(s.StartTimes) || len(slices.Compact(slices.Clone(s.StartTimes))) != len(s.StartTimes) {
				t.Errorf("start times %v not sorted and unique", s.StartTimes)
			}
			for _, st := range s.StartTimes {
				if st < 0 || st >= 24*time.Hour {
					t.Errorf("start time %v out of a day", st)
				}
			}
			if !slices.IsSorted(s.Weekdays) || len(slices.Compact(slices.Clone(s.Weekdays))) != len(s.Weekdays) {
				t.Errorf("weekdays %v not sorted and unique", s.Weekdays)
			}
			if s.FrequencyDays < 0 || s.FrequencyDays > maxFrequencyDays {
				t.Errorf("frequency %d", s.FrequencyDays)
			}
			iv := s.ExpectedInterval()
			var dst time.Duration // a clock change can add up to 2h (Antarctica/Troll)
			if s.Zone != nil {
				dst = 2 * time.Hour
			}
			switch {
			case s.FrequencyDays > 0: // prevails over weekdays
				if iv <= 0 || iv > time.Duration(s.FrequencyDays)*24*time.Hour+dst {
					t.Errorf("interval %v for every %d days", iv, s.FrequencyDays)
				}
			case len(s.Weekdays) > 0:
				if iv <= 0 || iv > 7*24*time.Hour+dst {
					t.Errorf("weekly interval %v", iv)
				}
			default:
				if iv != 0 {
					t.Errorf("interval %v without a schedule", iv)
				}
			}
		}
	})
}
