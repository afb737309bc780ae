package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The tool script tests run scripts/tool.sh with a PATH that holds only the
// few commands it needs (and, per case, a fake promtool or a fake go), so
// that the pinned-build fallback is exercised without building Prometheus.

// toolEnv is a sandbox for scripts/tool.sh: a bin directory that becomes the
// whole PATH, and a tools cache directory.
type toolEnv struct {
	bin, cache, goLog string
}

func newToolEnv(t *testing.T) *toolEnv {
	t.Helper()
	e := &toolEnv{bin: t.TempDir(), cache: t.TempDir()}
	e.goLog = filepath.Join(e.bin, "go.log")
	for _, c := range []string{"dirname", "mkdir", "mktemp", "mv", "rm"} {
		p, err := exec.LookPath(c)
		if err != nil {
			t.Skipf("SKIPPED: %s is not on PATH, so scripts/tool.sh cannot be tested here", c)
		}
		if err := os.Symlink(p, filepath.Join(e.bin, c)); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// script writes an executable shell script into the sandbox's bin.
func (e *toolEnv) script(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(e.bin, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeGo installs a go command that logs its arguments and, for
// `go install MODULE/cmd/NAME@VERSION`, writes a NAME into $GOBIN that
// prints its name, version and arguments; fail makes it fail instead.
func (e *toolEnv) fakeGo(t *testing.T, fail bool) {
	t.Helper()
	body := `echo "$@" >> ` + e.goLog + "\n"
	if fail {
		body += "echo 'go: module lookup disabled' >&2; exit 1\n"
	} else {
		body += `mod=${2%@*}; name=${mod##*/}; ver=${2##*@}
printf '#!/bin/sh\necho "built %s %s: $*"\n' "$name" "$ver" > "$GOBIN/$name"
/bin/chmod +x "$GOBIN/$name"
`
	}
	e.script(t, "go", body)
}

// run runs scripts/tool.sh with args in the sandbox.
func (e *toolEnv) run(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("SKIPPED: bash is not on PATH, so scripts/tool.sh cannot be tested here")
	}
	script, _ := filepath.Abs("scripts/tool.sh")
	cmd := exec.Command(bash, append([]string{script}, args...)...)
	cmd.Env = append([]string{"PATH=" + e.bin, "VBS_TOOLS_DIR=" + e.cache, "HOME=" + e.cache}, env...)
	var o, er strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &er
	err = cmd.Run()
	if x, ok := err.(*exec.ExitError); ok {
		code = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, o.String(), er.String()
}

// goCalls returns the fake go's logged invocations.
func (e *toolEnv) goCalls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(e.goLog)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestToolScriptPrefersOverrideThenPATH(t *testing.T) {
	e := newToolEnv(t)
	e.fakeGo(t, false)
	onPath := e.script(t, "promtool", "echo \"debian promtool: $*\"\n")
	mine := e.script(t, "my-promtool", "echo \"my promtool: $*\"\n")

	if code, out, errOut := e.run(t, nil, "promtool", "check", "metrics"); code != 0 || out != "debian promtool: check metrics\n" || errOut != "" {
		t.Errorf("promtool on PATH: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, out, _ := e.run(t, nil, "--path", "promtool"); code != 0 || out != onPath+"\n" {
		t.Errorf("--path promtool: exit %d, %q, want %q", code, out, onPath)
	}
	if code, out, _ := e.run(t, []string{"PROMTOOL=" + mine}, "promtool", "test", "rules"); code != 0 || out != "my promtool: test rules\n" {
		t.Errorf("PROMTOOL=%s: exit %d, stdout %q", mine, code, out)
	}
	if code, _, errOut := e.run(t, []string{"AMTOOL=/nonexistent/amtool"}, "amtool"); code == 0 || !strings.Contains(errOut, "/nonexistent/amtool (from $AMTOOL) is not an executable") {
		t.Errorf("AMTOOL=/nonexistent/amtool: exit %d, stderr %q", code, errOut)
	}
	if calls := e.goCalls(t); calls != nil {
		t.Errorf("go was called although the tools were found: %q", calls)
	}
}

func TestToolScriptBuildsPinnedVersionOnce(t *testing.T) {
	e := newToolEnv(t)
	e.fakeGo(t, false)
	code, out, errOut := e.run(t, nil, "promtool", "check", "metrics")
	wantDir := filepath.Join(e.cache, "promtool-v0.316.0")
	if code != 0 || out != "built promtool v0.316.0: check metrics\n" ||
		errOut != "scripts/tool.sh: promtool is not on PATH; building github.com/prometheus/prometheus/cmd/promtool@v0.316.0 once (go install, may take minutes), cached in "+wantDir+"\n" {
		t.Errorf("first run: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// The second run uses the cached binary: no build, no message.
	code, out, errOut = e.run(t, nil, "promtool", "test", "rules", "x.yml")
	if code != 0 || out != "built promtool v0.316.0: test rules x.yml\n" || errOut != "" {
		t.Errorf("second run: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, out, _ := e.run(t, nil, "--path", "amtool"); code != 0 || out != filepath.Join(e.cache, "amtool-v0.34.1", "amtool")+"\n" {
		t.Errorf("--path amtool: exit %d, stdout %q", code, out)
	}
	want := []string{"install github.com/prometheus/prometheus/cmd/promtool@v0.316.0", "install github.com/prometheus/alertmanager/cmd/amtool@v0.34.1"}
	if calls := e.goCalls(t); strings.Join(calls, "|") != strings.Join(want, "|") {
		t.Errorf("go calls %q, want %q", calls, want)
	}
	// Nothing but the binary is left in the cache.
	entries, _ := os.ReadDir(wantDir)
	if len(entries) != 1 || entries[0].Name() != "promtool" {
		t.Errorf("cache directory holds %v, want only promtool", entries)
	}
}

func TestToolScriptFailsPlainly(t *testing.T) {
	e := newToolEnv(t)
	// No go at all.
	code, _, errOut := e.run(t, nil, "amtool", "check-config", "x.yml")
	if want := "scripts/tool.sh: amtool is not on PATH and there is no Go toolchain to build it: apt-get install --no-install-recommends prometheus-alertmanager, or install Go\n"; code == 0 || errOut != want {
		t.Errorf("no amtool, no go: exit %d, stderr %q, want %q", code, errOut, want)
	}
	// A failed build leaves nothing that looks cached, and is retried.
	e.fakeGo(t, true)
	for i := 0; i < 2; i++ {
		code, out, errOut := e.run(t, nil, "promtool", "check", "metrics")
		if code == 0 || out != "" || !strings.HasSuffix(errOut, "go: module lookup disabled\nscripts/tool.sh: building github.com/prometheus/prometheus/cmd/promtool@v0.316.0 failed; apt-get install --no-install-recommends prometheus instead\n") {
			t.Errorf("failed build %d: exit %d, stdout %q, stderr %q", i, code, out, errOut)
		}
	}
	if n := len(e.goCalls(t)); n != 2 {
		t.Errorf("go called %d times, want 2 (a failed build is not cached)", n)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.cache, "promtool-v0.316.0")); len(entries) != 0 {
		t.Errorf("a failed build left %v in the cache", entries)
	}
	if code, _, errOut := e.run(t, nil, "prometheus"); code != 2 || !strings.Contains(errOut, `unknown tool "prometheus"`) {
		t.Errorf("unknown tool: exit %d, stderr %q", code, errOut)
	}
}
