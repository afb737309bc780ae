package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/vbs-exporter/vbs_exporter/collector"
	"github.com/vbs-exporter/vbs_exporter/config"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// appOptions are what the exporter's state and routes are built from.
type appOptions struct {
	configFile     string
	lookupEnv      func(string) (string, bool)
	logger         log.Logger
	telemetryPath  string
	timeoutOffset  time.Duration
	defaultTimeout time.Duration
	maxRequests    int
	// runtimeMetrics adds the Go and process collectors to /metrics.
	runtimeMetrics bool
	// ownMetricsOnly (--no-web.metrics.targets) makes the telemetry path
	// serve the exporter's own metrics only, leaving the targets (and their
	// API request metrics) to /probe; by default it serves both.
	ownMetricsOnly bool
	// now is the targets' clock (collector and IAM token expiry); nil means
	// time.Now. Tests inject a fake one.
	now func() time.Time
}

// app is the running exporter: its own registry, the live configuration,
// the targets built from it and the HTTP routes. The binary and the tests
// build it the same way, through newApp.
type app struct {
	opts appOptions
	// registry holds the exporter's own metrics; the targets' API request
	// metrics are in api, beside it.
	registry *prometheus.Registry
	safe     *config.SafeConfig
	ex       *exporter
	handlers *handlers
	mux      *http.ServeMux
}

// newApp loads the configuration and builds the routes; a configuration that
// does not load is an error.
func newApp(o appOptions) (*app, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector("vbs_exporter"))
	if o.runtimeMetrics {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	api := collector.NewAPIMetrics()
	apiReg := prometheus.NewRegistry()
	apiReg.MustRegister(api)

	// The AK/SK back-off gates live as long as the app: targets that share
	// a key share its refusal budget, and a reload keeps it.
	a := &app{opts: o, registry: reg, safe: config.NewSafeConfig(reg), ex: newExporter(api, hwcloud.NewAKSKGates(), o.logger, o.now)}
	a.safe.OnReload(a.ex.apply)
	a.safe.OnReload(func(c *config.Config) { logWarnings(o.logger, c) })
	if err := a.safe.ReloadConfig(o.configFile, o.lookupEnv); err != nil {
		return nil, err
	}
	a.handlers = &handlers{
		ex:             a.ex,
		safe:           a.safe,
		gatherer:       prometheus.Gatherers{reg, apiReg},
		own:            reg,
		ownMetricsOnly: o.ownMetricsOnly,
		logger:         o.logger,
		reload:         a.reload,
		timeoutOffset:  o.timeoutOffset,
		defaultTimeout: o.defaultTimeout,
		maxRequests:    o.maxRequests,
	}
	mux, err := a.handlers.routes(o.telemetryPath)
	if err != nil {
		return nil, fmt.Errorf("building the HTTP routes: %w", err)
	}
	a.mux = mux
	return a, nil
}

// reload re-reads the configuration file (SIGHUP, POST /-/reload). A bad
// file keeps the running configuration; SafeConfig runs one reload at a time.
func (a *app) reload() error {
	if err := a.safe.ReloadConfig(a.opts.configFile, a.opts.lookupEnv); err != nil {
		level.Error(a.opts.logger).Log("msg", "reloading the configuration failed; keeping the running one", "err", err)
		return err
	}
	level.Info(a.opts.logger).Log("msg", "reloaded the configuration", "file", a.opts.configFile)
	return nil
}

// logWarnings logs the configuration's warnings, at every (re)load.
func logWarnings(logger log.Logger, c *config.Config) {
	for _, w := range c.Warnings {
		level.Warn(logger).Log("msg", "configuration warning", "warning", w)
	}
}
