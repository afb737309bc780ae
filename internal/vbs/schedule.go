package vbs

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // IANA time_zone names, also where the system has no zoneinfo

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// maxFrequencyDays is the largest scheduled_policy.frequency accepted. The API
// documents 1–14; larger values are accepted up to this bound, which keeps
// every interval far from overflowing a time.Duration.
const maxFrequencyDays = 3650

const day = 24 * time.Hour

// parseStartTimes parses scheduled_policy.start_time: one or more times of
// day separated by commas, each "HH:MM" (also "H:MM" and "HH:MM:SS"), with
// spaces around the items tolerated and empty items skipped. The vendor
// documents these times as UTC (a local schedule converted to UTC, listed in
// local order); an item may carry its own zone after the time ("02:00Z",
// "02:00+08:00", "02:00 UTC+8"), in which case it is converted to UTC. The
// result, UTC offsets from midnight, is sorted ascending without
// duplicates; "" gives nil.
func parseStartTimes(s string) ([]time.Duration, error) {
	var out []time.Duration
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		clock, zone := item, ""
		if i := strings.IndexFunc(item, func(r rune) bool { return r != ':' && (r < '0' || r > '9') }); i >= 0 {
			clock, zone = item[:i], strings.TrimSpace(item[i:])
		}
		d, ok := parseClock(clock)
		var offset time.Duration
		if ok && zone != "" {
			offset, ok = parseOffset(zone)
		}
		if !ok {
			return nil, fmt.Errorf("cannot parse %q as a start time (want HH:MM)", hwcloud.Truncate(item, 40))
		}
		out = append(out, time.Duration(mod(int64(d-offset), int64(day))))
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

// parseOffset parses a fixed UTC offset: "Z", "UTC" or "GMT" alone, or an
// optional "UTC"/"GMT" prefix (any case, a space after it allowed) followed
// by a sign and hours, with optional minutes: "+8", "+08", "+0800",
// "+08:00", "UTC+08:00", "GMT-3:30". The offset is at most 14 hours.
func parseOffset(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	u := strings.ToUpper(s)
	for _, prefix := range []string{"UTC", "GMT"} {
		if strings.HasPrefix(u, prefix) {
			s = strings.TrimSpace(s[len(prefix):])
			if s == "" {
				return 0, true
			}
			break
		}
	}
	if s == "Z" || s == "z" {
		return 0, true
	}
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	sign := time.Duration(1)
	if s[0] == '-' {
		sign = -1
	}
	hh, mm, colon := strings.Cut(s[1:], ":")
	if !colon && len(hh) == 4 { // "+0800"
		hh, mm = hh[:2], hh[2:]
	}
	h, ok := atoiDigits(hh, 1, 2)
	if !ok {
		return 0, false
	}
	m := 0
	if colon || mm != "" {
		if m, ok = atoiDigits(mm, 2, 2); !ok || m > 59 {
			return 0, false
		}
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	if d > 14*time.Hour {
		return 0, false
	}
	return sign * d, true
}

// atoiDigits parses min to max ASCII digits.
func atoiDigits(s string, minLen, maxLen int) (int, bool) {
	if len(s) < minLen || len(s) > maxLen {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// parseZone parses a policy's time_zone. The vendor's pages name the field
// ("time zone of the backup execution time") without showing its format;
// its other backup service (CBR) writes zones as "UTC+08:00", and its pages
// show "GMT+08:00". Accepted: every form parseOffset takes ("UTC+08:00",
// "GMT+08:00", "+08:00", "+0800", "+8", "UTC", "Z") and IANA names
// ("Asia/Shanghai", "Europe/Paris"). "" is UTC (nil). The error says what is
// accepted.
func parseZone(s string) (*time.Location, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if off, ok := parseOffset(s); ok {
		if off == 0 {
			return nil, nil
		}
		return time.FixedZone(offsetName(off), int(off/time.Second)), nil
	}
	// An IANA name: letters, digits, '/', '_', '-', '+'; "Local" is this
	// machine's zone, not the policy's.
	if strings.Contains(s, "/") && !strings.Contains(s, "..") && s[0] != '/' {
		if loc, err := time.LoadLocation(s); err == nil {
			return loc, nil
		}
	}
	return nil, fmt.Errorf("cannot use %q as a time zone (want an offset such as UTC+08:00 or +08:00, or an IANA name such as Asia/Shanghai)",
		hwcloud.Truncate(s, 40))
}

// offsetName formats an offset as "UTC+08:00".
func offsetName(off time.Duration) string {
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, int(off/time.Hour), int(off%time.Hour/time.Minute))
}

// ParseSchedule builds the run schedule of a policy from the raw values of
// scheduled_policy.start_time, frequency, week_frequency and time_zone
// (retention fields are left zero). frequency must be within
// 0..maxFrequencyDays; when it is set it prevails over the weekdays, as the
// vendor documents, and the weekdays are kept but not used. Errors name the
// field: `field start_time: cannot parse "25:00" as a start time (want HH:MM)`.
func ParseSchedule(startTime string, frequency int, weekFrequency []string, timeZone string) (Schedule, error) {
	s, field, err := buildSchedule(startTime, frequency, weekFrequency)
	if err == nil {
		field = "time_zone"
		s.Zone, err = parseZone(timeZone)
	}
	if err != nil {
		return Schedule{}, fmt.Errorf("field %s: %w", field, err)
	}
	return s, nil
}

// buildSchedule is ParseSchedule without the zone, returning the bad
// field's name separately.
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
	s.FrequencyDays = frequency
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
// The runs of one period are enumerated and the largest gap between
// consecutive runs is returned, including the gap that wraps from the last
// run of one period to the first of the next. The period is FrequencyDays
// days when that is set (it prevails over Weekdays, as the vendor
// documents), else 7 days with a run day per weekday. Each start time (UTC)
// runs at its local time of day in Zone on each local run day: "22:00,00:00,
// 02:00" on MON at UTC+02:00 is local MON 00:00, 02:00 and 04:00, which is
// SUN 22:00, MON 00:00 and MON 02:00 UTC, so the longest gap is 164h. With no
// start times the runs are at 00:00 UTC. For a zone with daylight saving
// time, the gap is the longest under either of its offsets, plus the
// difference of the offsets (a run next to a clock change can come that much
// later). With neither FrequencyDays nor Weekdays the schedule is unknown and
// the result is 0.
//
// Examples: daily at one time 24h; every 3 days 72h; daily "02:00,14:00" 12h;
// daily "01:00,07:00" 18h; MON+THU 96h; MON–FRI 72h; one weekday 168h.
func (s Schedule) ExpectedInterval() time.Duration {
	offsets := zoneOffsets(s.Zone)
	var longest time.Duration
	for _, off := range offsets {
		longest = max(longest, s.longestGap(off))
	}
	if spread := offsets[len(offsets)-1] - offsets[0]; longest > 0 && spread > 0 {
		if longest > time.Duration(math.MaxInt64)-spread {
			return time.Duration(math.MaxInt64)
		}
		longest += spread
	}
	return longest
}

// longestGap is ExpectedInterval for a fixed UTC offset of the local zone.
func (s Schedule) longestGap(offset time.Duration) time.Duration {
	var days []int64 // run days within the period, 0-based
	var period int64 // in days
	switch {
	case s.FrequencyDays > 0:
		if s.FrequencyDays > maxFrequencyDays {
			return time.Duration(math.MaxInt64)
		}
		period = int64(s.FrequencyDays)
		days = []int64{0}
	case len(s.Weekdays) > 0:
		period = 7
		for _, wd := range s.Weekdays {
			days = append(days, mod(int64(wd), 7))
		}
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
			local := mod(int64(st+offset), int64(day)) // local time of day
			runs = append(runs, time.Duration(d)*day+time.Duration(local))
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

// zoneOffsets returns the distinct UTC offsets of loc in this year (one for
// a fixed zone, two for a zone with daylight saving time), ascending; [0]
// for nil.
func zoneOffsets(loc *time.Location) []time.Duration {
	if loc == nil {
		return []time.Duration{0}
	}
	year := time.Now().Year()
	var out []time.Duration
	for _, m := range []time.Month{time.January, time.July} {
		_, off := time.Date(year, m, 15, 12, 0, 0, 0, time.UTC).In(loc).Zone()
		out = append(out, time.Duration(off)*time.Second)
	}
	slices.Sort(out)
	return slices.Compact(out)
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
