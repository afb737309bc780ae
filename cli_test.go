package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"

	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs"
)

// The CLI tests call run and parseFlags in process, with buffers for stdout
// and stderr; e2e/binary_test.go runs the built binary for the same contract.

// runCLI runs the exporter's main logic with args and returns its exit code
// and output. It must only be used for invocations that exit by themselves.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestCLIHelpAndVersionOnStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--config.file=x.yml", "--help"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "usage: vbs_exporter [<flags>]\n") || !strings.Contains(stdout, "--web.listen-address") {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want 0, nothing on stderr, the usage on stdout", args, code, stderr, stdout)
		}
	}
	code, stdout, stderr := runCLI(t, "--version")
	if want := version.Print("vbs_exporter") + "\n"; code != 0 || stderr != "" || stdout != want {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want 0 and %q on stdout", code, stdout, stderr, want)
	}
}

func TestCLIUsageErrorsHintAtHelp(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--no-such-flag"}, "vbs_exporter: error: unknown long flag '--no-such-flag', try --help\n"},
		{[]string{"-x"}, "vbs_exporter: error: unknown short flag '-x', try --help\n"},
		{[]string{"--log.format=xml"}, "vbs_exporter: error: enum value must be one of logfmt,json, got 'xml', try --help\n"},
		{[]string{"vbs.yml"}, "vbs_exporter: error: unexpected vbs.yml, try --help\n"},
	} {
		code, stdout, stderr := runCLI(t, c.args...)
		if code != 2 || stdout != "" || stderr != c.want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, code, stdout, stderr, c.want)
		}
	}
}

func TestCLIMissingConfigNamesDemoAndExample(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "vbs.yml")
	want := "config file " + missing + " does not exist: start from examples/vbs.yml " +
		"(an annotated example in the vbs_exporter sources) and point --config.file at it, " +
		"or try --demo to run against a simulated account without any configuration"
	code, stdout, stderr := runCLI(t, "--config.check", "--config.file="+missing)
	if code != 1 || stdout != "" || stderr != want+"\n" {
		t.Errorf("--config.check on a missing file: exit %d, stdout %q, stderr %q; want 1 and %q", code, stdout, stderr, want)
	}
	// Serving: the same reason, as the log's error line, before listening.
	code, stdout, stderr = runCLI(t, "--config.file="+missing, "--web.listen-address=127.0.0.1:0")
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	last := logfmtPairs(t, lines[len(lines)-1])
	if code != 1 || stdout != "" || last["level"] != "error" || last["err"] != want {
		t.Errorf("serving with a missing config file: exit %d, stdout %q, last log line %v; want 1 and err=%q", code, stdout, last, want)
	}
	// Another problem (here a directory) stays config.Load's to report.
	if err := configFileMissing(t.TempDir()); err != nil {
		t.Errorf("configFileMissing(a directory) = %v, want nil", err)
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	example, err := filepath.Abs(filepath.Join("examples", "vbs.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// As shipped, the example signs with the environment's AK/SK.
	t.Setenv("HUAWEICLOUD_SDK_AK", "AKEXAMPLE0000001")
	t.Setenv("HUAWEICLOUD_SDK_SK", "example-secret-key")
	code, stdout, stderr := runCLI(t, "--config.check", "--config.file="+example)
	if code != 0 || stdout != example+": configuration is valid\n" || stderr != "" {
		t.Errorf("--config.check on examples/vbs.yml: exit %d, stdout %q, stderr %q; want 0 and valid", code, stdout, stderr)
	}
	// Without them the check says what is missing.
	os.Unsetenv("HUAWEICLOUD_SDK_AK")
	os.Unsetenv("HUAWEICLOUD_SDK_SK")
	code, _, stderr = runCLI(t, "--config.check", "--config.file="+example)
	if code != 1 || !strings.Contains(stderr, "HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK") {
		t.Errorf("--config.check on examples/vbs.yml without credentials: exit %d, stderr %q; want 1 naming the variables", code, stderr)
	}
}

func TestDemoListensOnLoopbackUnlessTold(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, []string{":10097"}},
		{[]string{"--demo"}, []string{"127.0.0.1:10097"}},
		{[]string{"--demo", "--web.listen-address=:10097"}, []string{":10097"}},
		{[]string{"--web.listen-address=[::1]:9999", "--demo", "--web.listen-address=127.0.0.1:9998"}, []string{"[::1]:9999", "127.0.0.1:9998"}},
	} {
		var stdout, stderr bytes.Buffer
		o, code, done := parseFlags(c.args, &stdout, &stderr)
		if done {
			t.Fatalf("%q: parseFlags ended with %d: %s", c.args, code, stderr.String())
		}
		if got := *o.webFlags.WebListenAddresses; !slices.Equal(got, c.want) {
			t.Errorf("%q: listen addresses %q, want %q", c.args, got, c.want)
		}
	}
}

// helpFlags returns the long flags --help lists, without --help and --version.
func helpFlags(t *testing.T) []string {
	t.Helper()
	_, help, _ := runCLI(t, "--help")
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^  (?:-\w, |    )--(?:\[no-\])?([a-z][a-z.-]*)`).FindAllStringSubmatch(help, -1) {
		if m[1] != "help" && m[1] != "version" {
			flags = append(flags, m[1])
		}
	}
	if len(flags) < 10 {
		t.Fatalf("found only %q in --help:\n%s", flags, help)
	}
	return flags
}

func TestREADMEListsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Flags\n")
	if !ok {
		t.Fatal("README.md has no Flags section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, f := range helpFlags(t) {
		if !strings.Contains(section, "| `--"+f+"`") && !strings.Contains(section, "| `--[no-]"+f+"`") {
			t.Errorf("README.md's Flags table lacks --%s", f)
		}
	}
}

// logfmtPairs parses one logfmt line into a map (values unquoted).
func logfmtPairs(t *testing.T, line string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, kv := range testkit.LogfmtKV(t, line) {
		m[kv[0]] = kv[1]
	}
	return m
}

func TestLogKeyOrderSameForToolkitAndExporter(t *testing.T) {
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			logger, slogger := newLogger(&buf, "info", format)
			level.Info(logger).Log("msg", "from go-kit", "k", "v")
			slogger.Info("from slog", "k", "v", "err", errors.New("boom"), "time", "an attribute")
			level.Debug(logger).Log("msg", "filtered out")
			slogger.Debug("filtered out")
			// Keys out of order, and a missing value, still come out right.
			level.Warn(logger).Log("k", "v", "msg", "late msg", "odd")
			lines := testkit.ParseLogLines(t, format, buf.String())
			if len(lines) != 3 {
				t.Fatalf("%d log lines, want 3:\n%s", len(lines), buf.String())
			}
			testkit.CheckLogKeyOrder(t, lines)
			want := []struct{ level, msg, rest string }{
				{"info", "from go-kit", "k=v"},
				{"info", "from slog", "k=v err=boom time=an attribute"},
				{"warn", "late msg", "k=v odd=(MISSING)"},
			}
			for i, w := range want {
				l := lines[i]
				var rest []string
				for _, k := range l.Keys[4:] {
					rest = append(rest, k+"="+l.Vals[k])
				}
				if l.Vals["level"] != w.level || l.Vals["msg"] != w.msg || strings.Join(rest, " ") != w.rest ||
					l.Vals["caller"] != callerOf(t, w.msg) {
					t.Errorf("line %d: %v (rest %q), want level %s msg %q rest %q caller %s", i, l.Vals, rest, w.level, w.msg, w.rest, callerOf(t, w.msg))
				}
			}
		})
	}
}

// callerOf returns "cli_test.go:N" for the line of this file that logs msg.
func callerOf(t *testing.T, msg string) string {
	t.Helper()
	src, err := os.ReadFile("cli_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(src), "\n") {
		if strings.Contains(line, `"`+msg+`"`) && (strings.Contains(line, ".Log(") || strings.Contains(line, "slogger.")) {
			return fmt.Sprintf("cli_test.go:%d", i+1)
		}
	}
	t.Fatalf("no line logs %q", msg)
	return ""
}

func TestLogRequestsAtDebug(t *testing.T) {
	var observed []requestEvent
	observe := func(e requestEvent) { observed = append(observed, e) }
	events := []requestEvent{
		{Operation: vbs.OpListTasks, Method: "GET", Path: "/v2/p1/backuppolicy/pol-1/backuptasks", StatusCode: 200, Duration: 1234567 * time.Nanosecond, Attempt: 1, RequestID: "req-1"},
		{Operation: vbs.OpListPolicies, Method: "GET", Path: "/v2/p1/backuppolicy", StatusCode: 0, Duration: 3 * time.Second, Attempt: 2, Retried: true, Err: errors.New("list_policies: connection refused")},
	}
	for _, format := range []string{"logfmt", "json"} {
		var buf bytes.Buffer
		logger, _ := newLogger(&buf, "debug", format)
		observed = nil
		log := logRequests(observe, logger, "prod")
		for _, e := range events {
			log(e)
		}
		if len(observed) != 2 {
			t.Errorf("%s: the wrapped observer saw %d events, want 2", format, len(observed))
		}
		lines := testkit.ParseLogLines(t, format, buf.String())
		testkit.CheckLogKeyOrder(t, lines)
		want := []string{
			"level=debug msg=API request target=prod operation=list_tasks method=GET path=/v2/p1/backuppolicy/pol-1/backuptasks status=200 request_id=req-1 latency=1.235ms attempt=1 retried=false",
			"level=debug msg=API request target=prod operation=list_policies method=GET path=/v2/p1/backuppolicy status=error request_id= latency=3s attempt=2 retried=true err=list_policies: connection refused",
		}
		if len(lines) != len(want) {
			t.Fatalf("%s: %d lines, want %d:\n%s", format, len(lines), len(want), buf.String())
		}
		for i, l := range lines {
			var got []string
			for _, k := range l.Keys {
				if k != "ts" && k != "caller" {
					got = append(got, k+"="+l.Vals[k])
				}
			}
			if strings.Join(got, " ") != want[i] {
				t.Errorf("%s line %d:\n got %s\nwant %s", format, i, strings.Join(got, " "), want[i])
			}
		}
	}
	// Above debug, nothing is logged, and the metrics still see every event.
	var buf bytes.Buffer
	logger, _ := newLogger(&buf, "info", "logfmt")
	observed = nil
	logRequests(observe, logger, "prod")(events[0])
	if buf.Len() != 0 || len(observed) != 1 {
		t.Errorf("at info: logged %q, observed %d; want nothing logged and 1 observed", buf.String(), len(observed))
	}
}

func TestREADMENamesEveryAlert(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile(filepath.Join("alerts", "vbs_exporter.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`(?m)^\s*- alert: (\w+)`).FindAllSubmatch(rules, -1)
	if len(names) == 0 {
		t.Fatal("no alerts in alerts/vbs_exporter.rules.yml")
	}
	for _, n := range names {
		if !bytes.Contains(readme, []byte("**"+string(n[1])+"**")) {
			t.Errorf("README.md does not describe the alert %s", n[1])
		}
	}
}
