package vbs

import (
	"math"
	"testing"
	"time"
)

func TestExpectedInterval(t *testing.T) {
	h := time.Hour
	mon, tue, wed, thu, fri := time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday
	tests := []struct {
		name  string
		start string
		freq  int
		week  []string
		want  time.Duration
	}{
		{"daily, one time", "12:00", 1, nil, 24 * h},
		{"every 3 days", "03:00", 3, nil, 72 * h},
		{"daily 02:00,14:00", "02:00,14:00", 1, nil, 12 * h},
		{"daily 01:00,07:00", "01:00,07:00", 1, nil, 18 * h},
		{"MON+THU", "12:00", 0, []string{"MON", "THU"}, 96 * h},
		{"MON..FRI", "12:00", 0, []string{"MON", "TUE", "WED", "THU", "FRI"}, 72 * h},
		{"single weekday", "05:00", 0, []string{"WED"}, 168 * h},
		{"every day of the week", "05:00", 0, []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, 24 * h},
		{"every 2 days at 00:00,12:00", "00:00,12:00", 2, nil, 36 * h},
		{"no start time", "", 1, nil, 24 * h},
		{"no start time, weekly", "", 0, []string{"SUN"}, 168 * h},
		{"nothing set", "", 0, nil, 0},
		{"start time only", "02:00", 0, nil, 0},
		{"weekdays win over frequency", "12:00", 1, []string{"MON", "THU"}, 96 * h},
		{"SAT+SUN with two times", "06:00,18:00", 0, []string{"SAT", "SUN"}, 5*24*h + 12*h},
		{"every 14 days", "00:00", 14, nil, 14 * 24 * h},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.start, tt.freq, tt.week)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := s.ExpectedInterval(); got != tt.want {
			t.Errorf("%s: ExpectedInterval = %v, want %v", tt.name, got, tt.want)
		}
	}

	// Schedules built by hand, outside what the parser produces.
	for _, tt := range []struct {
		name string
		s    Schedule
		want time.Duration
	}{
		{"unsorted, duplicate weekdays", Schedule{Weekdays: []time.Weekday{thu, mon, thu}}, 96 * h},
		{"weekday out of range wraps", Schedule{Weekdays: []time.Weekday{mon, tue, wed, fri, 11}}, 72 * h}, // 11 = THU
		{"start time over a day wraps", Schedule{FrequencyDays: 1, StartTimes: []time.Duration{26 * h, 14 * h}}, 12 * h},
		{"negative start time wraps", Schedule{FrequencyDays: 1, StartTimes: []time.Duration{-10 * h, 2 * h}}, 12 * h},
		{"huge frequency", Schedule{FrequencyDays: math.MaxInt}, time.Duration(math.MaxInt64)},
		{"negative frequency", Schedule{FrequencyDays: -3}, 0},
		{"thu only", Schedule{Weekdays: []time.Weekday{thu}}, 168 * h},
	} {
		if got := tt.s.ExpectedInterval(); got != tt.want {
			t.Errorf("%s: ExpectedInterval = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	s, err := ParseSchedule("14:00,02:00", 3, nil)
	if err != nil || s.FrequencyDays != 3 || len(s.StartTimes) != 2 || s.StartTimes[0] != 2*time.Hour || len(s.Weekdays) != 0 {
		t.Errorf("got %+v, %v", s, err)
	}
	s, err = ParseSchedule("", 3, []string{"MON"})
	if err != nil || s.FrequencyDays != 0 || len(s.Weekdays) != 1 {
		t.Errorf("weekdays win: %+v, %v", s, err)
	}
	for _, tt := range []struct {
		start string
		freq  int
		week  []string
		want  string
	}{
		{"25:00", 1, nil, `field start_time: cannot parse "25:00" as a start time (want HH:MM)`},
		{"", 3651, nil, `field frequency: 3651 is out of range 0..3650`},
		{"", 1, []string{"XYZ"}, `field week_frequency: unknown weekday "XYZ" (want SUN, MON, TUE, WED, THU, FRI or SAT)`},
	} {
		if _, err := ParseSchedule(tt.start, tt.freq, tt.week); err == nil || err.Error() != tt.want {
			t.Errorf("ParseSchedule(%q, %d, %v) error %v, want %q", tt.start, tt.freq, tt.week, err, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	plus8 := -8 * time.Hour
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"   ", time.Time{}},
		{"2016-12-02T09:06:46.706", utc(2016, 12, 2, 9, 6, 46, 706)},
		{"2016-12-02T09:06:46", utc(2016, 12, 2, 9, 6, 46, 0)},
		{"2016-12-02T09:06:46.7", utc(2016, 12, 2, 9, 6, 46, 700)},
		{"2016-12-02T09:06:46.123456789", time.Date(2016, 12, 2, 9, 6, 46, 123456789, time.UTC)},
		{"2016-12-02T09:06:46.000001", time.Date(2016, 12, 2, 9, 6, 46, 1000, time.UTC)},
		{"2016-12-02T09:06:46Z", utc(2016, 12, 2, 9, 6, 46, 0)},
		{"2023-06-10T07:14:52.176000Z", utc(2023, 6, 10, 7, 14, 52, 176)},
		{"2016-12-02T17:06:46.706+08:00", utc(2016, 12, 2, 17, 6, 46, 706).Add(plus8)},
		{"2016-12-02T17:06:46+0800", utc(2016, 12, 2, 9, 6, 46, 0)},
		{"2016-12-02T17:06:46+08", utc(2016, 12, 2, 9, 6, 46, 0)},
		{"2016-12-02T01:36:46-07:30", utc(2016, 12, 2, 9, 6, 46, 0)},
		{"2016-12-02 09:06:46.706", utc(2016, 12, 2, 9, 6, 46, 706)},
		{"2016-12-02t09:06:46z", utc(2016, 12, 2, 9, 6, 46, 0)},
		{" 2016-12-02T09:06:46 ", utc(2016, 12, 2, 9, 6, 46, 0)},
		{"2016-01-01T00:30:00+01:00", utc(2015, 12, 31, 23, 30, 0, 0)},
		{"2024-02-29T00:00:00", utc(2024, 2, 29, 0, 0, 0, 0)},
		// The edges of years 1..9999, after the offset is applied.
		{"0001-01-01T01:30:00+01:00", utc(1, 1, 1, 0, 30, 0, 0)},
		{"9999-12-31T22:59:59.999999999-01:00", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{"9999-12-31 00:59:59-23", utc(9999, 12, 31, 23, 59, 59, 0)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v (%v), %v; want %v", tt.in, got, got.Location(), err, tt.want)
		}
	}
	for _, in := range []string{
		"yesterday", "2016-12-02", "2016-12-02T09:06", "2016-12-02T09:06:46.", "2016-12-02T09:06:46.1234567890",
		"2016-13-02T09:06:46", "2016-00-02T09:06:46", "2023-02-29T00:00:00", "2016-12-32T00:00:00", "2016-12-02T24:00:00",
		"2016-12-02T23:60:00", "2016-12-02T23:59:60", "2016-12-02X09:06:46", "2016-12-02T09:06:46+8", "2016-12-02T09:06:46+08:",
		"2016-12-02T09:06:46+24:00", "2016-12-02T09:06:46+08:60", "2016-12-02T09:06:46ZZ", "2016-12-02T09:06:46 UTC",
		"1480669606", "16-12-02T09:06:46", "2016-12-02T09:06:46,706", "２016-12-02T09:06:46",
	} {
		if got, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", in, got)
		}
	}
	if _, err := ParseTime("yesterday"); err == nil || err.Error() != `cannot parse "yesterday" as a timestamp` {
		t.Errorf("error %v", err)
	}
	// Instants outside the years 1..9999 once the offset is applied: RFC 3339
	// cannot write them, so they are garbage like any other (found by
	// FuzzParseTime, see testdata/fuzz/FuzzParseTime).
	for _, in := range []string{
		"9999-12-31 01:00:00-23",
		"9999-12-31T23:00:00-01:00",
		"9999-12-31T23:59:59.999999999-00:01",
		"0001-01-01T00:59:59+01:00",
		"0001-01-01T00:00:00+00:01",
		"0000-01-01T00:00:00Z",
		"0000-06-15T12:00:00",
		"0000-01-01T00:00:00-23:59",
	} {
		got, err := ParseTime(in)
		if want := `cannot parse "` + in + `" as a timestamp`; err == nil || err.Error() != want || !got.IsZero() {
			t.Errorf("ParseTime(%q) = %v, %v; want the zero time and %s", in, got, err, want)
		}
	}
}
