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
		{"frequency prevails over weekdays", "12:00", 1, []string{"MON", "THU"}, 24 * h},
		{"frequency 3 prevails over a leftover weekday", "12:00", 3, []string{"MON"}, 72 * h},
		{"SAT+SUN with two times", "06:00,18:00", 0, []string{"SAT", "SUN"}, 5*24*h + 12*h},
		{"every 14 days", "00:00", 14, nil, 14 * 24 * h},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.start, tt.freq, tt.week, "")
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
	s, err := ParseSchedule("14:00,02:00", 3, nil, "")
	if err != nil || s.FrequencyDays != 3 || len(s.StartTimes) != 2 || s.StartTimes[0] != 2*time.Hour || len(s.Weekdays) != 0 {
		t.Errorf("got %+v, %v", s, err)
	}
	s, err = ParseSchedule("", 3, []string{"MON"}, "")
	if err != nil || s.FrequencyDays != 3 || len(s.Weekdays) != 1 || s.ExpectedInterval() != 72*time.Hour {
		t.Errorf("frequency prevails, weekdays kept: %+v, %v", s, err)
	}
	for _, tt := range []struct {
		start string
		freq  int
		week  []string
		zone  string
		want  string
	}{
		{"25:00", 1, nil, "", `field start_time: cannot parse "25:00" as a start time (want HH:MM)`},
		{"02:00+25:00", 1, nil, "", `field start_time: cannot parse "02:00+25:00" as a start time (want HH:MM)`},
		{"02:00 CET", 1, nil, "", `field start_time: cannot parse "02:00 CET" as a start time (want HH:MM)`},
		{"", 3651, nil, "", `field frequency: 3651 is out of range 0..3650`},
		{"", 1, []string{"XYZ"}, "", `field week_frequency: unknown weekday "XYZ" (want SUN, MON, TUE, WED, THU, FRI or SAT)`},
		{"", 1, nil, "Mars/Olympus", `field time_zone: cannot use "Mars/Olympus" as a time zone (want an offset such as UTC+08:00 or +08:00, or an IANA name such as Asia/Shanghai)`},
		{"", 1, nil, "UTC+15:00", `field time_zone: cannot use "UTC+15:00" as a time zone (want an offset such as UTC+08:00 or +08:00, or an IANA name such as Asia/Shanghai)`},
	} {
		if _, err := ParseSchedule(tt.start, tt.freq, tt.week, tt.zone); err == nil || err.Error() != tt.want {
			t.Errorf("ParseSchedule(%q, %d, %v) error %v, want %q", tt.start, tt.freq, tt.week, err, tt.want)
		}
	}
}

// TestExpectedIntervalTimeZone: start_time is UTC and the weekdays are in
// time_zone, as the vendor's create-policy page documents ("UTC+02:00时区的
// 00:00、02:00和04:00 … start_time应取值22:00,00:00,02:00"): the run days
// are local days, so a start time that is on the previous UTC day moves the
// run there.
func TestExpectedIntervalTimeZone(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name  string
		start string
		freq  int
		week  []string
		zone  string
		want  time.Duration
	}{
		// The case: local MON 00:00, 02:00, 04:00 = SUN 22:00, MON
		// 00:00, MON 02:00 UTC. Read as UTC on MON it would be 146h.
		{"vendor example, UTC+02:00", "22:00,00:00,02:00", 0, []string{"MON"}, "UTC+02:00", 164 * h},
		{"vendor example without zone", "22:00,00:00,02:00", 0, []string{"MON"}, "", 146 * h},
		{"vendor example, +02:00", "22:00,00:00,02:00", 0, []string{"MON"}, "+02:00", 164 * h},
		{"vendor example, GMT+02:00", "22:00,00:00,02:00", 0, []string{"MON"}, "GMT+02:00", 164 * h},
		{"vendor example, UTC+2", "22:00,00:00,02:00", 0, []string{"MON"}, "UTC+2", 164 * h},
		{"vendor example, +0200", "22:00,00:00,02:00", 0, []string{"MON"}, "+0200", 164 * h},
		{"vendor example, lower case utc+02:00", "22:00,00:00,02:00", 0, []string{"MON"}, "utc+02:00", 164 * h},
		// Local zone times written with their own zone give the same runs.
		{"start times with a suffix", "00:00+02:00,02:00+02:00,04:00+02:00", 0, []string{"MON"}, "UTC+02:00", 164 * h},
		{"start times with Z", "22:00Z,00:00Z,02:00Z", 0, []string{"MON"}, "UTC+02:00", 164 * h},
		{"start time with a spaced suffix", "06:00 UTC+08:00", 0, []string{"MON", "THU"}, "", 96 * h},
		// UTC+08:00 (the CBR example zone): MON+THU at 20:00 UTC is local
		// TUE+FRI 04:00; the gaps stay 72h/96h.
		{"MON+THU at UTC+08:00", "20:00", 0, []string{"MON", "THU"}, "UTC+08:00", 96 * h},
		// SAT+SUN at 23:00 and 01:00 UTC, zone -03:00: local 20:00 and 22:00
		// on SAT and SUN; longest gap SUN 22:00 to SAT 20:00 = 142h. Read as
		// UTC days: SAT 01:00 … SUN 23:00 to SAT 01:00 = 122h.
		{"SAT+SUN at UTC-03:00", "23:00,01:00", 0, []string{"SAT", "SUN"}, "UTC-03:00", 142 * h},
		{"SAT+SUN at UTC-03:00 read as UTC", "23:00,01:00", 0, []string{"SAT", "SUN"}, "", 122 * h},
		// Every 2 days: the zone decides which start times share a run day.
		{"every 2 days at UTC+02:00", "22:00,00:00", 2, nil, "UTC+02:00", 46 * h},
		{"every 2 days, UTC", "22:00,00:00", 2, nil, "", 26 * h},
		// Daily: a zone shifts every run alike.
		{"daily at UTC+05:30", "02:00,14:00", 1, nil, "UTC+05:30", 12 * h},
		// Frequency prevails over weekdays whatever the zone.
		{"both fields, zone", "22:00", 1, []string{"MON"}, "UTC+02:00", 24 * h},
		// A fixed IANA zone.
		{"IANA without DST", "22:00,00:00,02:00", 0, []string{"MON"}, "Asia/Shanghai", 164 * h},
		// A zone with daylight saving time: the longer of +01:00 and +02:00
		// (164h at +02:00) plus the hour a clock change can add.
		{"IANA with DST", "22:00,00:00,02:00", 0, []string{"MON"}, "Europe/Berlin", 165 * h},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.start, tt.freq, tt.week, tt.zone)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := s.ExpectedInterval(); got != tt.want {
			t.Errorf("%s: ExpectedInterval = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseZone(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "UTC": "", "GMT": "", "Z": "", "+00:00": "", "UTC+0": "",
		"UTC+08:00": "UTC+08:00", "GMT+08:00": "UTC+08:00", "+08:00": "UTC+08:00", "+0800": "UTC+08:00",
		"+8": "UTC+08:00", "UTC +08:00": "UTC+08:00", " utc-03:30 ": "UTC-03:30", "UTC+14:00": "UTC+14:00",
		"Asia/Shanghai": "Asia/Shanghai", "America/Sao_Paulo": "America/Sao_Paulo",
	} {
		loc, err := parseZone(in)
		got := ""
		if loc != nil {
			got = loc.String()
		}
		if err != nil || got != want {
			t.Errorf("parseZone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"CST", "Local", "UTC+15", "+08:60", "+008:00", "8", "UTC+08:0", "Beijing", "../etc/passwd", "/etc/localtime", "UTC+08:00 extra"} {
		if loc, err := parseZone(in); err == nil {
			t.Errorf("parseZone(%q) = %v, want an error", in, loc)
		}
	}
}
