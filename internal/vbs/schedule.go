package vbs

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// maxFrequencyDays is the largest scheduled_policy.frequency accepted. The API
// documents 1–14; larger values are accepted up to this bound, which keeps
// every interval far from overflowing a time.Duration.
const maxFrequencyDays = 3650

const day = 24 * time.Hour

// parseStartTimes parses scheduled_policy.start_time: one or more UTC times of
// day separated by commas, each "HH:MM" (also "H:MM" and "HH:MM:SS"), with
// spaces around the items tolerated and empty items skipped. The result is
// sorted ascending without duplicates; "" gives nil.
func parseStartTimes(s string) ([]time.Duration, error) {
	var out []time.Duration
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		d, ok := parseClock(item)
		if !ok {
			return nil, fmt.Errorf("cannot parse %q as a start time (want HH:MM)", hwcloud.Truncate(item, 40))
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseClock parses "H:MM", "HH:MM" or "HH:MM:SS" within one day.
func parseClock(s string) (time.Duration, bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	limits := []int{23, 59, 59}
	var d time.Duration
	units := []time.Duration{time.Hour, time.Minute, time.Second}
	for i, part := range parts {
		if len(part) == 0 || len(part) > 2 || (i > 0 && len(part) != 2) {
			return 0, false
		}
		n := 0
		for k := 0; k < len(part); k++ {
			if !isDigit(part[k]) {
				return 0, false
			}
			n = n*10 + int(part[k]-'0')
		}
		if n > limits[i] {
			return 0, false
		}
		d += time.Duration(n) * units[i]
	}
	return d, true
}

// parseWeekdays parses scheduled_policy.week_frequency: weekday names "SUN"
// to "SAT", case-insensitive, full English names accepted too, surrounding
// spaces and empty names ignored. The result is sorted Sunday first without
// duplicates.
func parseWeekdays(names []string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, name := range names {
		n := strings.ToUpper(strings.TrimSpace(name))
		if n == "" {
			continue
		}
		wd, ok := weekdayByName(n)
		if !ok {
			return nil, fmt.Errorf("unknown weekday %q (want SUN, MON, TUE, WED, THU, FRI or SAT)", hwcloud.Truncate(name, 40))
		}
		out = append(out, wd)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// weekdayByName maps an upper-case weekday name to its time.Weekday.
func weekdayByName(n string) (time.Weekday, bool) {
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		full := strings.ToUpper(wd.String())
		if n == full || n == full[:3] {
			return wd, true
		}
	}
	return 0, false
}

// ParseSchedule builds the run schedule of a policy from the raw values of
// scheduled_policy.start_time, frequency and week_frequency (retention fields
// are left zero). When both frequency and weekdays are given, the weekdays
// win and FrequencyDays is 0. frequency must be within 0..MaxFrequencyDays.
// Errors name the field: `field start_time: cannot parse "25:00" as a start time (want HH:MM)`.
func ParseSchedule(startTime string, frequency int, weekFrequency []string) (Schedule, error) {
	s, field, err := buildSchedule(startTime, frequency, weekFrequency)
	if err != nil {
		return Schedule{}, fmt.Errorf("field %s: %w", field, err)
	}
	return s, nil
}

// buildSchedule is ParseSchedule returning the bad field's name separately.
func buildSchedule(startTime string, frequency int, weekFrequency []string) (Schedule, string, error) {
	var s Schedule
	var err error
	if s.StartTimes, err = parseStartTimes(startTime); err != nil {
		return Schedule{}, "start_time", err
	}
	if s.Weekdays, err = parseWeekdays(weekFrequency); err != nil {
		return Schedule{}, "week_frequency", err
	}
	if err := checkFrequency(frequency); err != nil {
		return Schedule{}, "frequency", err
	}
	if len(s.Weekdays) == 0 {
		s.FrequencyDays = frequency
	}
	return s, "", nil
}

// checkFrequency checks scheduled_policy.frequency against 0..MaxFrequencyDays.
func checkFrequency(frequency int) error {
	if frequency < 0 || frequency > maxFrequencyDays {
		return fmt.Errorf("%d is out of range 0..%d", frequency, maxFrequencyDays)
	}
	return nil
}

// ExpectedInterval is the longest gap between two consecutive scheduled runs:
// the time a missed-backup alert should allow between jobs.
//
// The runs of one period are enumerated (every start time on every run day;
// the period is FrequencyDays days, or 7 days when Weekdays are set, which
// take precedence) and the largest gap between consecutive runs is returned,
// including the gap that wraps from the last run of one period to the first
// of the next. With no start times the runs are at 00:00. With neither
// Weekdays nor FrequencyDays the schedule is unknown and the result is 0.
//
// Examples: daily at one time 24h; every 3 days 72h; daily "02:00,14:00" 12h;
// daily "01:00,07:00" 18h; MON+THU 96h; MON–FRI 72h; one weekday 168h.
func (s Schedule) ExpectedInterval() time.Duration {
	var days []int64 // run days within the period, 0-based
	var period int64 // in days
	switch {
	case len(s.Weekdays) > 0:
		period = 7
		for _, wd := range s.Weekdays {
			days = append(days, mod(int64(wd), 7))
		}
	case s.FrequencyDays > 0:
		if s.FrequencyDays > maxFrequencyDays {
			return time.Duration(math.MaxInt64)
		}
		period = int64(s.FrequencyDays)
		days = []int64{0}
	default:
		return 0
	}
	starts := s.StartTimes
	if len(starts) == 0 {
		starts = []time.Duration{0}
	}
	periodDur := time.Duration(period) * day
	runs := make([]time.Duration, 0, len(days)*len(starts))
	for _, d := range days {
		for _, st := range starts {
			runs = append(runs, time.Duration(d)*day+time.Duration(mod(int64(st), int64(day))))
		}
	}
	slices.Sort(runs)
	runs = slices.Compact(runs)
	longest := runs[0] + periodDur - runs[len(runs)-1] // wrap-around gap
	for i := 1; i < len(runs); i++ {
		longest = max(longest, runs[i]-runs[i-1])
	}
	return longest
}

// mod is the non-negative remainder of a / m.
func mod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
