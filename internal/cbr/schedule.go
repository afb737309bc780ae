package cbr

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// Schedule is a policy's trigger: the RRULE strings of
// trigger.properties.pattern and the trigger's start time. It implements
// backup.Schedule.
type Schedule struct {
	// Patterns are the rules as the API sent them.
	Patterns []string
	// Start is trigger.properties.start_time, the zero time when absent.
	Start time.Time
	// interval is computed once by ParseSchedule.
	interval time.Duration
}

// ExpectedInterval is the longest gap between two consecutive runs of the
// merged patterns, 0 when unknown (no pattern).
func (s Schedule) ExpectedInterval() time.Duration { return s.interval }

// MaxPatterns is the largest number of patterns a schedule may have; the API
// documents 24.
const MaxPatterns = 64

// maxInterval bounds INTERVAL; the API allows 1–30 days (Terraform), a wider
// bound keeps odd values usable.
const maxInterval = 100

// MaxRunsPerDay bounds the runs a day of all patterns together (the
// BYHOUR × BYMINUTE combinations); the API allows 24. It keeps the exact
// expansion cheap.
const MaxRunsPerDay = 96

// maxPeriodDays bounds the merged period that is expanded exactly; beyond it
// the safe upper bound of cbr-api.md §4 step 3 is used.
const maxPeriodDays = 2 * 366

// anchor is the start of the expansion when the trigger has no start_time:
// a Monday at midnight UTC.
var anchor = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseSchedule parses the patterns (RFC 5545 RRULE subset: FREQ=DAILY or
// WEEKLY, INTERVAL, BYDAY, BYHOUR, BYMINUTE, also WKST and a
// DTSTART with TZID) and computes the expected interval: the longest gap
// between consecutive runs when the occurrences of all patterns are merged.
//
// Times are in UTC (BYHOUR=6 is 06:00 UTC, as the API documents) unless a
// pattern carries its own "DTSTART;TZID=Europe/Berlin:..." line, in which
// case its BYHOUR/BYMINUTE are wall-clock times of that zone and daylight
// saving changes lengthen some gaps (a daily 02:00 Berlin rule has a 25h gap
// in autumn). Keys are case-insensitive, spaces are ignored and numbers
// may be zero-padded ("BYHOUR=08"). A missing INTERVAL is 1; WEEKLY without
// BYDAY runs on start's weekday (RFC semantics); a missing BYHOUR or
// BYMINUTE is taken from start (00:00 without start). start anchors
// INTERVAL>1 series; when zero, a fixed Monday in 2001 is used.
//
// The merged pattern set repeats with the least common multiple of the
// patterns' periods (DAILY: INTERVAL days; WEEKLY: 7·INTERVAL days), which
// is expanded exactly (over a whole year more for a zone with daylight
// saving). A period over two years falls back to the smallest of each
// pattern's own longest gap, an upper bound of the true value.
//
// Errors name the pattern, e.g. `pattern 2 "FREQ=MONTHLY": FREQ MONTHLY is
// not supported (want DAILY or WEEKLY)`; patterns that never run (DAILY with
// INTERVAL=7 and a BYDAY the series never lands on) are an error. No pattern gives a Schedule with
// ExpectedInterval 0 and no error.
func ParseSchedule(patterns []string, start time.Time) (Schedule, error) {
	s := Schedule{Patterns: slices.Clone(patterns), Start: start}
	if len(patterns) == 0 {
		return s, nil
	}
	if len(patterns) > MaxPatterns {
		return Schedule{}, fmt.Errorf("%d patterns, more than %d", len(patterns), MaxPatterns)
	}
	a := start
	if a.IsZero() {
		a = anchor
	}
	rules := make([]rrule.ROption, 0, len(patterns))
	periods := make([]int, 0, len(patterns))
	dst := false
	begin := a // the latest start of any rule
	perDay := 0
	for i, p := range patterns {
		o, period, err := parsePattern(p, a)
		if err != nil {
			return Schedule{}, fmt.Errorf("pattern %d %q: %w", i+1, hwcloud.Truncate(p, 120), err)
		}
		if perDay += max(len(o.Byhour), 1) * max(len(o.Byminute), 1); perDay > MaxRunsPerDay {
			return Schedule{}, fmt.Errorf("pattern %d %q: more than %d runs a day", i+1, hwcloud.Truncate(p, 120), MaxRunsPerDay)
		}
		rules = append(rules, o)
		periods = append(periods, period)
		if hasDST(o.Dtstart.Location(), a) {
			dst = true
		}
		if o.Dtstart.After(begin) {
			begin = o.Dtstart
		}
	}
	if y := begin.Year(); y < 1 || y > 9990 {
		return Schedule{}, fmt.Errorf("start %s is out of range", begin.Format(time.RFC3339))
	}
	period := 1
	for _, p := range periods {
		period = lcm(period, p)
		if period > maxPeriodDays {
			break
		}
	}
	var err error
	if period > maxPeriodDays {
		// Adding runs only shortens gaps: the smallest of the patterns' own
		// gaps bounds the merged one from above.
		best := time.Duration(math.MaxInt64)
		for i, r := range rules {
			gap, gerr := longestGap([]rrule.ROption{r}, begin, periods[i], dst)
			if gerr == nil {
				best = min(best, gap)
			}
			err = gerr
		}
		if best < math.MaxInt64 {
			s.interval, err = best, nil
		}
	} else {
		s.interval, err = longestGap(rules, begin, period, dst)
	}
	if err != nil {
		return Schedule{}, err
	}
	return s, nil
}

// longestGap expands the rules from a: it skips one period (so that every
// rule has started), then measures the gaps whose first run lies within the
// next period (or the next year and a period with daylight saving). The
// rules end (UNTIL) right after the expansion, which bounds the work of a
// rule that never matches.
func longestGap(opts []rrule.ROption, a time.Time, periodDays int, dst bool) (time.Duration, error) {
	const day = 24 * time.Hour
	period := time.Duration(periodDays) * day
	from := a.Add(period)
	span := period
	if dst {
		span += 366 * day
	}
	// The gap after the last run in the span needs the first run after it:
	// one more period always holds one.
	to := from.Add(span + period + day)
	var runs []time.Time
	for _, o := range opts {
		o.Until = to
		r, err := rrule.NewRRule(o)
		if err != nil {
			return 0, err
		}
		runs = append(runs, r.Between(from, to, true)...)
	}
	if len(runs) < 2 {
		return 0, errors.New("the patterns never run")
	}
	slices.SortFunc(runs, func(x, y time.Time) int { return x.Compare(y) })
	end := from.Add(span)
	var longest time.Duration
	for i := 1; i < len(runs); i++ {
		if !runs[i-1].Before(end) {
			break
		}
		longest = max(longest, runs[i].Sub(runs[i-1]))
	}
	return longest, nil
}

// parsePattern parses one rule with dtstart a and returns it with its period
// in days.
func parsePattern(p string, a time.Time) (rrule.ROption, int, error) {
	var dtstart, body string
	lines := strings.FieldsFunc(strings.TrimSpace(p), func(r rune) bool { return r == '\n' || r == '\r' })
	for _, l := range lines {
		l = strings.TrimSpace(l)
		switch up := strings.ToUpper(l); {
		case strings.HasPrefix(up, "DTSTART"):
			dtstart = l
		case body == "":
			body = strings.TrimPrefix(up, "RRULE:")
		default:
			return rrule.ROption{}, 0, errors.New("more than one rule")
		}
	}
	body = strings.ReplaceAll(body, " ", "")
	if body == "" {
		return rrule.ROption{}, 0, errors.New("empty rule")
	}
	var freq string
	interval := 1
	hasHour, hasMinute, hasDay := false, false, false
	var parts []string
	for part := range strings.SplitSeq(body, ";") {
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || v == "" {
			return rrule.ROption{}, 0, fmt.Errorf("%q is not KEY=VALUE", hwcloud.Truncate(part, 40))
		}
		switch k {
		case "FREQ":
			freq = v
		case "INTERVAL":
			n, ok := atoi(v)
			if !ok || n < 1 || n > maxInterval {
				return rrule.ROption{}, 0, fmt.Errorf("INTERVAL %q is not an integer in 1..%d", hwcloud.Truncate(v, 20), maxInterval)
			}
			interval = n
			v = fmt.Sprint(n)
		case "BYHOUR", "BYMINUTE":
			// rrule-go parses "08" fine; normalise anyway and check ranges.
			limit := map[string]int{"BYHOUR": 23, "BYMINUTE": 59}[k]
			var norm []string
			for item := range strings.SplitSeq(v, ",") {
				n, ok := atoi(item)
				if !ok || n > limit {
					return rrule.ROption{}, 0, fmt.Errorf("%s %q is not a list of integers in 0..%d", k, hwcloud.Truncate(v, 40), limit)
				}
				norm = append(norm, fmt.Sprint(n))
			}
			v = strings.Join(norm, ",")
			hasHour = hasHour || k == "BYHOUR"
			hasMinute = hasMinute || k == "BYMINUTE"
		case "BYDAY":
			hasDay = true
		case "WKST":
		case "COUNT", "UNTIL":
			return rrule.ROption{}, 0, fmt.Errorf("%s is not supported: a schedule that ends has no steady interval", k)
		default:
			return rrule.ROption{}, 0, fmt.Errorf("key %s is not supported (want FREQ, INTERVAL, BYDAY, BYHOUR, BYMINUTE)", hwcloud.Truncate(k, 20))
		}
		parts = append(parts, k+"="+v)
	}
	var periodDays int
	switch freq {
	case "DAILY":
		periodDays = interval
	case "WEEKLY":
		periodDays = 7 * interval
	case "":
		return rrule.ROption{}, 0, errors.New("no FREQ")
	default:
		return rrule.ROption{}, 0, fmt.Errorf("FREQ %s is not supported (want DAILY or WEEKLY)", hwcloud.Truncate(freq, 20))
	}
	if hasDay {
		periodDays = lcm(periodDays, 7) // DAILY;BYDAY=MO,WE repeats weekly
	}
	text := strings.Join(parts, ";")
	if dtstart != "" {
		text = dtstart + "\n" + text
	}
	opt, err := rrule.StrToROptionInLocation(text, time.UTC)
	if err != nil {
		return rrule.ROption{}, 0, err
	}
	if dtstart == "" {
		opt.Dtstart = a
	}
	// A rule without BYHOUR/BYMINUTE runs at dtstart's hour and minute;
	// seconds are never meant.
	if !hasHour {
		opt.Byhour = []int{opt.Dtstart.Hour()}
	}
	if !hasMinute {
		opt.Byminute = []int{opt.Dtstart.Minute()}
	}
	opt.Bysecond = []int{0}
	// NewRRule validates the options; longestGap builds its own.
	if _, err := rrule.NewRRule(*opt); err != nil {
		return rrule.ROption{}, 0, err
	}
	return *opt, periodDays, nil
}

// atoi parses a non-negative decimal integer of at most 4 digits.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 4 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// hasDST reports whether loc's UTC offset changes within the year after a.
func hasDST(loc *time.Location, a time.Time) bool {
	if loc == time.UTC {
		return false
	}
	_, off := a.In(loc).Zone()
	for m := 1; m <= 12; m++ {
		if _, o := a.AddDate(0, m, 0).In(loc).Zone(); o != off {
			return true
		}
	}
	return false
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int) int { return a / gcd(a, b) * b }
