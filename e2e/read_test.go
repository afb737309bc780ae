package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Reading what the binary writes: its expositions and its log lines.

// scraped are the metric families of a text exposition.
type scraped map[string]*dto.MetricFamily

func parseScrape(t testing.TB, body string) scraped {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the exposition: %v\n%s", err, body)
	}
	return mfs
}

// value returns the value of the gauge, counter or untyped sample of name
// whose label set is exactly labels (name, value pairs).
func (m scraped) value(name string, labels ...string) (float64, bool) {
	want := make(map[string]string, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	mf := m[name]
	if mf == nil {
		return 0, false
	}
	for _, s := range mf.Metric {
		if len(s.Label) != len(want) {
			continue
		}
		match := true
		for _, lp := range s.Label {
			if v, ok := want[lp.GetName()]; !ok || v != lp.GetValue() {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		switch {
		case s.Gauge != nil:
			return s.Gauge.GetValue(), true
		case s.Counter != nil:
			return s.Counter.GetValue(), true
		case s.Untyped != nil:
			return s.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// series returns the label sets of name's samples.
func (m scraped) series(name string) []map[string]string {
	mf := m[name]
	if mf == nil {
		return nil
	}
	var out []map[string]string
	for _, s := range mf.Metric {
		ls := make(map[string]string, len(s.Label))
		for _, lp := range s.Label {
			ls[lp.GetName()] = lp.GetValue()
		}
		out = append(out, ls)
	}
	return out
}

// expect requires the sample to exist with exactly want.
func (m scraped) expect(t testing.TB, want float64, name string, labels ...string) {
	t.Helper()
	got, ok := m.value(name, labels...)
	switch {
	case !ok:
		t.Errorf("%s%v: missing", name, labels)
	case got != want:
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// logLeadingKeys start every log line the binary writes, in this order (the
// contract of logging.go's leadingKeysLogger, stated here from outside).
var logLeadingKeys = []string{"ts", "level", "caller", "msg"}

var logfmtRE = regexp.MustCompile(`([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)`)

// logfmtKV returns the key/value pairs of one logfmt line, in order.
func logfmtKV(t *testing.T, line string) [][2]string {
	t.Helper()
	var out [][2]string
	for _, m := range logfmtRE.FindAllStringSubmatch(line, -1) {
		v := m[2]
		if strings.HasPrefix(v, `"`) {
			if err := json.Unmarshal([]byte(v), &v); err != nil {
				t.Fatalf("logfmt value %s in %q: %v", m[2], line, err)
			}
		}
		out = append(out, [2]string{m[1], v})
	}
	return out
}

// jsonKeys returns the keys of one JSON log line, in order, and its values.
func jsonKeys(t *testing.T, line string) ([]string, map[string]any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("log line %q is no JSON object: %v", line, err)
	}
	var keys []string
	vals := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		k := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals
}

// logLine is one parsed log line: its keys in order and its values as text.
type logLine struct {
	keys []string
	vals map[string]string
}

// parseLogLines parses the log stream in format (logfmt or json).
func parseLogLines(t *testing.T, format, stream string) []logLine {
	t.Helper()
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(stream))
	for sc.Scan() {
		l := logLine{vals: map[string]string{}}
		if format == "json" {
			keys, vals := jsonKeys(t, sc.Text())
			l.keys = keys
			for k, v := range vals {
				l.vals[k] = fmt.Sprint(v)
			}
		} else {
			for _, kv := range logfmtKV(t, sc.Text()) {
				l.keys = append(l.keys, kv[0])
				l.vals[kv[0]] = kv[1]
			}
		}
		out = append(out, l)
	}
	return out
}

// checkLogKeyOrder requires every line to start with ts, level, caller, msg,
// a UTC timestamp and a file:line caller.
func checkLogKeyOrder(t *testing.T, lines []logLine) {
	t.Helper()
	tsRE := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)
	callerRE := regexp.MustCompile(`^[\w.-]+\.go:\d+$`)
	for _, l := range lines {
		if len(l.keys) < 4 || !slices.Equal(l.keys[:4], logLeadingKeys) {
			t.Errorf("log line %v starts with keys %q, want %q", l.vals, l.keys, logLeadingKeys)
			continue
		}
		if !tsRE.MatchString(l.vals["ts"]) || !callerRE.MatchString(l.vals["caller"]) {
			t.Errorf("log line %v: ts %q or caller %q malformed", l.vals, l.vals["ts"], l.vals["caller"])
		}
	}
}
