package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// configError is one problem found in a configuration file. Its message has the form
//
//	FILE:LINE: target "NAME": field FIELD: DETAIL
//
// where the line, target and field parts are left out when they do not apply
// (a target without a usable name is shown as target #N, its 1-based position).
// Parse and Load return every configError they find, combined with
// errors.Join. Messages never contain a secret's value.
type configError struct {
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
func (e *configError) Error() string {
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
func (e *configError) Unwrap() error { return e.Err }

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

// decodeDocument returns the first YAML document of data, and the line of a
// later document that is not empty (0 if there is none). err is yaml.v3's.
func decodeDocument(data []byte) (doc *yaml.Node, extra int, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	doc = &yaml.Node{}
	if err := dec.Decode(doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, err
	}
	for {
		var more yaml.Node
		err := dec.Decode(&more)
		if errors.Is(err, io.EOF) {
			return doc, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if len(more.Content) > 0 && !isNull(resolve(more.Content[0])) {
			return doc, more.Line, nil
		}
	}
}

var (
	// yamlPrefixRE matches the "yaml: line N: " (or "yaml: ") prefix of
	// yaml.v3's errors; their wording is never matched.
	yamlPrefixRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)
	// secretKeyRE finds a secret field on a line (block or flow style) and
	// what follows it.
	secretKeyRE = regexp.MustCompile(`(?:^|[\s{,?-])(secret_key|security_token|password)\s*:(.*)$`)
)

// syntaxError reports a YAML syntax error at the line it is on. yaml.v3
// counts some lines from 0 and some from 1 and leaves out others, so the
// line is checked: it is the first whose prefix of the file fails the same
// way. On a line that holds a secret field the message names the field and
// not yaml.v3's words, which can quote the value.
func syntaxError(data []byte, err error) *configError {
	m := yamlPrefixRE.FindStringSubmatch(err.Error())
	if m == nil {
		m = []string{"", ""}
	}
	msg := strings.TrimPrefix(err.Error(), m[0])
	lines := bytes.SplitAfter(data, []byte("\n"))
	failsBy := func(n int) bool {
		_, _, e := decodeDocument(bytes.Join(lines[:min(n, len(lines))], nil))
		return e != nil && strings.HasSuffix(e.Error(), msg)
	}
	// The first line whose prefix fails the same way is where the problem
	// shows; yaml.v3's line, when it has one, is where the construct in error
	// began (counted from 0 or 1: the prefix check tells which).
	end, hi := 1, len(lines)
	for end < hi {
		if mid := (end + hi) / 2; failsBy(mid) {
			hi = mid
		} else {
			end = mid + 1
		}
	}
	line, _ := strconv.Atoi(m[1])
	switch {
	case line == 0 || line > end:
		line = end
	case !failsBy(line):
		line++
	}
	last := len(lines) // an error at the end of the input is on the last line
	if last > 1 && len(lines[last-1]) == 0 {
		last--
	}
	line, end = min(line, last), min(end, last)
	for l := line; l <= end && l > 0; l++ {
		if m := secretKeyRE.FindSubmatch(bytes.TrimRight(lines[l-1], "\r\n")); m != nil {
			return &configError{Line: l, Field: "auth." + string(m[1]), Err: errors.New("invalid YAML (details not shown: the line holds a secret)")}
		}
	}
	return &configError{Line: line, Err: fmt.Errorf("invalid YAML: %s", msg)}
}

// lineSecrets returns what follows each secret field in data, as written and
// without YAML punctuation, so that messages can be scrubbed of secrets even
// when the file does not parse.
func lineSecrets(data []byte) []string {
	var out []string
	for _, l := range bytes.Split(data, []byte("\n")) {
		if m := secretKeyRE.FindSubmatch(bytes.TrimRight(l, "\r")); m != nil {
			v := strings.TrimSpace(string(m[2]))
			first, _, _ := strings.Cut(v, ",")
			out = append(out, v, strings.Trim(v, "*&!%@'\"{}[] \t"), strings.Trim(first, "*&!%@'\"{}[] \t"))
		}
	}
	return out
}

// minScrubbed is the shortest secret scrubbed from messages: shorter
// strings would mangle them.
const minScrubbed = 3

// scrub returns err with every secret of secrets in its message replaced by
// SecretPlaceholder; errors.Is and errors.As still see err.
func scrub(err error, secrets []string) error {
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= minScrubbed {
			msg = strings.ReplaceAll(msg, s, SecretPlaceholder)
		}
	}
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}

// scrubbed is an error whose message was scrubbed of secrets.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
