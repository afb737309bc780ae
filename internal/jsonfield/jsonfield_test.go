package jsonfield

import (
	"encoding/json"
	"testing"
)

func TestInt(t *testing.T) {
	for _, c := range []struct {
		raw     string
		bits    int
		want    int64
		wantErr string
	}{
		{raw: ``, bits: 32, want: 0},
		{raw: `null`, bits: 32, want: 0},
		{raw: `7`, bits: 32, want: 7},
		{raw: `" 7 "`, bits: 32, want: 7},
		{raw: `""`, bits: 32, want: 0},
		{raw: `7.0`, bits: 32, want: 7},
		{raw: `1e3`, bits: 32, want: 1000},
		{raw: `2147483647`, bits: 32, want: 2147483647},
		{raw: `2147483648`, bits: 32, wantErr: `cannot use "2147483648" as an integer`},
		{raw: `2147483648`, bits: 64, want: 2147483648},
		{raw: `9007199254740993`, bits: 64, want: 9007199254740993},
		{raw: `1e300`, bits: 64, wantErr: `cannot use "1e300" as an integer`},
		{raw: `7.5`, bits: 32, wantErr: `cannot use "7.5" as an integer`},
		{raw: `true`, bits: 32, wantErr: `is a boolean, want an integer`},
		{raw: `{}`, bits: 32, wantErr: `is an object, want an integer`},
	} {
		got, err := Int(json.RawMessage(c.raw), c.bits)
		switch {
		case c.wantErr != "" && (err == nil || err.Error() != c.wantErr):
			t.Errorf("Int(%s, %d) = %d, %v; want error %q", c.raw, c.bits, got, err, c.wantErr)
		case c.wantErr == "" && (err != nil || got != c.want):
			t.Errorf("Int(%s, %d) = %d, %v; want %d", c.raw, c.bits, got, err, c.want)
		}
	}
}

func TestCodeStringFlagList(t *testing.T) {
	if s, err := Code(json.RawMessage(`4001`)); err != nil || s != "4001" {
		t.Errorf("Code(4001) = %q, %v", s, err)
	}
	if s, err := Code(json.RawMessage(`"VBS.0011"`)); err != nil || s != "VBS.0011" {
		t.Errorf(`Code("VBS.0011") = %q, %v`, s, err)
	}
	if _, err := Code(json.RawMessage(`[1]`)); err == nil || err.Error() != "is an array, want a string or a number" {
		t.Errorf("Code([1]) error = %v", err)
	}
	if _, err := String(json.RawMessage(`5`)); err == nil || err.Error() != "is a number, want a string" {
		t.Errorf("String(5) error = %v", err)
	}
	if b, err := Flag(json.RawMessage(`" on "`), "ON"); err != nil || !b {
		t.Errorf(`Flag(" on ") = %v, %v`, b, err)
	}
	if l, err := StringList(json.RawMessage(`"MON,THU"`)); err != nil || len(l) != 2 || l[1] != "THU" {
		t.Errorf(`StringList("MON,THU") = %q, %v`, l, err)
	}
	if k := Kind([]byte("  ")); k != "missing" {
		t.Errorf("Kind(blank) = %q", k)
	}
}
