package main

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vbs-exporter/vbs_exporter/collector"
	"github.com/vbs-exporter/vbs_exporter/config"
	"github.com/vbs-exporter/vbs_exporter/internal/cbr"
	"github.com/vbs-exporter/vbs_exporter/internal/evs"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs"
)

// exporter holds one store.Target per configured target. A reload keeps
// the Target (and so its job caches) of every target whose settings did not
// change.
type exporter struct {
	api    *collector.APIMetrics
	logger log.Logger
	// gates holds the AK/SK refusal back-off per set of credentials, shared
	// by the targets that use them and kept across reloads.
	gates *hwcloud.AKSKGates
	// now is the clock of every target built: the collector's and the IAM
	// token's expiry.
	now func() time.Time

	mu      sync.RWMutex
	targets map[string]*builtTarget
	order   []string
}

type builtTarget struct {
	cfg    config.Target // the effective configuration it was built from
	target *store.Target
	auth   hwcloud.Authenticator
}

// newExporter returns an exporter with no targets whose AK/SK targets take
// their back-off gates from gates; now nil means time.Now.
func newExporter(api *collector.APIMetrics, gates *hwcloud.AKSKGates, logger log.Logger, now func() time.Time) *exporter {
	if now == nil {
		now = time.Now
	}
	return &exporter{api: api, gates: gates, logger: logger, now: now, targets: make(map[string]*builtTarget)}
}

// apply switches to cfg. It is called after every successful (re)load, one
// at a time.
func (e *exporter) apply(cfg *config.Config) {
	next := make(map[string]*builtTarget, len(cfg.Targets))
	order := make([]string, 0, len(cfg.Targets))
	e.mu.RLock()
	prev := e.targets
	e.mu.RUnlock()
	for _, tc := range cfg.Targets {
		// Whole values are compared, secrets' contents included, so a new
		// setting rebuilds the target without being listed here.
		if old, ok := prev[tc.Name]; ok && reflect.DeepEqual(old.cfg, tc) {
			next[tc.Name] = old
		} else {
			t, auth, err := buildTarget(tc, e.api, e.gates, e.logger, e.now)
			if err != nil {
				// Validation has already accepted the config, so this is a
				// programming error; keep serving the other targets.
				level.Error(e.logger).Log("msg", "building the target failed", "target", tc.Name, "err", err)
				continue
			}
			next[tc.Name] = &builtTarget{cfg: tc, target: t, auth: auth}
		}
		order = append(order, tc.Name)
	}
	e.mu.Lock()
	e.targets, e.order = next, order
	e.mu.Unlock()
	e.api.Retain(order)
	// Back-off gates of credentials no target uses any more go; the others
	// (a target rebuilt for another setting included) keep their state.
	live := make([]hwcloud.Authenticator, 0, len(next))
	for _, bt := range next {
		live = append(live, bt.auth)
	}
	e.gates.Retain(live)
	// A rebuilt or removed target's client is done: its idle connections
	// (and those of a refresh still running, when it ends) close now rather
	// than at the idle timeout.
	for name, old := range prev {
		if cur, ok := next[name]; !ok || cur != old {
			old.target.Close()
		}
	}
}

// all returns every target in configuration order.
func (e *exporter) all() []*store.Target {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]*store.Target, 0, len(e.order))
	for _, n := range e.order {
		out = append(out, e.targets[n].target)
	}
	return out
}

// names returns the configured target names in configuration order.
func (e *exporter) names() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return slices.Clone(e.order)
}

// get returns the named target.
func (e *exporter) get(name string) (*store.Target, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	bt, ok := e.targets[name]
	if !ok {
		return nil, false
	}
	return bt.target, true
}

// buildTarget makes the target's source (the service's API client, see
// buildSource) and the collector target, which holds the job store, for tc,
// both on the clock now, and returns the Authenticator they share. AK/SK
// credentials take their back-off gate from gates. (Request signing stays on
// the wall clock: the server checks the signature's time.)
func buildTarget(tc config.Target, api *collector.APIMetrics, gates *hwcloud.AKSKGates, logger log.Logger, now func() time.Time) (*store.Target, hwcloud.Authenticator, error) {
	// Every request is counted (vbs_api_*) and, during a debug refresh,
	// recorded for /probe?debug=true.
	requests := store.NewRequestRecorder()
	count := logRequests(api.Observer(tc.Name), logger, tc.Name)
	observer := func(e hwcloud.RequestEvent) {
		count(e)
		requests.Observe(e)
	}
	var auth hwcloud.Authenticator
	c := tc.Credentials
	switch c.Kind {
	case config.CredentialsAKSK:
		auth = gates.NewAKSK(c.AccessKey, string(c.SecretKey), string(c.SecurityToken))
	case config.CredentialsPassword:
		a, err := hwcloud.NewPasswordAuth(hwcloud.PasswordAuthOptions{
			IAMEndpoint: c.IAMEndpoint,
			Region:      tc.Region,
			Domain:      c.Domain,
			User:        c.User,
			Password:    string(c.Password),
			ProjectID:   tc.ProjectID,
			Now:         now,
			// No Observer: the client reports the token requests it
			// triggers itself; a second observer would count them twice.
		})
		if err != nil {
			return nil, nil, fmt.Errorf("target %q: %w", tc.Name, err)
		}
		auth = a
	default:
		return nil, nil, fmt.Errorf("target %q: no credentials", tc.Name)
	}
	opts := store.TargetOptions{
		Name:               tc.Name,
		Service:            cmp.Or(tc.Service, config.ServiceVBS),
		Region:             tc.Region,
		ProjectID:          tc.ProjectID,
		Policies:           slices.Clone(tc.Policies),
		Lookback:           tc.Lookback,
		Concurrency:        tc.Concurrency,
		MinRefreshInterval: tc.MinRefreshInterval,
		Logger:             log.With(logger, "component", "collector"),
		Requests:           requests,
		Now:                now,
	}
	if err := buildSource(tc, auth, observer, &opts); err != nil {
		return nil, nil, fmt.Errorf("target %q: %w", tc.Name, err)
	}
	if opts.Service == config.ServiceCBR {
		// CBR jobs carry their resources' names: no EVS lookup.
		return store.NewTarget(opts), auth, nil
	}
	if tc.ResourceNames {
		// The same credentials and observer: EVS requests are counted in
		// vbs_api_requests_total under operation list_volumes.
		ec, err := evs.New(evs.Options{
			Region:    tc.Region,
			Endpoint:  tc.EVSEndpoint,
			ProjectID: tc.ProjectID,
			Auth:      auth,
			Observer:  observer,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("target %q: %w", tc.Name, err)
		}
		opts.Names = ec
	}
	return store.NewTarget(opts), auth, nil
}

// buildSource makes the client of the target's backup service, the source
// its job store reads, and sets it in opts: for VBS a vbs.Client (a
// backup.PolicySource, read per policy) as opts.API, for CBR a cbr.Client
// (a backup.Source read project-wide, with vaults) as opts.Source. Every
// request it (and the IAM token requests it triggers) makes goes to
// observer.
func buildSource(tc config.Target, auth hwcloud.Authenticator, observer func(hwcloud.RequestEvent), opts *store.TargetOptions) error {
	if opts.Service == config.ServiceCBR {
		c, err := cbr.New(cbr.Options{
			Region:    tc.Region,
			Endpoint:  tc.Endpoint,
			ProjectID: tc.ProjectID,
			Auth:      auth,
			PageSize:  tc.PageSize,
			Observer:  observer,
		})
		if err != nil {
			return err
		}
		opts.Source = c
		return nil
	}
	c, err := vbs.New(vbs.Options{
		Region:    tc.Region,
		Endpoint:  tc.Endpoint,
		ProjectID: tc.ProjectID,
		Auth:      auth,
		PageSize:  tc.PageSize,
		Observer:  observer,
	})
	if err != nil {
		return err
	}
	opts.API = c
	return nil
}
