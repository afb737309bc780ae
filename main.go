// Command vbs_exporter exports the state of Huawei Cloud VBS disk backups —
// jobs per status, last success per disk, jobs in flight, policy schedules —
// as Prometheus metrics.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	"gopkg.in/yaml.v3"

	"github.com/vbs-exporter/vbs_exporter/config"
)

// defaultPort is outside 9100-9999, the range the Prometheus wiki hands out to
// exporters, which is fully allocated; no well-known exporter uses it.
const defaultPort = ":10097"

// serverWriteTimeout bounds writing a response, scrapes included.
const serverWriteTimeout = 3 * time.Minute

// devVersion is reported when the binary was built without version ldflags
// (go run, go build); `make build` and the Dockerfile set the real one.
const devVersion = "0.1.0-dev"

func main() {
	if version.Version == "" {
		version.Version = devVersion
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// demoListenAddress is where --demo listens unless --web.listen-address is
// given: loopback only, since the demo serves the reload endpoint without
// authentication.
const demoListenAddress = "127.0.0.1" + defaultPort

// options are the parsed command-line flags.
type options struct {
	configFile     string
	configCheck    bool
	telemetryPath  string
	metricsTargets bool
	maxRequests    int
	timeoutOffset  time.Duration
	defaultTimeout time.Duration
	demo           bool
	logLevel       string
	logFormat      string
	webFlags       *web.FlagConfig
}

// parseFlags parses args like the Prometheus tools do: --help and --version
// print on stdout and end the process with 0; a usage error prints
// "vbs_exporter: error: ..., try --help" on stderr and ends it with 2. When
// the process is to end, done is true and code is its exit code.
func parseFlags(args []string, stdout, stderr io.Writer) (o *options, code int, done bool) {
	app := kingpin.New("vbs_exporter", "Prometheus exporter for Huawei Cloud VBS (Volume Backup Service) backup jobs.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	// kingpin would call os.Exit after --help and --version; record the
	// code instead so that run returns it (and its callers' defers run).
	exit := -1
	app.Terminate(func(c int) {
		if exit < 0 {
			exit = c
		}
	})
	o = &options{}
	app.Flag("config.file", "Path to the configuration file (an annotated example: examples/vbs.yml).").Default("vbs.yml").StringVar(&o.configFile)
	app.Flag("config.check", "Validate the configuration file, print the result and exit 0 (valid) or 1 (invalid) without serving.").BoolVar(&o.configCheck)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.telemetryPath)
	app.Flag("web.metrics.targets", "Serve every configured target on the telemetry path besides the exporter's own metrics. With --no-web.metrics.targets it holds only the exporter's own metrics, as blackbox_exporter's does: scrape targets through /probe?target=NAME.").Default("true").BoolVar(&o.metricsTargets)
	app.Flag("web.max-requests", "Maximum number of concurrent scrape requests (/metrics and /probe); more get HTTP 503. 0 means no limit.").Default("40").IntVar(&o.maxRequests)
	app.Flag("scrape.timeout-offset", "Offset subtracted from Prometheus's X-Prometheus-Scrape-Timeout-Seconds to leave time for rendering the metrics.").Default("500ms").DurationVar(&o.timeoutOffset)
	app.Flag("scrape.default-timeout", "Refresh deadline when the scraper sends no X-Prometheus-Scrape-Timeout-Seconds header.").Default("10s").DurationVar(&o.defaultTimeout)
	app.Flag("demo", "Serve a simulated VBS account (target demo) and a simulated CBR account (target demo-cbr) instead of reading --config.file: no cloud account needed. Listens on "+demoListenAddress+" unless --web.listen-address is given.").BoolVar(&o.demo)
	app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").EnumVar(&o.logLevel, "debug", "info", "warn", "error")
	app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").EnumVar(&o.logFormat, "logfmt", "json")
	o.webFlags = kingpinflag.AddFlags(app, defaultPort)
	listenSet := false
	app.GetFlag("web.listen-address").IsSetByUser(&listenSet)
	app.Version(version.Print("vbs_exporter"))
	app.HelpFlag.Short('h')
	_, err := app.Parse(args)
	switch {
	case exit >= 0:
		return nil, exit, true
	case err != nil:
		fmt.Fprintf(stderr, "vbs_exporter: error: %v, try --help\n", err)
		return nil, 2, true
	}
	if o.demo && !listenSet {
		*o.webFlags.WebListenAddresses = []string{demoListenAddress}
	}
	return o, 0, false
}

// configFileMissing returns an error that shows a new user the way forward
// when the configuration file does not exist, and nil otherwise (other
// problems with the file are config.Load's to report).
func configFileMissing(path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("config file %s does not exist: start from examples/vbs.yml "+
		"(an annotated example in the vbs_exporter sources) and point --config.file at it, "+
		"or try --demo to run against a simulated account without any configuration", path)
}

func run(args []string, stdout, stderr io.Writer) int {
	o, code, done := parseFlags(args, stdout, stderr)
	if done {
		return code
	}
	logger, slogger := newLogger(stderr, o.logLevel, o.logFormat)

	if o.configCheck {
		if err := configFileMissing(o.configFile); err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
		c, err := config.Load(o.configFile, os.LookupEnv)
		if err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
		for _, w := range c.Warnings {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		fmt.Fprintf(stdout, "%s: configuration is valid\n", o.configFile)
		return 0
	}

	level.Info(logger).Log("msg", "starting vbs_exporter", "version", version.Info(), "build_context", version.BuildContext())

	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	if o.demo {
		demo, err := startDemo(logger)
		if err != nil {
			level.Error(logger).Log("msg", "starting the demo failed", "err", err)
			return 1
		}
		defer demo.Close()
		o.configFile = demo.configFile
	} else if err := configFileMissing(o.configFile); err != nil {
		level.Error(logger).Log("msg", "loading the configuration failed", "err", err)
		return 1
	}

	a, err := newApp(appOptions{
		configFile:     o.configFile,
		lookupEnv:      os.LookupEnv,
		logger:         logger,
		telemetryPath:  o.telemetryPath,
		timeoutOffset:  o.timeoutOffset,
		defaultTimeout: o.defaultTimeout,
		maxRequests:    o.maxRequests,
		runtimeMetrics: true,
		ownMetricsOnly: !o.metricsTargets,
	})
	if err != nil {
		level.Error(logger).Log("msg", "loading the configuration failed", "err", err)
		return 1
	}
	level.Info(logger).Log("msg", "loaded the configuration", "file", o.configFile, "targets", len(a.safe.Get().Targets))

	// Subscribe before serving: a SIGHUP that arrived before the reload
	// goroutine ran would otherwise kill the process (the default action).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for {
			select {
			case <-hup:
				_ = a.reload()
			case <-ctx.Done():
				return
			}
		}
	}()

	srv := newServer(a.mux)
	term := make(chan os.Signal, 1)
	signal.Notify(term, os.Interrupt, syscall.SIGTERM)
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(srv, o.webFlags, slogger) }()
	if o.demo {
		// Say where to go only once the exporter answers there.
		host := demoHost((*o.webFlags.WebListenAddresses)[0])
		go func() {
			scheme := "http"
			if webConfigHasTLS(*o.webFlags.WebConfigFile) {
				scheme = "https"
			}
			if waitServing(ctx, scheme+"://"+host, 10*time.Second) {
				fmt.Fprintf(stdout, "vbs_exporter demo: open %s://%s/ (metrics at %s://%s%s)\n", scheme, host, scheme, host, o.telemetryPath)
			}
		}()
	}
	select {
	case err := <-serveErr:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			level.Error(logger).Log("msg", "HTTP server failed", "err", err)
			return 1
		}
	case sig := <-term:
		level.Info(logger).Log("msg", "shutting down", "signal", sig)
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	return 0
}

// newServer returns the exporter's HTTP server for handler, with timeouts
// that keep slow or stuck clients from holding connections forever. The write
// timeout leaves room for a long scrape; it also caps one: a scrape whose
// X-Prometheus-Scrape-Timeout-Seconds exceeds it ends with a closed connection.
func newServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      serverWriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// webConfigHasTLS reports whether the exporter-toolkit web config file sets
// up TLS (a tls_server_config with a certificate).
func webConfigHasTLS(path string) bool {
	if path == "" {
		return false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var wc struct {
		TLS map[string]any `yaml:"tls_server_config"`
	}
	if yaml.Unmarshal(data, &wc) != nil {
		return false
	}
	return wc.TLS["cert_file"] != nil || wc.TLS["cert"] != nil
}

// waitServing reports whether an HTTP request to baseURL gets any answer
// (even 401 behind basic auth) within timeout: then the exporter serves.
func waitServing(ctx context.Context, baseURL string, timeout time.Duration) bool {
	client := &http.Client{
		Timeout: time.Second,
		// The exporter's own certificate, on its own address: the check is
		// that it answers, not who it is.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec
	}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		resp, err := client.Get(baseURL + "/-/healthy")
		if err == nil {
			resp.Body.Close()
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// demoHost turns a listen address such as ":10097" into one a browser opens.
func demoHost(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "localhost" + addr
	}
	return addr
}
