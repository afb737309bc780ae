// Package store is the job store of the exporter's targets. A Target is the
// job store of one configured target: it
// reads a backup.PolicySource (the service's client, e.g. vbs.Client) in the
// neutral model of package backup, caches each policy's jobs between scrapes
// so that a refresh only reads what changed, derives the statistics, and
// publishes them as an immutable Snapshot; concurrent scrapes share one
// refresh. Package collector turns a snapshot into metrics; this package
// knows no Prometheus types, and no service's wire types, paging or HTTP
// statuses.
package store

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/vbs-exporter/vbs_exporter/config"
	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// defaultRefreshTimeout bounds a refresh whose caller set no deadline.
const defaultRefreshTimeout = 2 * time.Minute

// TargetOptions configures a Target.
type TargetOptions struct {
	// Name is the configured target name, the value of the target label.
	Name string
	// API is the service's source of the project's policies and jobs when
	// they are listed per policy (vbs.Client for VBS). Set API or Source.
	API backup.PolicySource
	// Source is the service's source when its jobs are read project-wide
	// from a cursor (cbr.Client for CBR); see refreshSource. With a
	// backup.InventorySource the vaults are read too. Set API or Source.
	Source backup.Source
	// Service, Region and ProjectID describe the target in vbs_target_info
	// ("vbs" or "cbr").
	Service, Region, ProjectID string
	// Policies restricts the target to these policy IDs; empty means every
	// policy, discovered on each refresh.
	Policies []string
	// Lookback is the job window; 0 means max(7 days, 3 x the policy's
	// expected interval).
	Lookback time.Duration
	// Concurrency bounds the policies refreshed in parallel (default
	// config.DefaultConcurrency).
	Concurrency int
	// MinRefreshInterval serves the last result without calling the API when
	// the last refresh finished less than this long ago.
	MinRefreshInterval time.Duration
	// DisableCache walks every policy's whole window on every refresh: the
	// naive baseline the benchmark compares against.
	DisableCache bool
	// Names, when not nil, reads the names of the target's disks (for VBS
	// the EVS volume list, see package evs) for vbs_resource_info and the
	// status page. It is read at most once per NamesTTL (after a failure,
	// again after namesRetry), in parallel with the policies, started only
	// once ListPolicies succeeded (never beside a failing one: while the
	// shared credentials may be refused, one signed request at a time); the
	// refresh waits for it at most NamesWait after the policies are done, then
	// leaves it to finish in the background (bounded by namesTimeout) for
	// the next refresh. Its failure is logged and keeps the last names; it
	// never changes the backup metrics.
	Names NameSource
	// NamesTTL is how long names are kept before they are read again,
	// default one hour.
	NamesTTL time.Duration
	// NamesWait is how long a refresh waits for a name lookup still running
	// once its policies are done, default 2s.
	NamesWait time.Duration
	// Logger receives refresh errors; nil discards them.
	Logger log.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Requests, when not nil, receives every API request of the target's
	// client (see RequestRecorder.Observe) and records those of a
	// RefreshTraced refresh.
	Requests *RequestRecorder
}

// Target is one configured project: its policies' job caches and the result
// of its last refresh. It is safe for concurrent use.
type Target struct {
	opts TargetOptions

	mu       sync.Mutex // guards inflight, last
	inflight *refreshCall
	last     *Snapshot

	// policies, and src, are only touched by the one refresh running at a
	// time.
	policies map[string]*policyState
	src      sourceState

	refreshes atomic.Int64
	// versions numbers the snapshots whose exported values (other than the
	// refresh duration) differ from the previous one's.
	versions atomic.Uint64
	// closed is set by Close: the refresh still running closes the client's
	// idle connections when it ends.
	closed bool
	// stale is the last stale copy of last made by lastStale (guarded by
	// mu), served again with its Version while last is the same.
	stale, staleOf *Snapshot
	names          nameState
}

// NameSource reads the names of a project's disks (evs.Client does).
type NameSource interface {
	// ResourceNames returns each named disk's name by resource ID. The
	// names become label values: they must be cleaned already.
	ResourceNames(ctx context.Context) (map[string]string, error)
}

// Defaults and bounds of the name lookup (see TargetOptions.Names).
const (
	defaultNamesTTL  = time.Hour
	defaultNamesWait = 2 * time.Second
	// namesRetry is the wait after a failed lookup before the next try.
	namesRetry = 5 * time.Minute
	// namesTimeout bounds one lookup, all its pages and retries.
	namesTimeout = 30 * time.Second
)

// nameState is the name lookup's state, guarded by its mutex: the lookup
// runs in a goroutine of its own that may outlive the refresh that began it.
type nameState struct {
	mu      sync.Mutex
	names   map[string]string // replaced, never modified
	ok      time.Time         // when names were read
	tried   time.Time         // when the last lookup began
	running chan struct{}     // closed when the running lookup ends; nil when none
}

type refreshCall struct {
	done   chan struct{}
	snap   *Snapshot
	traced bool
}

// Snapshot is the immutable result of one refresh of a target.
type Snapshot struct {
	Target string
	// Up is true when the policy list was read (the API was reachable and
	// accepted the credentials).
	Up bool
	// Duration is how long the refresh took; Time is when it finished.
	Duration time.Duration
	Time     time.Time
	Policies []PolicySnapshot // sorted by policy ID
	// Version identifies the snapshot's exported values other than Duration:
	// a refresh that changed nothing keeps the previous snapshot's Version,
	// so what was rendered from that one can be served again. Versions are
	// per Target.
	Version uint64
	// HasAuthBackoff is true when the target's API reports its credential
	// back-off (authBackoffReporter); AuthBackoffUntil is then the end of
	// the back-off, the zero time when there is none.
	HasAuthBackoff   bool
	AuthBackoffUntil time.Time
	// Err is why the policy list could not be read when Up is false
	// (secrets redacted by the client), "" otherwise.
	Err string
	// Requests are the API requests of a RefreshTraced refresh, in the
	// order they ended, at most MaxTracedRequests; nil for other
	// refreshes. RequestsDropped counts those beyond the limit.
	Requests        []hwcloud.RequestEvent
	RequestsDropped int
	// Service, Region and ProjectID are TargetOptions' (vbs_target_info).
	Service, Region, ProjectID string
	// Vaults are the project's vaults as last read (a Source with an
	// inventory, CBR); nil for VBS.
	Vaults []backup.Vault
	// names are the disks' names by resource ID (see ResourceName).
	names map[string]string
}

// authBackoffReporter is implemented by an API that holds back requests
// after the service refused its credentials (the vbs client does, see
// hwcloud.NewAKSK).
type authBackoffReporter interface {
	// AuthBackoffUntil returns when the next request may be sent; the zero
	// time when no back-off is under way.
	AuthBackoffUntil() time.Time
}

// PolicySnapshot is what a refresh knows about one policy.
type PolicySnapshot struct {
	Policy backup.Policy
	// Known is false for a configured policy that was never listed by the
	// API: only its refresh success is exported.
	Known bool
	// Manual is true for the pseudo-policy (ID "", name "manual") that
	// holds a Source's jobs without a policy (manual backups): only its
	// job-derived families are exported, none that an alert rule needs
	// (enabled, resources, expected interval, refresh success, backfill,
	// durations, last run resources), so that it raises no alert.
	Manual           bool
	RefreshSuccess   bool
	BackfillComplete bool
	// LastJob is the creation time of the newest job in Unix milliseconds;
	// HasLastJob is false when the policy has no job.
	HasLastJob bool
	LastJob    int64
	// CachedJobs is the number of jobs held for the policy.
	CachedJobs int
	// HasData is false until the policy's jobs have been read at least
	// partly: until then job-derived metrics are not exported, so that an
	// API that never answered does not look like a policy without backups.
	HasData bool
	// OpenJobs is the number of cached jobs in a non-final state (running,
	// waiting or unknown), which later refreshes read again.
	OpenJobs int
	// Changes counts what this refresh did to the policy's cached jobs;
	// zero when the policy was not read (the policy list failed).
	Changes JobChanges
	// Err is why this refresh did not read the policy completely, "" when it
	// did or when it did not try (see Snapshot.Err).
	Err   string
	stats policyStats
	names map[string]string // the snapshot's, for Failures
}

// NewTarget returns a target that has not been refreshed yet.
func NewTarget(o TargetOptions) *Target {
	if o.Concurrency <= 0 {
		o.Concurrency = config.DefaultConcurrency
	}
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NamesTTL <= 0 {
		o.NamesTTL = defaultNamesTTL
	}
	if o.NamesWait <= 0 {
		o.NamesWait = defaultNamesWait
	}
	return &Target{opts: o, policies: make(map[string]*policyState)}
}

// Name returns the target's configured name.
func (t *Target) Name() string { return t.opts.Name }

// Last returns the result of the last finished refresh, or nil.
func (t *Target) Last() *Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// Refresh brings the target up to date and returns the result. Callers that
// arrive while a refresh runs share it; within MinRefreshInterval of the last
// refresh the last result is returned without calling the API. Refresh
// returns by ctx's deadline: if the shared refresh is not done by then, the
// previous result with every policy's refresh success false (or a snapshot
// with Up false) is returned while the refresh goes on in the background,
// bounded by its first caller's deadline. A caller with less than 100 ms
// left starts no refresh and gets that same stale result.
func (t *Target) Refresh(ctx context.Context) *Snapshot {
	snap, _ := t.refreshCall(ctx, false)
	return snap
}

// MaxTracedRequests bounds Snapshot.Requests.
const MaxTracedRequests = 10000

// RefreshTraced runs a refresh of its own, like a debug probe: it waits for
// a refresh under way to end (within ctx), ignores MinRefreshInterval and
// records the refresh's API requests in Snapshot.Requests (with
// TargetOptions.Requests set). Scrapes that arrive meanwhile share it as
// usual. It reports false, with the snapshot Refresh would serve, when ctx
// ended before the refresh did, or left too little time to start one.
func (t *Target) RefreshTraced(ctx context.Context) (*Snapshot, bool) {
	return t.refreshCall(ctx, true)
}

func (t *Target) refreshCall(ctx context.Context, traced bool) (*Snapshot, bool) {
	t.mu.Lock()
	if !traced && t.last != nil && t.opts.MinRefreshInterval > 0 && t.opts.Now().Sub(t.last.Time) < t.opts.MinRefreshInterval {
		snap := t.last
		t.mu.Unlock()
		return snap, false
	}
	call := t.inflight
	for traced && call != nil {
		// A traced refresh is one of its own: the requests of a refresh
		// that started before it are not its.
		t.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return t.lastStale(), false
		}
		t.mu.Lock()
		call = t.inflight
	}
	if call == nil {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < minRefreshBudget {
			// Too little time to read anything: a refresh would only fail
			// and, shared or kept for MinRefreshInterval, make the API look
			// down to other scrapers. Serve what is known instead, with
			// every policy's refresh success false: nothing was read for
			// this scrape.
			t.mu.Unlock()
			return t.lastStale(), false
		}
		call = &refreshCall{done: make(chan struct{}), traced: traced}
		t.inflight = call
		rctx, cancel := detach(ctx)
		rec := t.opts.Requests
		if !traced {
			rec = nil
		}
		rec.start()
		go func() {
			defer cancel()
			snap := t.refresh(rctx)
			snap.Requests, snap.RequestsDropped = rec.stop()
			t.mu.Lock()
			snap.Version = t.versionAfter(t.last, snap)
			t.last = snap
			t.inflight = nil
			closed := t.closed
			t.mu.Unlock()
			if closed {
				t.closeIdle()
			}
			call.snap = snap
			close(call.done)
		}()
	}
	t.mu.Unlock()
	select {
	case <-call.done:
		return call.snap, true
	case <-ctx.Done():
		select {
		case <-call.done: // finished in the same instant: serve it
			return call.snap, true
		default:
			return t.lastStale(), false
		}
	}
}

// lastStale returns the last snapshot for a caller whose deadline passed
// while a refresh was still running: its values are the last known ones,
// but no policy was read on this scrape, so every policy's refresh success
// is false.
func (t *Target) lastStale() *Snapshot {
	last := t.lastOrEmpty()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.staleOf == last {
		return t.stale
	}
	stale := *last
	stale.Policies = slices.Clone(last.Policies)
	for i := range stale.Policies {
		stale.Policies[i].RefreshSuccess = false
	}
	stale.Version = t.versions.Add(1)
	t.stale, t.staleOf = &stale, last
	return &stale
}

// versionAfter returns the Version of next, which follows prev: prev's when
// every exported value but the refresh duration is the same, a new one
// otherwise. Derived statistics count as the same only when they are the
// very ones prev holds (not recomputed since).
func (t *Target) versionAfter(prev, next *Snapshot) uint64 {
	if prev == nil || prev.Up != next.Up || prev.Target != next.Target || len(prev.Policies) != len(next.Policies) ||
		prev.HasAuthBackoff != next.HasAuthBackoff || !prev.AuthBackoffUntil.Equal(next.AuthBackoffUntil) ||
		!maps.Equal(prev.names, next.names) || !reflect.DeepEqual(prev.Vaults, next.Vaults) {
		return t.versions.Add(1)
	}
	for i := range next.Policies {
		if !samePolicySnapshot(&prev.Policies[i], &next.Policies[i]) {
			return t.versions.Add(1)
		}
	}
	return prev.Version
}

func samePolicySnapshot(a, b *PolicySnapshot) bool {
	if a.Known != b.Known || a.Manual != b.Manual || a.RefreshSuccess != b.RefreshSuccess || a.BackfillComplete != b.BackfillComplete ||
		a.HasLastJob != b.HasLastJob || a.LastJob != b.LastJob || a.CachedJobs != b.CachedJobs || a.HasData != b.HasData ||
		!reflect.DeepEqual(a.Policy, b.Policy) {
		return false
	}
	sa, sb := &a.stats, &b.stats
	return sa.jobs == sb.jobs && sa.durations.count == sb.durations.count && sa.durations.sum == sb.durations.sum &&
		sameSlice(sa.durations.counts, sb.durations.counts) && sameSlice(sa.resources, sb.resources)
}

// sameSlice reports whether a and b are the same slice (not only equal).
func sameSlice[E any](a, b []E) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// Close releases the target's API client after a reload removed or rebuilt
// it: its idle connections close now, and those of a refresh still running
// when that refresh ends. A closed target still answers Refresh.
func (t *Target) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.closeIdle()
}

func (t *Target) closeIdle() {
	if c, ok := t.client().(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
	if c, ok := t.opts.Names.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// client is the target's service client: Source when set, else API.
func (t *Target) client() any {
	if t.opts.Source != nil {
		return t.opts.Source
	}
	return t.opts.API
}

// minRefreshBudget is the least time left before a caller's deadline for
// which a new refresh is started.
const minRefreshBudget = 100 * time.Millisecond

// lastOrEmpty returns the last snapshot, or one that only says the target
// is not known to be up.
func (t *Target) lastOrEmpty() *Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last != nil {
		return t.last
	}
	return &Snapshot{Target: t.opts.Name, Time: t.opts.Now(), Version: t.versions.Add(1)}
}

// detach returns a context that ends a little before ctx's deadline (or after
// defaultRefreshTimeout) but is not canceled when ctx is: a refresh shared by
// several scrapes must not stop because the first scraper hung up. The margin
// (a fifth of the time left, at most refreshMargin) lets an interrupted walk
// publish what it read before its caller gives up.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	base := context.WithoutCancel(ctx)
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithTimeout(base, defaultRefreshTimeout)
	}
	margin := min(time.Until(dl)/5, refreshMargin)
	return context.WithDeadline(base, dl.Add(-max(margin, 0)))
}

// refreshMargin is the most a refresh ends before its first caller's deadline.
const refreshMargin = 250 * time.Millisecond

func (t *Target) refresh(ctx context.Context) *Snapshot {
	t.refreshes.Add(1)
	start := t.opts.Now()
	logger := log.With(t.opts.Logger, "target", t.opts.Name)
	snap := &Snapshot{Target: t.opts.Name, Service: t.opts.Service, Region: t.opts.Region, ProjectID: t.opts.ProjectID}

	for _, s := range t.policies {
		s.changes, s.lastErr = JobChanges{}, ""
	}
	// The name lookup starts only once ListPolicies succeeded: it uses the
	// same credentials, and while they may be refused (a back-off probe) only
	// one signed request may be in flight.
	var namesDone <-chan struct{}
	opPolicies, _ := operationsOf(t.client())
	var listed []backup.Policy
	var err error
	if t.opts.Source != nil {
		listed, err = t.inventory(ctx, logger)
	} else {
		listed, err = t.opts.API.Policies(ctx)
	}
	if err != nil {
		logError(logger, "listing policies failed", opPolicies, err)
		snap.Err = err.Error()
		for _, s := range t.policies {
			s.lastSuccess = false
		}
	} else {
		snap.Up = true
		if t.opts.Source != nil {
			t.refreshSource(ctx, logger, t.reconcile(logger, listed, opPolicies))
		} else {
			namesDone = t.startNames(start, logger)
			t.refreshPolicies(ctx, logger, listed, opPolicies)
		}
	}
	if b, ok := t.client().(authBackoffReporter); ok {
		snap.HasAuthBackoff, snap.AuthBackoffUntil = true, b.AuthBackoffUntil()
	}

	if t.opts.Source != nil {
		snap.names, snap.Vaults = t.src.names, t.src.vaults
	} else {
		snap.names = t.awaitNames(ctx, namesDone)
	}
	now := t.opts.Now()
	snap.Duration = now.Sub(start)
	snap.Time = now
	states := slices.Collect(maps.Values(t.policies))
	if m := t.src.manual; m != nil && (m.cache.len() > 0 || m.hasNewest) {
		states = append(states, m)
	}
	for _, s := range states {
		ps := PolicySnapshot{
			Policy:           s.policy,
			Known:            s.listed,
			Manual:           s == t.src.manual,
			RefreshSuccess:   s.lastSuccess,
			BackfillComplete: s.backfillComplete(),
			HasLastJob:       s.hasNewest,
			LastJob:          s.newest,
			CachedJobs:       s.cache.len(),
			HasData:          s.headDone || s.cache.len() > 0,
			OpenJobs:         len(s.cache.open),
			Changes:          s.changes,
			Err:              s.lastErr,
			stats:            s.derived(now),
			names:            snap.names,
		}
		snap.Policies = append(snap.Policies, ps)
		level.Debug(logger).Log("msg", "policy refreshed", "policy_id", s.policy.ID, "policy_name", s.policy.Name,
			"success", s.lastSuccess, "cached_jobs", ps.CachedJobs, "backfill_complete", ps.BackfillComplete,
			"resume_points", len(s.pending))
	}
	slices.SortFunc(snap.Policies, func(a, b PolicySnapshot) int { return cmp.Compare(a.Policy.ID, b.Policy.ID) })
	level.Debug(logger).Log("msg", "target refreshed", "up", snap.Up, "policies", len(snap.Policies), "duration", snap.Duration)
	return snap
}

// startNames begins a name lookup when one is due (see
// TargetOptions.Names) and none is running; it returns the channel closed
// when the running lookup ends, nil when none runs.
func (t *Target) startNames(now time.Time, logger log.Logger) <-chan struct{} {
	if t.opts.Names == nil {
		return nil
	}
	ns := &t.names
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.running != nil {
		return ns.running
	}
	if !ns.tried.IsZero() && (now.Sub(ns.tried) < namesRetry || !ns.ok.IsZero() && now.Sub(ns.ok) < t.opts.NamesTTL) {
		return nil
	}
	done := make(chan struct{})
	ns.running, ns.tried = done, now
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), namesTimeout)
		defer cancel()
		names, err := t.opts.Names.ResourceNames(ctx)
		t.mu.Lock()
		closed := t.closed
		t.mu.Unlock()
		if c, ok := t.opts.Names.(interface{ CloseIdleConnections() }); ok && closed {
			// Close ran during the lookup: its connection closes now.
			c.CloseIdleConnections()
		}
		ns.mu.Lock()
		defer ns.mu.Unlock()
		ns.running = nil
		if err != nil {
			op := "list_resource_names"
			if n, ok := t.opts.Names.(interface{ Operation() string }); ok {
				op = n.Operation() // evs.Client: list_volumes
			}
			logError(logger, "reading the disks' names failed; keeping the last names read (backup metrics are not affected)", op, err)
			return
		}
		ns.names, ns.ok = names, t.opts.Now()
		level.Debug(logger).Log("msg", "disk names read", "names", len(names))
	}()
	return done
}

// awaitNames waits for the running name lookup at most NamesWait (and not
// past ctx), then returns the names known.
func (t *Target) awaitNames(ctx context.Context, done <-chan struct{}) map[string]string {
	if done != nil {
		timer := time.NewTimer(t.opts.NamesWait)
		select {
		case <-done:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
	t.names.mu.Lock()
	defer t.names.mu.Unlock()
	return t.names.names
}

// refreshPolicies reconciles the listed policies with the known ones and
// refreshes each, at most Concurrency at a time.
func (t *Target) refreshPolicies(ctx context.Context, logger log.Logger, listed []backup.Policy, opPolicies string) {
	_, opJobs := operationsOf(t.opts.API)
	work := t.reconcile(logger, listed, opPolicies)
	now := t.opts.Now()
	sem := make(chan struct{}, t.opts.Concurrency)
	var wg sync.WaitGroup
	for _, s := range work {
		lookback := lookbackFor(t.opts.Lookback, s.policy)
		warnShortLookback(logger, s, lookback)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			plog := log.With(logger, "policy_id", s.policy.ID, "policy_name", s.policy.Name)
			err := s.refresh(ctx, t.opts.API, now, lookback, !t.opts.DisableCache, logger)
			s.lastSuccess = err == nil
			if err != nil {
				s.lastErr = err.Error()
				logError(plog, "reading the policy's jobs failed; keeping what was read", opJobs, err)
			}
		}()
	}
	wg.Wait()
}

// reconcile matches the listed policies with the known ones: it forgets
// policies no longer listed (discovery) or marks configured ones missing
// from the list, and returns the states of the policies to read.
func (t *Target) reconcile(logger log.Logger, listed []backup.Policy, opPolicies string) []*policyState {
	byID := make(map[string]backup.Policy, len(listed))
	kept := listed[:0:0]
	for _, p := range listed {
		if p.ID == "" {
			// Without an ID the policy's jobs cannot be asked for.
			level.Warn(logger).Log("msg", "the policy list holds a policy without backup_policy_id; skipping it",
				"policy_name", p.Name, "operation", opPolicies)
			continue
		}
		if _, dup := byID[p.ID]; dup {
			continue
		}
		byID[p.ID] = p
		kept = append(kept, p)
		for _, problem := range p.Problems {
			level.Warn(logger).Log("msg", "a field of the policy could not be decoded; it is left empty",
				"policy_id", p.ID, "policy_name", p.Name, "operation", opPolicies, "problem", problem)
		}
	}
	listed = kept
	var work []*policyState
	if len(t.opts.Policies) == 0 {
		// Discovery: a policy no longer listed was deleted; forget it.
		for id := range t.policies {
			if _, ok := byID[id]; !ok {
				delete(t.policies, id)
			}
		}
		for _, p := range listed {
			work = append(work, t.stateFor(p))
		}
	} else {
		for _, id := range t.opts.Policies {
			p, ok := byID[id]
			if !ok {
				s := t.policies[id]
				if s == nil {
					s = newPolicyState(backup.Policy{ID: id})
					s.listed = false
					t.policies[id] = s
				}
				s.lastSuccess = false
				s.lastErr = "the policy is not in the project's policy list"
				level.Warn(logger).Log("msg", "configured policy is not in the project's policy list; keeping its last known values",
					"policy_id", id, "policy_name", s.policy.Name, "operation", opPolicies)
				continue
			}
			work = append(work, t.stateFor(p))
		}
	}
	return work
}

// warnShortLookback warns, once per policy and (lookback, interval) pair,
// when the lookback window is shorter than twice the policy's expected
// interval: the window then cannot hold two runs, and a missed run is not
// seen as one (the disks' last success leaves the window).
func warnShortLookback(logger log.Logger, s *policyState, lookback time.Duration) {
	interval := s.policy.ExpectedInterval()
	if interval <= 0 || lookback >= 2*interval {
		s.lookbackWarned = [2]time.Duration{}
		return
	}
	if s.lookbackWarned == [2]time.Duration{lookback, interval} {
		return
	}
	s.lookbackWarned = [2]time.Duration{lookback, interval}
	level.Warn(logger).Log("msg", "the lookback window is shorter than twice the policy's expected interval; missed runs may go unseen",
		"policy_id", s.policy.ID, "policy_name", s.policy.Name, "lookback", lookback, "expected_interval", interval)
}

// stateFor returns the state of a listed policy, creating it when new.
func (t *Target) stateFor(p backup.Policy) *policyState {
	s := t.policies[p.ID]
	if s == nil {
		s = newPolicyState(p)
		t.policies[p.ID] = s
	}
	if s.policy.Name != p.Name {
		s.dirty = true
	}
	s.policy = p
	s.listed = true
	return s
}

// loggableError is an error that carries its own log fields, starting with
// its operation (hwcloud.APIError: the operation, the HTTP status, the
// vendor's code and request ID).
type loggableError interface {
	error
	LogFields() []any
}

// authBackoffError is an error returned without a request because the
// credentials were refused (hwcloud.AuthBackoffError).
type authBackoffError interface {
	error
	AuthBackoffEnd() time.Time
}

// logError logs a refresh error with the operation and, for errors that
// carry them (see loggableError), the details the service client gives.
func logError(logger log.Logger, msg, op string, err error) {
	kv := []any{"msg", msg}
	var le loggableError
	if errors.As(err, &le) {
		kv = append(kv, le.LogFields()...)
	} else {
		kv = append(kv, "operation", op)
	}
	var backoff authBackoffError
	if errors.As(err, &backoff) {
		kv[1] = msg + ": the credentials were refused; no request is sent until the back-off ends"
		kv = append(kv, "backoff_until", backoff.AuthBackoffEnd().UTC().Format(time.RFC3339))
	}
	kv = append(kv, "err", err)
	level.Warn(logger).Log(kv...)
}
