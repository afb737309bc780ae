package e2e

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// httpClient talks to the processes under test; no kept-alive connections
// (or their goroutines) outlive a request.
var httpClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}, Timeout: 10 * time.Second}

// requireTool returns the path of a tool the test needs: the file named by the
// environment variable env when set (e.g. a current release built by
// `make e2e-current`), else name on PATH. Without it the test is skipped on a
// developer machine and fails in CI (where .ci/run installs it).
func requireTool(t *testing.T, env, name, pkg string) string {
	t.Helper()
	if path := os.Getenv(env); path != "" {
		if _, err := exec.LookPath(path); err != nil {
			t.Fatalf("%s=%s: %v", env, path, err)
		}
		return path
	}
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s is not on PATH (Debian package %q: apt-get install --no-install-recommends %s; or set %s)", name, pkg, pkg, env)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// toolVersion returns the first line of `bin --version`, followed by the
// main module's version when the binary was built with `go install` (which
// leaves --version empty).
func toolVersion(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	if info, err := buildinfo.ReadFile(bin); err == nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		line += " [" + info.Main.Path + "@" + info.Main.Version + "]"
	}
	return line
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// requireLoopback fails the test unless addr (host:port or a URL) is on 127.0.0.1.
func requireLoopback(t *testing.T, what, addr string) {
	t.Helper()
	host := addr
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		host = u.Host
	}
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if h != "127.0.0.1" {
		t.Fatalf("%s %q is not on 127.0.0.1: the test must not talk to anything outside this machine", what, addr)
	}
}

// proc is a process started by the test.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // valid once done is closed
}

// startProc starts bin with its output in a log file. It is stopped (SIGTERM,
// SIGKILL after 10s) when the test ends, panics included: the command runs
// under a context canceled by a cleanup, and on Linux the kernel kills it if
// the test process dies first (see setDeathSignal). On failure the log's tail
// is printed.
func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	logDir := t.TempDir()
	p := &proc{name: name, logPath: filepath.Join(logDir, name+".log"), done: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cmd = exec.CommandContext(ctx, bin, args...)
	p.cmd.Dir = logDir
	p.cmd.Env = environWithoutProxy()
	p.cmd.Stdout = logFile
	p.cmd.Stderr = logFile
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(syscall.SIGTERM) }
	p.cmd.WaitDelay = 10 * time.Second
	setDeathSignal(p.cmd)
	t.Logf("starting %s: %s %s", name, bin, strings.Join(args, " "))
	if err := p.cmd.Start(); err != nil {
		cancel()
		logFile.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
		if t.Failed() {
			t.Logf("%s exited (%v); the end of its log:\n%s", name, p.err, tail(p.logPath, 60))
		}
	})
	return p
}

// exited returns the process's exit error if it is not running any more.
func (p *proc) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// waitReady polls url until it answers 200, failing the test when the process
// exits or after timeout.
func (p *proc) waitReady(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		if gone, err := p.exited(); gone {
			t.Fatalf("%s exited before it was ready: %v\n%s", p.name, err, tail(p.logPath, 40))
		}
		resp, err := httpClient.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		lastErr = err
		if time.Now().After(deadline) {
			t.Fatalf("%s is not ready at %s after %v: %v\n%s", p.name, url, timeout, lastErr, tail(p.logPath, 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// environWithoutProxy is the test's environment without proxy settings: all
// traffic of the processes stays on loopback, never through a proxy.
func environWithoutProxy() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(strings.ToUpper(name), "_PROXY") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// poll calls f every interval until it returns nil or a permanent error, or
// until timeout; it returns the last error.
func poll(timeout, interval time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		var perm permanentError
		if err == nil || errors.As(err, &perm) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(interval)
	}
}

// permanentError stops poll at once.
type permanentError struct{ error }
