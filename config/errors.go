package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// configError is one problem found in a configuration file. Its message is
//
//	FILE:LINE: target "NAME": field FIELD: DETAIL
//
// without the parts that do not apply; a target without a usable name is
// shown as target #N, its 1-based position. Messages never hold a secret.
type configError struct {
	File        string // as given to Load or Parse
	Line        int    // 1-based, 0 when unknown
	Target      string // the target's name, "" if none or unknown
	TargetIndex int    // the target's 1-based position, 0 outside a target
	Field       string // dotted path of the field at fault, e.g. auth.secret_key_file
	Err         error  // the problem, never nil
}

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
	return b.String() + e.Err.Error()
}

func (e *configError) Unwrap() error { return e.Err }

// problems collects the errors found in a file or a target.
type problems []*configError

func (ps *problems) add(line int, field, format string, args ...any) {
	*ps = append(*ps, &configError{Line: line, Field: field, Err: fmt.Errorf(format, args...)})
}

// has reports whether ps holds a problem with a field starting with prefix.
func (ps problems) has(prefix string) bool {
	return slices.ContainsFunc(ps, func(e *configError) bool { return strings.HasPrefix(e.Field, prefix) })
}

func (ps problems) Error() string { return ps.join().Error() }

func (ps problems) join() error {
	errs := make([]error, len(ps))
	for i, e := range ps {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// quote returns s in Go double-quoted form, shortened to 64 runes, so a
// message stays one readable line whatever the input holds.
func quote(s string) string {
	if r := []rune(s); len(r) > 64 {
		return strconv.Quote(string(r[:64])) + "..."
	}
	return strconv.Quote(s)
}

// decodeDocument returns the first YAML document of data, and the line of a
// later document that is not empty (0 if there is none). err is yaml.v3's.
func decodeDocument(data []byte) (doc *yaml.Node, extra int, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	doc = &yaml.Node{}
	for n := doc; ; n = new(yaml.Node) {
		switch err := dec.Decode(n); {
		case errors.Is(err, io.EOF):
			return doc, 0, nil
		case err != nil:
			return nil, 0, err
		case n != doc && len(n.Content) > 0 && !isNull(resolve(n.Content[0])):
			return doc, n.Line, nil
		}
	}
}

var (
	// yamlPrefixRE matches the "yaml: line N: " (or "yaml: ") prefix of
	// yaml.v3's errors; their wording is never matched.
	yamlPrefixRE = regexp.MustCompile(`^(?:yaml: )?(?:line (\d+): )?`)
	// secretKeyRE finds a secret field on a line (block or flow style) and
	// what follows it.
	secretKeyRE = regexp.MustCompile(`(?:^|[\s{,?-])(secret_key|security_token|password)\s*:(.*)$`)
)

// syntaxError reports a YAML syntax error at its line. yaml.v3 gives the line
// where the construct in error began, counted from 0 or 1, or none; the line
// is the first whose prefix of the file fails the same way, or yaml.v3's if
// it is earlier and (counted from 1, else from 0) fails so. On a line holding
// a secret field the message names the field, not yaml.v3's words, which
// can quote the value.
func syntaxError(data []byte, err error) *configError {
	m := yamlPrefixRE.FindStringSubmatch(err.Error()) // always matches
	msg := strings.TrimPrefix(err.Error(), m[0])
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 1 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1] // no line after the final newline
	}
	failsBy := func(n int) bool {
		_, _, e := decodeDocument(bytes.Join(lines[:n], nil))
		return e != nil && strings.HasSuffix(e.Error(), msg)
	}
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
	for l := line; l <= end; l++ {
		if m := secretKeyRE.FindSubmatch(bytes.TrimRight(lines[l-1], "\r\n")); m != nil {
			return &configError{Line: l, Field: "auth." + string(m[1]), Err: errors.New("invalid YAML (details not shown: the line holds a secret)")}
		}
	}
	return &configError{Line: line, Err: fmt.Errorf("invalid YAML: %s", msg)}
}

// lineSecrets returns what follows each secret field in data, as written and
// without YAML punctuation, so that messages are scrubbed of secrets even
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

// scrub returns err with every secret of at least 3 bytes (shorter ones
// would mangle messages) replaced by SecretPlaceholder in its message;
// errors.Is and errors.As still see err.
func scrub(err error, secrets []string) error {
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, SecretPlaceholder)
		}
	}
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg, err}
}

// scrubbed is an error whose message was scrubbed of secrets.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
