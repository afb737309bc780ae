// Package testkit holds what the tests of more than one package share: a
// parsed text exposition, parsed log lines, a simulator with its key file and
// its config entry, the parallelism of waiting tests. It is imported by tests only.
package testkit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics are the metric families of a text exposition.
type Metrics map[string]*dto.MetricFamily

// ParseMetrics parses a text exposition, failing t when it does not parse.
func ParseMetrics(t testing.TB, body string) Metrics {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the exposition: %v\n%s", err, body)
	}
	return mfs
}

// Value returns the value of the gauge, counter or untyped sample of name
// whose label set is exactly labels (name, value pairs).
func (m Metrics) Value(name string, labels ...string) (float64, bool) {
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

// Series returns the label sets of name's samples.
func (m Metrics) Series(name string) []map[string]string {
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

// Expect requires the sample to exist with exactly want.
func (m Metrics) Expect(t testing.TB, want float64, name string, labels ...string) {
	t.Helper()
	got, ok := m.Value(name, labels...)
	switch {
	case !ok:
		t.Errorf("%s%v: missing", name, labels)
	case got != want:
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// LogLeadingKeys start every log line the exporter writes, in this order.
var LogLeadingKeys = []string{"ts", "level", "caller", "msg"}

var logfmtRE = regexp.MustCompile(`([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)`)

// LogfmtKV returns the key/value pairs of one logfmt line, in order.
func LogfmtKV(t testing.TB, line string) [][2]string {
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

// JSONKeys returns the keys of one JSON log line, in order, and its values.
func JSONKeys(t testing.TB, line string) ([]string, map[string]any) {
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

// LogLine is one parsed log line: its keys in order and its values as text.
type LogLine struct {
	Keys []string
	Vals map[string]string
}

// ParseLogLines parses the log stream in format (logfmt or json).
func ParseLogLines(t testing.TB, format, stream string) []LogLine {
	t.Helper()
	var out []LogLine
	sc := bufio.NewScanner(strings.NewReader(stream))
	for sc.Scan() {
		l := LogLine{Vals: map[string]string{}}
		if format == "json" {
			keys, vals := JSONKeys(t, sc.Text())
			l.Keys = keys
			for k, v := range vals {
				l.Vals[k] = fmt.Sprint(v)
			}
		} else {
			for _, kv := range LogfmtKV(t, sc.Text()) {
				l.Keys = append(l.Keys, kv[0])
				l.Vals[kv[0]] = kv[1]
			}
		}
		out = append(out, l)
	}
	return out
}

// CheckLogKeyOrder requires every line to start with LogLeadingKeys, a UTC
// timestamp and a file:line caller.
func CheckLogKeyOrder(t testing.TB, lines []LogLine) {
	t.Helper()
	tsRE := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)
	callerRE := regexp.MustCompile(`^[\w.-]+\.go:\d+$`)
	for _, l := range lines {
		if len(l.Keys) < 4 || !slices.Equal(l.Keys[:4], LogLeadingKeys) {
			t.Errorf("log line %v starts with keys %q, want %q", l.Vals, l.Keys, LogLeadingKeys)
			continue
		}
		if !tsRE.MatchString(l.Vals["ts"]) || !callerRE.MatchString(l.Vals["caller"]) {
			t.Errorf("log line %v: ts %q or caller %q malformed", l.Vals, l.Vals["ts"], l.Vals["caller"])
		}
	}
}

// SyncBuffer is a log sink safe for concurrent writers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns the lines written so far that contain substr.
func (b *SyncBuffer) Lines(substr string) []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}
