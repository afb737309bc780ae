package hwcloud

import (
	"fmt"
	"strings"
	"time"
)

// ParseTime parses a timestamp as the VBS and IAM APIs send it and returns it
// in UTC.
//
// Accepted forms: a date "2006-01-02", a 'T' or a space (also 't'), a time
// "15:04:05", an optional fraction of 1 to 9 digits after a '.', and an
// optional zone: none (the API's usual form, taken as UTC), "Z", or an
// offset "+08:00", "+0800" or "+08". Surrounding white space is ignored.
// Examples: "2016-12-02T09:06:46.706", "2016-12-02T09:06:46",
// "2023-06-10T07:14:52.176000Z", "2016-12-02 17:06:46+08:00".
//
// The empty string gives the zero time and no error. Anything else, including
// out-of-range fields such as month 13 or February 30 and an instant outside
// the years 1 to 9999 once the offset is applied (e.g.
// "9999-12-31 01:00:00-23", which is in year 10000 in UTC), is an error of
// the form `cannot parse "…" as a timestamp`. Every time returned can thus be
// written in RFC 3339 and parsed back.
func ParseTime(s string) (time.Time, error) {
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		return time.Time{}, nil
	}
	t, ok := parseTime(trimmed)
	if !ok {
		return time.Time{}, fmt.Errorf("cannot parse %q as a timestamp", Truncate(s, 64))
	}
	return t, nil
}

// parseTime is ParseTime without the error message.
func parseTime(s string) (time.Time, bool) {
	p := timeScanner{s: s}
	year, ok1 := p.digits(4)
	ok2 := p.byte('-')
	month, ok3 := p.digits(2)
	ok4 := p.byte('-')
	day, ok5 := p.digits(2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return time.Time{}, false
	}
	if !p.byte('T') && !p.byte(' ') && !p.byte('t') {
		return time.Time{}, false
	}
	hour, ok1 := p.digits(2)
	ok2 = p.byte(':')
	minute, ok3 := p.digits(2)
	ok4 = p.byte(':')
	sec, ok5 := p.digits(2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return time.Time{}, false
	}
	nsec := 0
	if p.byte('.') {
		n := 0
		for n < 9 && p.more() && isDigit(p.s[p.i]) {
			nsec = nsec*10 + int(p.s[p.i]-'0')
			p.i++
			n++
		}
		if n == 0 || (p.more() && isDigit(p.s[p.i])) {
			return time.Time{}, false // no digits, or more than 9
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	offset := 0
	if p.more() {
		switch c := p.s[p.i]; c {
		case 'Z', 'z':
			p.i++
		case '+', '-':
			p.i++
			oh, ok := p.digits(2)
			if !ok {
				return time.Time{}, false
			}
			om := 0
			if p.more() {
				p.byte(':') // optional: "+08:00" or "+0800"
				m, ok := p.digits(2)
				if !ok {
					return time.Time{}, false
				}
				om = m
			}
			if oh > 23 || om > 59 {
				return time.Time{}, false
			}
			offset = (oh*60 + om) * 60
			if c == '-' {
				offset = -offset
			}
		default:
			return time.Time{}, false
		}
	}
	if p.more() {
		return time.Time{}, false
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // e.g. February 30 normalised to March 2
		return time.Time{}, false
	}
	t = t.Add(-time.Duration(offset) * time.Second)
	if y := t.Year(); y < 1 || y > 9999 { // RFC 3339 has four-digit years only
		return time.Time{}, false
	}
	return t, true
}

// timeScanner is a cursor over a timestamp string.
type timeScanner struct {
	s string
	i int
}

func (p *timeScanner) more() bool { return p.i < len(p.s) }

// byte consumes c if it is next.
func (p *timeScanner) byte(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// digits consumes exactly n ASCII digits.
func (p *timeScanner) digits(n int) (int, bool) {
	if len(p.s)-p.i < n {
		return 0, false
	}
	v := 0
	for k := 0; k < n; k++ {
		c := p.s[p.i+k]
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	p.i += n
	return v, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
