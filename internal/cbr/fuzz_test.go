package cbr

import (
	"strings"
	"testing"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
)

// The seed corpora below run as ordinary tests with go test; go test
// -fuzz=FuzzX explores further.

func FuzzDecodeOperationLogs(f *testing.F) {
	f.Add(readTestdata(f, "operation_logs.json"))
	for _, s := range []string{`{"operation_logs":[{}]}`, `{"operation_logs":null}`, `{"operation_logs":[{"id":"a","error_info":{"code":1e400}}]}`,
		`{"operation_logs":[{"extra_info":{"common":{"progress":1e10}}}]}`, `{"operation_logs":[{"created_at":"9999-12-31 23:59:59-23:00"}]}`, `[`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		logs, _, err := DecodeOperationLogs(data)
		if err != nil {
			if logs != nil {
				t.Fatal("jobs returned with an error")
			}
			return
		}
		for _, l := range logs {
			if l.Status != MapStatus(l.RawStatus) {
				t.Fatalf("status %v for %q", l.Status, l.RawStatus)
			}
			for _, tm := range []time.Time{l.Created, l.Started, l.Updated, l.Finished} {
				if !tm.IsZero() && tm.Location() != time.UTC {
					t.Fatalf("time %v not in UTC", tm)
				}
			}
			if l.Duration() < 0 {
				t.Fatal("negative duration")
			}
		}
	})
}

func FuzzDecodePolicies(f *testing.F) {
	f.Add(readTestdata(f, "policies.json"))
	for _, s := range []string{`{"policies":[{"trigger":{"properties":{"pattern":["FREQ=WEEKLY;INTERVAL=366;BYDAY=MO"]}}}]}`,
		`{"policies":[{"trigger":{"properties":{"pattern":"DTSTART;TZID=Europe/Berlin:20250101T020000\nRRULE:FREQ=DAILY"}}}]}`,
		`{"policies":[{"enabled":1,"associated_vaults":[1,null,{"vault_id":2}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := DecodePolicies(data)
		if err != nil {
			return
		}
		for _, p := range ps {
			if p.Schedule.ExpectedInterval() < 0 {
				t.Fatalf("negative interval for %q", p.Schedule.Patterns)
			}
			for _, pr := range p.Problems {
				if !strings.HasPrefix(pr, "field ") {
					t.Fatalf("problem %q does not name a field", pr)
				}
			}
		}
	})
}

func FuzzDecodeVaults(f *testing.F) {
	f.Add(readTestdata(f, "vaults.json"))
	for _, s := range []string{`{"vaults":[{"billing":{"size":9223372036854775807,"used":-9223372036854775808}}]}`,
		`{"vaults":[{"resources":[null,{"size":"x"}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vs, _, err := DecodeVaults(data)
		if err != nil {
			return
		}
		for _, v := range vs {
			for _, pr := range v.Problems {
				if !strings.HasPrefix(pr, "field ") {
					t.Fatalf("problem %q does not name a field", pr)
				}
			}
		}
	})
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"FREQ=DAILY;INTERVAL=1;BYHOUR=2;BYMINUTE=00", "FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=08;BYMINUTE=00\nFREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=20",
		"DTSTART;TZID=America/New_York:20250101T020000\nRRULE:FREQ=DAILY;BYHOUR=2", "FREQ=DAILY;INTERVAL=29|FREQ=DAILY;INTERVAL=31", "FREQ=WEEKLY;BYDAY=+1MO"} {
		f.Add(s, int64(0))
	}
	f.Fuzz(func(t *testing.T, joined string, startUnix int64) {
		var start time.Time
		if startUnix > 0 && startUnix < 1<<36 {
			start = time.Unix(startUnix, 0).UTC()
		}
		s, err := ParseSchedule(strings.Split(joined, "|"), start)
		if err != nil {
			return
		}
		if iv := s.ExpectedInterval(); iv < 0 || iv > 2*366*24*time.Hour {
			t.Fatalf("interval %v out of range", iv)
		}
		var _ backup.Schedule = s
	})
}
