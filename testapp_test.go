package main

// The in-process harness of the root package's handler and fault tests:
// testApp is the exporter wired exactly as run() wires it (newApp), on a
// fake clock, with its log captured, serving requests in process or over a
// real listener. Two fixtures fill it:
//
//   - newAlphaBetaApp: targets alpha and beta on two simulators with a few
//     planted jobs whose exact metrics the handler tests check;
//   - newFaultApp: targets aksk (AK/SK, discovered policies) and iam
//     (password, listed policies) on generated histories, with distinctive
//     secrets for the secrets scan of the fault suite;
//
// and newTestApp takes any configuration file. The built binary is tested
// in the e2e package.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vbs-exporter/vbs_exporter/config"
	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

// TestMain fails the package when a goroutine outlives the tests: a
// refresh, a connection or a simulator left running. (The check is
// package-wide so that the tests can run in parallel.)
//
// The parallel tests (the fault suites above all) mostly wait: on injected
// latency, hung connections, back-off and scrape deadlines. With go test's
// default of GOMAXPROCS parallel tests, a 2-core machine ran two of them at
// a time and idled. With 6 the package still uses less than one core;
// the fault cases that must finish their healthy calls within a scrape
// deadline (a 1.75 s refresh) passed at 6 beside the store tests and beside
// a second run of this package, while at 8 on a loaded machine they did not.
// An explicit -parallel is honoured.
func TestMain(m *testing.M) {
	testkit.RaiseParallel(6)
	goleak.VerifyTestMain(m)
}

// writeFile writes text to path, readable by the owner only.
func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// fakeClock is the wall clock plus an offset that tests advance, so that
// time-based behaviour (an IAM token's age, a refresh interval) passes
// without sleeping. Reading it never goes backwards.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// now is the clock, for appOptions.now.
func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// advance moves the clock forward by d.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// testApp is one exporter under test, with the fixture it was built on.
type testApp struct {
	t       testing.TB
	dir     string
	cfgPath string
	logs    *testkit.SyncBuffer // the exporter's log, logfmt at debug
	clock   *fakeClock          // the targets' clock
	app     *app
	safe    *config.SafeConfig
	ex      *exporter
	h       *handlers
	mux     *http.ServeMux

	// newAlphaBetaApp's fixture.
	simA, simB *vbstest.Server
	base       time.Time // the planted jobs are relative to it

	// newFaultApp's fixture.
	sink      *relSink
	now       time.Time // end of the generated history (an hour before the wall clock)
	aksk, iam *relTarget
	skFile    string
}

// testAppOptions are the appOptions a test sets; the rest are the harness's.
type testAppOptions struct {
	maxRequests    int           // --web.max-requests (0: no limit)
	defaultTimeout time.Duration // 0: 20 s
	timeoutOffset  time.Duration // 0: 500 ms
	runtimeMetrics bool
	ownMetricsOnly bool
}

// noEnv is an empty environment: no HUAWEICLOUD_SDK_* credentials leak in.
func noEnv(string) (string, bool) { return "", false }

// newTestApp builds the exporter on the configuration file cfgPath.
func newTestApp(t testing.TB, cfgPath string, o testAppOptions) *testApp {
	t.Helper()
	e := &testApp{t: t, dir: filepath.Dir(cfgPath), cfgPath: cfgPath}
	e.start(o)
	return e
}

// start builds the app on e.cfgPath.
func (e *testApp) start(o testAppOptions) {
	e.t.Helper()
	if o.defaultTimeout == 0 {
		o.defaultTimeout = 20 * time.Second
	}
	if o.timeoutOffset == 0 {
		o.timeoutOffset = 500 * time.Millisecond
	}
	e.logs, e.clock = &testkit.SyncBuffer{}, &fakeClock{}
	logger, _ := newLogger(e.logs, "debug", "logfmt")
	a, err := newApp(appOptions{
		configFile:     e.cfgPath,
		lookupEnv:      noEnv,
		logger:         logger,
		telemetryPath:  "/metrics",
		timeoutOffset:  o.timeoutOffset,
		defaultTimeout: o.defaultTimeout,
		maxRequests:    o.maxRequests,
		runtimeMetrics: o.runtimeMetrics,
		ownMetricsOnly: o.ownMetricsOnly,
		now:            e.clock.now,
	})
	if err != nil {
		e.t.Fatalf("loading the config: %v", err)
	}
	e.app, e.safe, e.ex, e.h, e.mux = a, a.safe, a.ex, a.handlers, a.mux
}

// newAlphaBetaApp: targets alpha and beta (see handlers_test.go).
func newAlphaBetaApp(t testing.TB, o testAppOptions) *testApp {
	t.Helper()
	e := &testApp{t: t, dir: t.TempDir(), base: time.Now().UTC().Truncate(time.Second)}
	e.simA = vbstest.NewServer(vbstest.Options{ProjectID: htProjectA, AccessKey: htAKA, SecretKey: htSKA})
	t.Cleanup(e.simA.Close)
	e.simB = vbstest.NewServer(vbstest.Options{ProjectID: htProjectB, AccessKey: htAKB, SecretKey: htSKB, SecurityToken: htTokenB})
	t.Cleanup(e.simB.Close)
	e.plant()
	writeFile(t, filepath.Join(e.dir, "alpha_sk"), htSKA+"\n")
	e.cfgPath = filepath.Join(e.dir, "vbs.yml")
	e.writeConfig(e.alphaBetaConfig("", ""))
	o.runtimeMetrics = true
	e.start(o)
	return e
}

// newFaultApp: targets aksk and iam (see reliability_test.go); everything
// the exporter logs and every token the simulators issued go to sink.
func newFaultApp(t testing.TB, sink *relSink, o testAppOptions) *testApp {
	t.Helper()
	e := &testApp{t: t, sink: sink, dir: t.TempDir()}
	e.now = time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	simA := vbstest.NewServer(vbstest.Options{
		ProjectID: relProjectA, AccessKey: relAccessKey, SecretKey: relSecretKey, SecurityToken: relSecurityToken,
	})
	simB := vbstest.NewServer(vbstest.Options{
		ProjectID: relProjectB, Domain: relDomain, User: relUser, Password: relPassword,
	})
	e.aksk = &relTarget{name: "aksk", sim: simA, sc: relScenario(e.now, 1)}
	e.iam = &relTarget{name: "iam", sim: simB, sc: relScenario(e.now, 2)}
	for _, rt := range []*relTarget{e.aksk, e.iam} {
		rt.sim.Load(rt.sc)
		for _, p := range rt.sc.Policies {
			rt.policies = append(rt.policies, p.ID)
		}
	}
	e.skFile = filepath.Join(e.dir, "secret_key")
	writeFile(t, e.skFile, relSecretKey+"\n")
	writeFile(t, filepath.Join(e.dir, "security_token"), relSecurityToken+"\n")
	writeFile(t, filepath.Join(e.dir, "password"), relPassword+"\n")
	e.cfgPath = filepath.Join(e.dir, "vbs.yml")
	writeFile(t, e.cfgPath, e.faultConfig(true))
	if o.defaultTimeout == 0 {
		o.defaultTimeout = 10 * time.Second
	}
	e.start(o)
	t.Cleanup(func() {
		for _, rt := range []*relTarget{e.aksk, e.iam} {
			sink.addTokens(rt.sim.IssuedTokens())
			rt.sim.Close()
		}
		sink.add("logs", e.logs.String())
	})
	return e
}

// writeConfig replaces the configuration file (a reload reads it).
func (e *testApp) writeConfig(text string) {
	e.t.Helper()
	writeFile(e.t, e.cfgPath, text)
}

// do serves one request in process and returns the response.
func (e *testApp) do(ctx context.Context, method, target string, header http.Header) *http.Response {
	e.t.Helper()
	req := httptest.NewRequestWithContext(ctx, method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec.Result()
}

// get serves a GET and returns the status, the body and the response.
func (e *testApp) get(target string) (int, string, *http.Response) {
	e.t.Helper()
	return htRead(e.t, e.do(context.Background(), http.MethodGet, target, nil))
}

// serve serves one request in process and returns the status and body; the
// body goes to the secrets sink when there is one.
func (e *testApp) serve(method, target string, hdr http.Header) (int, string) {
	e.t.Helper()
	code, body, _ := htRead(e.t, e.do(context.Background(), method, target, hdr))
	if e.sink != nil {
		e.sink.add(method+" "+target, body)
	}
	return code, body
}

// listen serves the app on a loopback listener with the server settings of
// the binary (newServer), until the test ends.
func (e *testApp) listen(t *testing.T) (*httptest.Server, *http.Client) {
	t.Helper()
	ts := httptest.NewUnstartedServer(e.mux)
	ts.Config = newServer(e.mux)
	ts.Start()
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		ts.Close()
	})
	return ts, client
}

// waitLog waits until a log line contains every want string and returns it.
func (e *testApp) waitLog(d time.Duration, want ...string) (string, bool) {
	deadline := time.Now().Add(d)
	for {
		for _, l := range strings.Split(e.logs.String(), "\n") {
			ok := true
			for _, w := range want {
				if !strings.Contains(l, w) {
					ok = false
					break
				}
			}
			if ok && l != "" {
				return l, true
			}
		}
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// htRead reads and closes resp's body.
func htRead(t testing.TB, resp *http.Response) (int, string, *http.Response) {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, string(body), resp
}
