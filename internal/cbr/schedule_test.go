package cbr

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleExpectedInterval(t *testing.T) {
	const h = time.Hour
	start := time.Date(2025, 5, 20, 9, 12, 44, 0, time.UTC) // a Tuesday
	for _, tc := range []struct {
		name     string
		patterns []string
		start    time.Time
		want     time.Duration
	}{
		{"doc daily", []string{"FREQ=DAILY;INTERVAL=1;BYHOUR=2;BYMINUTE=00"}, start, 24 * h},
		{"doc weekly every day", []string{"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00"}, start, 24 * h},
		{"doc weekend twice a day (TF)", []string{
			"FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=08;BYMINUTE=00",
			"FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=20;BYMINUTE=00"}, start, 5*24*h + 12*h},
		{"one weekday", []string{"FREQ=WEEKLY;BYDAY=WE;BYHOUR=3;BYMINUTE=30"}, start, 7 * 24 * h},
		{"MO and TH", []string{"FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=0;BYMINUTE=0"}, start, 4 * 24 * h},
		{"weekdays", []string{"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=22;BYMINUTE=0"}, start, 3 * 24 * h},
		{"several BYHOUR in one rule", []string{"FREQ=DAILY;BYHOUR=2,14;BYMINUTE=0"}, start, 12 * h},
		{"uneven hours", []string{"FREQ=DAILY;BYHOUR=1;BYMINUTE=0", "FREQ=DAILY;BYHOUR=7;BYMINUTE=0"}, start, 18 * h},
		{"every 3 days", []string{"FREQ=DAILY;INTERVAL=3;BYHOUR=6;BYMINUTE=0"}, start, 72 * h},
		{"every 2 weeks", []string{"FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=6;BYMINUTE=0"}, start, 14 * 24 * h},
		{"daily plus weekly merge", []string{"FREQ=DAILY;INTERVAL=2;BYHOUR=0;BYMINUTE=0", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=12;BYMINUTE=0"}, start, 48 * h},
		{"lower case, spaces, RRULE prefix", []string{"rrule:freq=daily; byhour=08; byminute=00"}, start, 24 * h},
		{"weekly without BYDAY uses start's weekday", []string{"FREQ=WEEKLY;BYHOUR=1;BYMINUTE=0"}, start, 7 * 24 * h},
		{"no start time", []string{"FREQ=DAILY;INTERVAL=1;BYHOUR=2;BYMINUTE=00"}, time.Time{}, 24 * h},
		{"no pattern", nil, start, 0},
		// BYHOUR is a wall-clock hour of the DTSTART zone: in Berlin the
		// autumn change makes one gap 25h.
		{"zone with DST", []string{"DTSTART;TZID=Europe/Berlin:20250101T020000\nRRULE:FREQ=DAILY;BYHOUR=2;BYMINUTE=0"}, start, 25 * h},
		{"fixed zone", []string{"DTSTART;TZID=Asia/Shanghai:20250101T000000\nRRULE:FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=14;BYMINUTE=0"}, start, 4 * 24 * h},
		// lcm(29, 30, 7) days is beyond the exact expansion: the smallest
		// per-pattern gap bounds the merged one.
		{"long period falls back", []string{"FREQ=DAILY;INTERVAL=29;BYHOUR=0;BYMINUTE=0", "FREQ=DAILY;INTERVAL=30;BYHOUR=0;BYMINUTE=0", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=1;BYMINUTE=0"}, start, 7 * 24 * h},
	} {
		s, err := ParseSchedule(tc.patterns, tc.start)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := s.ExpectedInterval(); got != tc.want {
			t.Errorf("%s: ExpectedInterval() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestScheduleErrors(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		want     string
	}{
		{[]string{"FREQ=DAILY;BYHOUR=1", "FREQ=MONTHLY;BYHOUR=1"}, `pattern 2 "FREQ=MONTHLY;BYHOUR=1": FREQ MONTHLY is not supported (want DAILY or WEEKLY)`},
		{[]string{"BYHOUR=1"}, `pattern 1 "BYHOUR=1": no FREQ`},
		{[]string{"FREQ=DAILY;BYHOUR=24"}, `pattern 1 "FREQ=DAILY;BYHOUR=24": BYHOUR "24" is not a list of integers in 0..23`},
		{[]string{"FREQ=DAILY;INTERVAL=0"}, `pattern 1 "FREQ=DAILY;INTERVAL=0": INTERVAL "0" is not an integer in 1..100`},
		{[]string{"FREQ=DAILY;COUNT=3"}, `pattern 1 "FREQ=DAILY;COUNT=3": COUNT is not supported: a schedule that ends has no steady interval`},
		{[]string{"FREQ=DAILY;BYDAY=XX"}, `pattern 1 "FREQ=DAILY;BYDAY=XX": `},
		{[]string{"FREQ=DAILY;BYHOUR"}, `pattern 1 "FREQ=DAILY;BYHOUR": "BYHOUR" is not KEY=VALUE`},
		{[]string{""}, `pattern 1 "": empty rule`},
		{[]string{"FREQ=DAILY;INTERVAL=7;BYDAY=TU;BYHOUR=1"}, "the patterns never run"},
		{[]string{"FREQ=DAILY;BYSECOND=1"}, `pattern 1 "FREQ=DAILY;BYSECOND=1": key BYSECOND is not supported (want FREQ, INTERVAL, BYDAY, BYHOUR, BYMINUTE)`},
		{[]string{"FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,15,30,45", "FREQ=DAILY;BYHOUR=1;BYMINUTE=0,5"},
			`pattern 2 "FREQ=DAILY;BYHOUR=1;BYMINUTE=0,5": more than 96 runs a day`},
		{make([]string, 65), "65 patterns, more than 64"},
	} {
		_, err := ParseSchedule(tc.patterns, time.Time{})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("ParseSchedule(%q) error = %v, want prefix %q", tc.patterns, err, tc.want)
		}
	}
}
