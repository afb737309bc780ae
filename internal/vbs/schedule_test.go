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
