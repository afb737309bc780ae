package config

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SafeConfig holds the live configuration for concurrent readers and reloads
// it (on SIGHUP or POST /-/reload). A failed reload keeps the running
// configuration. The zero value is not usable; call NewSafeConfig.
type SafeConfig struct {
	cur      atomic.Pointer[Config]
	reloadMu sync.Mutex // serializes reloads, so callbacks see configs in order

	nextMu    sync.Mutex  // guards next and callbacks
	next      *reloadCall // the reload that runs after the current one, shared
	callbacks []func(*Config)

	lastReloadSuccessful, lastReloadSuccessTS prometheus.Gauge
	now                                       func() time.Time
}

// reloadCall is one reload, and its result for every caller that joined it.
type reloadCall struct {
	done    chan struct{}
	err     error
	callers int // that share it, under nextMu
}

// NewSafeConfig returns a SafeConfig without a configuration (Get returns nil
// until the first successful ReloadConfig) and registers its gauges
// vbs_exporter_config_last_reload_successful and
// vbs_exporter_config_last_reload_success_timestamp_seconds with reg, unless
// reg is nil. Like prometheus.MustRegister, it panics if they are already
// registered.
func NewSafeConfig(reg prometheus.Registerer) *SafeConfig {
	s := &SafeConfig{
		lastReloadSuccessful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vbs_exporter_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful (1) or not (0).",
		}),
		lastReloadSuccessTS: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vbs_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration reload.",
		}),
		now: time.Now,
	}
	if reg != nil {
		reg.MustRegister(s.lastReloadSuccessful, s.lastReloadSuccessTS)
	}
	return s
}

// ReloadConfig loads the file at path (see Load) and, if it is valid,
// publishes it and then calls the OnReload callbacks with it, in registration
// order. On error it keeps the current configuration, sets
// vbs_exporter_config_last_reload_successful to 0 and returns the error.
// Concurrent calls coalesce: one reload runs at a time, and every call made
// while it runs joins a single following reload and gets its result.
func (s *SafeConfig) ReloadConfig(path string, lookupEnv func(string) (string, bool)) error {
	s.nextMu.Lock()
	if s.next == nil {
		s.next = &reloadCall{done: make(chan struct{})}
	}
	call := s.next
	call.callers++
	s.nextMu.Unlock()

	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.nextMu.Lock()
	if s.next == call { // this caller runs it; later callers start a new one
		s.next = nil
	}
	s.nextMu.Unlock()
	select {
	case <-call.done: // another caller ran it
		return call.err
	default:
	}
	defer close(call.done)
	c, err := Load(path, lookupEnv)
	if call.err = err; err != nil {
		s.lastReloadSuccessful.Set(0)
		return err
	}
	s.cur.Store(c)
	s.lastReloadSuccessful.Set(1)
	s.lastReloadSuccessTS.Set(float64(s.now().UnixMilli()) / 1e3)
	s.nextMu.Lock()
	callbacks := slices.Clone(s.callbacks)
	s.nextMu.Unlock()
	for _, fn := range callbacks {
		fn(c)
	}
	return nil
}

// Get returns the current configuration, nil before the first successful
// reload. The result is shared and must not be modified; a reload replaces
// it with a new Config rather than changing it.
func (s *SafeConfig) Get() *Config { return s.cur.Load() }

// OnReload registers fn to be called with the new configuration after every
// later successful ReloadConfig (not for the current one). Callbacks run on
// the reloading goroutine, one after the other; they may call Get and
// OnReload but must not call ReloadConfig.
func (s *SafeConfig) OnReload(fn func(*Config)) {
	s.nextMu.Lock()
	defer s.nextMu.Unlock()
	s.callbacks = append(s.callbacks, fn)
}
