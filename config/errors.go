package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is one problem found in a configuration file. Its message has the form
//
//	FILE:LINE: target "NAME": field FIELD: DETAIL
//
// where the line, target and field parts are left out when they do not apply
// (a target without a usable name is shown as target #N, its 1-based position).
// Parse and Load return every Error they find, combined with errors.Join; use
// errors.As to get at one. Messages never contain a secret's value.
type Error struct {
	// File is the configuration file's name as given to Load or Parse.
	File string
	// Line is the 1-based line the problem is on, 0 when unknown.
	Line int
	// Target is the name of the target the problem is in, "" if none or unknown.
	Target string
	// TargetIndex is the 1-based position of the target in targets, 0 if the
	// problem is not inside a target.
	TargetIndex int
	// Field is the dotted path of the field at fault (e.g. "auth.secret_key_file"),
	// "" when the problem is not about one field.
	Field string
	// Err is the problem itself.
	Err error
}

// Error formats the error as FILE:LINE: target "NAME": field FIELD: DETAIL.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	switch {
	case e.Target != "":
		fmt.Fprintf(&b, "target %s: ", quote(e.Target))
	case e.TargetIndex > 0:
		fmt.Fprintf(&b, "target #%d: ", e.TargetIndex)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %s: ", e.Field)
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying problem.
func (e *Error) Unwrap() error { return e.Err }

// syntaxError rewords an error from the YAML parser (drops its "yaml: line N:"
// prefix, which Error shows in its own way) while keeping it for errors.Is/As.
type syntaxError struct {
	msg string
	err error
}

func (e *syntaxError) Error() string { return e.msg }
func (e *syntaxError) Unwrap() error { return e.err }

// maxQuoted bounds how much of a user-supplied value an error message repeats.
const maxQuoted = 64

// quote returns s in Go double-quoted form, shortened to maxQuoted runes, so a
// message stays one readable line whatever the input holds.
func quote(s string) string {
	if utf8.RuneCountInString(s) > maxQuoted {
		r := []rune(s)
		return strconv.Quote(string(r[:maxQuoted])) + "..."
	}
	return strconv.Quote(s)
}
