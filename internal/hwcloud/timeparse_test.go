package hwcloud

import (
	"testing"
	"time"
)

func utc(y int, mo time.Month, d, h, mi, s, ms int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ms*int(time.Millisecond), time.UTC)
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
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"", " ", "2016-12-02T09:06:46.706", "2016-12-02T09:06:46", "2016-12-02T09:06:46.123456789",
		"2016-12-02T09:06:46.1234567890", "2016-12-02T09:06:46Z", "2023-06-10T07:14:52.176000Z",
		"2016-12-02T17:06:46+08:00", "2016-12-02T17:06:46+0800", "2016-12-02T17:06:46-03", "2016-12-02 09:06:46.706",
		"2016-02-30T00:00:00", "2016-12-02T24:00:00", "0000-01-01T00:00:00-23:59", "9999-12-31T23:59:59.999999999+23:59",
		"yesterday", "2016-12-02T09:06:46.", "2016-12-02T09:06:46+08:", "\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			if !got.IsZero() {
				t.Errorf("error with a non-zero time %v", got)
			}
			return
		}
		if got.IsZero() {
			return
		}
		if got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) in %v", s, got.Location())
		}
		if y := got.Year(); y < 1 || y > 9999 {
			t.Errorf("ParseTime(%q) = %v, outside years 1..9999", s, got)
		}
		// The RFC 3339 form of the result parses back to the same instant.
		again, err := ParseTime(got.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(got) {
			t.Errorf("round trip of %q: %v -> %v, %v", s, got, again, err)
		}
	})
}
