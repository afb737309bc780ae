// Package cbr is a client for the Huawei Cloud CBR (Cloud Backup and
// Recovery) API as a backup.Source: backup policies with RRULE schedules,
// vaults with their resources, and the backup tasks ("operation logs") the
// policies run. The HTTP machinery (retries, AK/SK signing, IAM tokens,
// typed API errors, request events) is internal/hwcloud's.
package cbr

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/endpoints"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// Operation names, used in errors and hwcloud.RequestEvent.Operation.
const (
	// OpListOperationLogs is GET /v3/{project_id}/operation-logs.
	OpListOperationLogs = "list_operation_logs"
	// OpShowOperationLog is GET /v3/{project_id}/operation-logs/{id}.
	OpShowOperationLog = "show_operation_log"
	// OpListPolicies is GET /v3/{project_id}/policies.
	OpListPolicies = "list_policies"
	// OpListVaults is GET /v3/{project_id}/vaults.
	OpListVaults = "list_vaults"
)

// Defaults of Options (see the fields).
const (
	// DefaultPageSize is Options.PageSize's default, the API's maximum.
	DefaultPageSize = 1000
	// DefaultVaultPageSize is Options.VaultPageSize's default (what the
	// vendor's Terraform provider sends).
	DefaultVaultPageSize = 100
	// DefaultMaxPages is Options.MaxPages's default.
	DefaultMaxPages = 1000
	// DefaultOverlap is Options.Overlap's default.
	DefaultOverlap = 3 * time.Hour
	// DefaultSlice is Options.Slice's default.
	DefaultSlice = 7 * 24 * time.Hour
	// DefaultLookback is how far the first read goes back when
	// JobQuery.NotBefore is zero.
	DefaultLookback = 7 * 24 * time.Hour
	// DefaultMaxSingleCheck is Options.MaxSingleChecks's default.
	DefaultMaxSingleCheck = 20
	// maxPageSize is the API's documented maximum limit.
	maxPageSize = 1000
	// repeatedPages ends a walk whose pages hold nothing new this many
	// times in a row: a server that ignores offset.
	repeatedPages = 3
)

// queryTime is the only time format the task list's filters take.
const queryTime = "2006-01-02T15:04:05Z"

// Options configures a Client for one project. Zero values select the
// defaults given per field.
type Options struct {
	// Region, e.g. "eu-west-101", gives the default Endpoint from the
	// endpoints table ("https://cbr.{region}.myhuaweicloud.com").
	Region string
	// Endpoint overrides the default; a path prefix is kept.
	Endpoint string
	// ProjectID is required; it is sent in the path and as X-Project-Id.
	ProjectID string
	// Auth is required: hwcloud.NewAKSK, NewStaticToken or NewPasswordAuth.
	Auth hwcloud.Authenticator
	// Engine configures the requests: HTTP client, attempts, response body
	// limit, back-off and User-Agent (see hwcloud.EngineOptions for the
	// defaults).
	Engine hwcloud.EngineOptions
	// Observer, when not nil, is called after every HTTP attempt.
	Observer func(hwcloud.RequestEvent)
	// PageSize is the limit of each task page, default and maximum 1000.
	PageSize int
	// VaultPageSize is the limit of each vault page, default 100 (1–1000).
	VaultPageSize int
	// MaxPages caps the pages of one walk (one time window and filter),
	// default 1000; more ends the read with an error matching
	// backup.ErrPaging.
	MaxPages int
	// Overlap is subtracted from the high-water mark when a read starts,
	// default 3h: it catches tasks that became visible late, and clock
	// skew between the exporter and the service.
	Overlap time.Duration
	// Slice is the longest time window one walk covers, default 7 days: a
	// longer read (the first one, over the whole lookback) is split into
	// slices, oldest first, and each completed slice moves the cursor, so
	// that a read cut short by a deadline resumes where it stopped.
	Slice time.Duration
	// MaxSingleChecks caps the open tasks Recheck fetches one by one per
	// call, default 20; the rest are reported as Unchecked.
	MaxSingleChecks int
	// Now is the clock for end_time; default time.Now.
	Now func() time.Time
}

// Client reads one project's CBR backup policies, vaults and tasks. It
// implements backup.Source and backup.InventorySource and is safe for
// concurrent use.
type Client struct {
	projectID string
	base      *url.URL
	auth      hwcloud.Authenticator
	eng       *hwcloud.Engine
	observer  func(hwcloud.RequestEvent)
	o         Options

	// lastVaults is the vault list of the last Inventory that read it,
	// served again (with Inventory.VaultsErr) when the list fails: a vault
	// list that fails must not make every policy look empty.
	mu         sync.Mutex
	lastVaults []backup.Vault
	haveVaults bool
}

var (
	_ backup.Source          = (*Client)(nil)
	_ backup.InventorySource = (*Client)(nil)
	_ backup.TextCleaner     = (*Client)(nil)
)

// New returns a Client, checking the options and filling in defaults.
func New(o Options) (*Client, error) {
	if err := hwcloud.CheckPathSegment("project ID", o.ProjectID); err != nil {
		return nil, fmt.Errorf("cbr: %w", err)
	}
	if o.Auth == nil {
		return nil, errors.New("cbr: no Authenticator (Options.Auth)")
	}
	base, err := hwcloud.EndpointURL(o.Endpoint, o.Region, endpoints.CBR)
	if err != nil {
		return nil, fmt.Errorf("cbr: endpoint: %w", err)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"PageSize", int64(o.PageSize)}, {"VaultPageSize", int64(o.VaultPageSize)}, {"MaxPages", int64(o.MaxPages)},
		{"Overlap", int64(o.Overlap)}, {"Slice", int64(o.Slice)}, {"MaxSingleChecks", int64(o.MaxSingleChecks)},
	} {
		if f.v < 0 {
			return nil, fmt.Errorf("cbr: Options.%s is negative", f.name)
		}
	}
	if o.PageSize > maxPageSize || o.VaultPageSize > maxPageSize {
		return nil, fmt.Errorf("cbr: Options.PageSize and VaultPageSize must not exceed %d", maxPageSize)
	}
	eng, err := hwcloud.NewEngine(o.Engine)
	if err != nil {
		return nil, fmt.Errorf("cbr: %w", err)
	}
	o.PageSize = cmp.Or(o.PageSize, DefaultPageSize)
	o.VaultPageSize = cmp.Or(o.VaultPageSize, DefaultVaultPageSize)
	o.MaxPages = cmp.Or(o.MaxPages, DefaultMaxPages)
	o.Overlap = cmp.Or(o.Overlap, DefaultOverlap)
	o.Slice = cmp.Or(o.Slice, DefaultSlice)
	o.MaxSingleChecks = cmp.Or(o.MaxSingleChecks, DefaultMaxSingleCheck)
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Client{projectID: o.ProjectID, base: base, auth: o.Auth, eng: eng, observer: o.Observer, o: o}, nil
}

// ProjectID returns the project the client works on.
func (c *Client) ProjectID() string { return c.projectID }

// CloseIdleConnections closes idle connections of the engine and of the
// Authenticator when it has such a method.
func (c *Client) CloseIdleConnections() {
	hwcloud.CloseIdleConnections(c.eng, c.auth)
}

// AuthBackoffUntil returns the end of the Authenticator's back-off after
// the service (or IAM) refused its credentials: no request is sent before
// then. The zero time when there is none, or when the Authenticator has no
// back-off.
func (c *Client) AuthBackoffUntil() time.Time {
	return hwcloud.BackoffUntil(c.auth)
}

// Operations names the client's policy-list and job-list operations, for
// the logs of errors that do not carry their own.
func (c *Client) Operations() (policies, jobs string) {
	return OpListPolicies, OpListOperationLogs
}

// CleanText returns s with the client's secrets redacted, control
// characters folded to spaces, cut to limit bytes (backup.TextCleaner).
func (c *Client) CleanText(s string, limit int) string {
	return hwcloud.CleanText(c.auth, s, limit)
}

// String describes the client without secrets.
func (c *Client) String() string {
	return fmt.Sprintf("cbr.Client(project %q, endpoint %s, auth %v)", c.projectID, c.base.Redacted(), c.auth)
}

// get runs a GET of the path segments under /v3/{project_id} with query q.
// Its errors are classified with backup.WithKind.
func (c *Client) get(ctx context.Context, op string, segs []string, q url.Values, decode func([]byte) error) error {
	err := c.eng.Do(ctx, &hwcloud.Request{
		Op:     op,
		Method: http.MethodGet,
		URL:    hwcloud.JoinPath(c.base, append([]string{"v3", c.projectID}, segs...), q),
		Header: http.Header{"X-Project-Id": {c.projectID}},
		Auth:   c.auth,
		Decode: func(_ http.Header, data []byte) error {
			if err := decode(data); err != nil {
				return &decodeError{err}
			}
			return nil
		},
		Observe: c.observer,
	})
	return classify(err)
}

// decodeError marks an error of our decoder inside the engine's wrapping.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// classify adds the backup.Err* kind to an error of the engine: a decode
// error of ours is ErrBadResponse, the rest as hwcloud.Classify says.
func classify(err error) error {
	var de *decodeError
	if errors.As(err, &de) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return backup.WithKind(backup.ErrBadResponse, err)
	}
	return hwcloud.Classify(err)
}

// Policies lists the backup policies (operation_type=backup), with each
// policy's resource count taken from its vaults: it costs the requests of
// Inventory.
func (c *Client) Policies(ctx context.Context) ([]backup.Policy, error) {
	inv, err := c.Inventory(ctx)
	return inv.Policies, err
}

// Vaults lists the vaults with their resources and policies: it costs the
// requests of Inventory.
func (c *Client) Vaults(ctx context.Context) ([]backup.Vault, error) {
	inv, err := c.Inventory(ctx)
	return inv.Vaults, err
}

// Inventory lists the backup policies (one request) and the vaults (pages
// of VaultPageSize until an empty page, so at least two requests), and
// joins them: a policy's ResourceCount is the number of distinct resources
// in the vaults associated with it, and a vault's PolicyIDs are the
// policies associated with it. A policy associated with a vault the list
// does not hold gets a Problem `field associated_vaults: vault "…" is not
// in the vault list`.
func (c *Client) Inventory(ctx context.Context) (backup.Inventory, error) {
	var raw []Policy
	err := c.get(ctx, OpListPolicies, []string{"policies"}, url.Values{"operation_type": {"backup"}}, func(data []byte) error {
		var err error
		raw, err = DecodePolicies(data)
		return err
	})
	if err != nil {
		return backup.Inventory{}, err
	}
	vaults, vaultsErr := c.listVaults(ctx)
	c.mu.Lock()
	if vaultsErr == nil {
		c.lastVaults, c.haveVaults = cloneVaults(vaults), true
	} else if c.haveVaults {
		vaults = cloneVaults(c.lastVaults)
	}
	known := c.haveVaults
	c.mu.Unlock()
	if !known {
		// Never read: without vaults every policy would count 0 resources,
		// which silences its disks' alerts. Fail as a whole instead.
		return backup.Inventory{}, vaultsErr
	}
	byID := make(map[string]int, len(vaults))
	for i, v := range vaults {
		byID[v.ID] = i
	}
	inv := backup.Inventory{Policies: make([]backup.Policy, 0, len(raw)), Vaults: vaults, VaultsErr: vaultsErr}
	for _, p := range raw {
		bp := backup.Policy{ID: p.ID, Name: p.Name, Enabled: p.Enabled, Problems: slices.Clone(p.Problems)}
		if len(p.Schedule.Patterns) > 0 {
			bp.Schedule = p.Schedule
		}
		resources := map[string]struct{}{}
		for _, vid := range p.VaultIDs {
			i, ok := byID[vid]
			if !ok {
				bp.Problems = append(bp.Problems, fmt.Sprintf("field associated_vaults: vault %q is not in the vault list", hwcloud.Truncate(vid, 100)))
				continue
			}
			for _, r := range vaults[i].Resources {
				resources[r.ID+"\x00"+r.Type] = struct{}{}
			}
			if p.ID != "" {
				vaults[i].PolicyIDs = append(vaults[i].PolicyIDs, p.ID)
			}
		}
		bp.ResourceCount = len(resources)
		inv.Policies = append(inv.Policies, bp)
	}
	for i := range vaults {
		slices.Sort(vaults[i].PolicyIDs)
		vaults[i].PolicyIDs = slices.Compact(vaults[i].PolicyIDs)
	}
	return inv, nil
}

// cloneVaults copies vs deep enough that Inventory can fill in PolicyIDs.
func cloneVaults(vs []backup.Vault) []backup.Vault {
	out := slices.Clone(vs)
	for i := range out {
		out[i].PolicyIDs = nil
	}
	return out
}

// listVaults pages through the vault list until an empty page; a vault
// seen twice (offsets shifted) is kept once, the later copy winning.
func (c *Client) listVaults(ctx context.Context) ([]backup.Vault, error) {
	var out []backup.Vault
	index := map[string]int{}
	offset := 0
	for page := 1; ; page++ {
		if page > c.o.MaxPages {
			return nil, backup.WithKind(backup.ErrPaging, fmt.Errorf("%s: more than %d pages (Options.MaxPages)", OpListVaults, c.o.MaxPages))
		}
		q := url.Values{"limit": {strconv.Itoa(c.o.VaultPageSize)}, "offset": {strconv.Itoa(offset)}}
		var vs []backup.Vault
		err := c.get(ctx, OpListVaults, []string{"vaults"}, q, func(data []byte) error {
			var err error
			vs, _, err = DecodeVaults(data)
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(vs) == 0 {
			return out, nil
		}
		for _, v := range vs {
			if i, ok := index[v.ID]; ok && v.ID != "" {
				out[i] = v
				continue
			}
			index[v.ID] = len(out)
			out = append(out, v)
		}
		offset += len(vs)
	}
}

// cursorOf encodes a high-water mark.
func cursorOf(t time.Time) backup.Cursor {
	return backup.Cursor("cbr1:" + t.UTC().Format(time.RFC3339))
}

// parseCursor decodes a Cursor; ok is false for "" and for a cursor this
// client did not make.
func parseCursor(cur backup.Cursor) (time.Time, bool) {
	s, ok := strings.CutPrefix(string(cur), "cbr1:")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// NewJobs reads the backup tasks (operation_type=backup) created in the
// window from the cursor's high-water mark minus Options.Overlap (or from
// q.NotBefore, whichever is later; NotBefore alone on the first read, or
// now − 7 days when both are zero) to now, read once.
//
// The window is walked in slices of at most Options.Slice, oldest first.
// Each slice is read with fixed start_time and end_time, limit=PageSize
// and offset 0, PageSize, ... until an EMPTY page — not a short page, and
// never by "count", whose meaning is undocumented — and its tasks are
// deduplicated by id (keeping the copy with the latest updated_at), since
// tasks arriving during the walk shift the offsets; the order of the pages
// is not relied on. Tasks without id cannot be deduplicated and are
// skipped. The high-water mark the returned cursor holds is the end of the
// last slice read completely, so a read that fails part way returns the
// tasks read so far, Complete false, and a cursor from which the next call
// reads only what is missing.
//
// A task deleted during a walk shifts the later offsets back by one, so the
// walk can skip one other task; the next read re-reads it when it was
// created within Overlap of the mark (deletions are rare: vault_delete,
// remove_resource).
//
// Steady state, one read costs two requests (a page of new tasks and the
// empty page that ends it) whatever the number of policies and the length
// of the history, as long as fewer than PageSize tasks arrive within
// Overlap plus the time between reads.
func (c *Client) NewJobs(ctx context.Context, q backup.JobQuery) (backup.JobBatch, error) {
	end := c.o.Now().UTC().Truncate(time.Second)
	hw, hasHW := parseCursor(q.Cursor)
	start := q.NotBefore
	if hasHW {
		start = later(start, hw.Add(-c.o.Overlap))
	}
	if start.IsZero() {
		start = end.Add(-DefaultLookback)
	}
	if start.After(end) { // a cursor from a clock that ran ahead
		start = end.Add(-c.o.Overlap)
	}
	start = start.UTC().Truncate(time.Second)
	batch := backup.JobBatch{Next: q.Cursor}
	seen := map[string]int{}
	for from := start; ; {
		to := end
		if from.Add(c.o.Slice).Before(end) {
			to = from.Add(c.o.Slice)
		}
		err := c.walk(ctx, from, to, "", func(j backup.Job) { merge(&batch.Jobs, seen, j) })
		if err != nil {
			return batch, err
		}
		batch.Next = cursorOf(to)
		if !to.Before(end) {
			break
		}
		from = to
	}
	batch.Complete = true
	return batch, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// merge adds j to jobs unless a copy with the same ID and a later (or the
// same) updated_at is there already.
func merge(jobs *[]backup.Job, seen map[string]int, j backup.Job) {
	if i, ok := seen[j.ID]; ok {
		if j.Updated.After((*jobs)[i].Updated) {
			(*jobs)[i] = j
		}
		return
	}
	seen[j.ID] = len(*jobs)
	*jobs = append(*jobs, j)
}

// walk reads one window of backup tasks, optionally filtered by status,
// page by page until an empty page, and hands each task with an id to fn
// (a task may come twice).
func (c *Client) walk(ctx context.Context, from, to time.Time, status string, fn func(backup.Job)) error {
	q := url.Values{
		"operation_type": {"backup"},
		"limit":          {strconv.Itoa(c.o.PageSize)},
		"start_time":     {from.UTC().Format(queryTime)},
		"end_time":       {to.UTC().Format(queryTime)},
	}
	if status != "" {
		q.Set("status", status)
	}
	seen := map[string]struct{}{}
	offset, stale := 0, 0
	for page := 1; ; page++ {
		if page > c.o.MaxPages {
			return backup.WithKind(backup.ErrPaging, fmt.Errorf("%s: window %s..%s: more than %d pages (Options.MaxPages)",
				OpListOperationLogs, q.Get("start_time"), q.Get("end_time"), c.o.MaxPages))
		}
		q.Set("offset", strconv.Itoa(offset))
		var logs []OperationLog
		err := c.get(ctx, OpListOperationLogs, []string{"operation-logs"}, q, func(data []byte) error {
			var err error
			logs, _, err = DecodeOperationLogs(data)
			return err
		})
		if err != nil {
			return err
		}
		if len(logs) == 0 {
			return nil
		}
		fresh := 0
		for _, l := range logs {
			if l.ID == "" || l.OperationType != "" && l.OperationType != "backup" {
				continue // the filter is the server's; don't trust it blindly
			}
			if _, dup := seen[l.ID]; !dup {
				seen[l.ID] = struct{}{}
				fresh++
			}
			fn(l.Job)
		}
		if fresh == 0 {
			if stale++; stale >= repeatedPages {
				return backup.WithKind(backup.ErrPaging, fmt.Errorf("%s: window %s..%s: %d pages in a row held no new task at offset %d (is offset ignored?)",
					OpListOperationLogs, q.Get("start_time"), q.Get("end_time"), stale, offset))
			}
		} else {
			stale = 0
		}
		offset += len(logs)
	}
}

// Recheck reads the current state of tasks that were open, with the
// status filter:
//
//  1. running and waiting tasks created since the oldest open one (minus
//     Overlap) are listed (two walks, one request each when none is
//     left): the open tasks among them are still open;
//  2. the tasks created around the open ones that left those lists (from
//     the oldest to the newest of them, widened by Overlap) are listed
//     without a status filter, which gives their final state;
//  3. any still missing are fetched one by one, at most MaxSingleChecks
//     per call; a 404 (BackupService.6500) reports them Gone, the rest
//     are Unchecked.
//
// Its cost depends on the tasks in flight, not on the history or the
// number of policies. Open jobs without an ID are ignored.
func (c *Client) Recheck(ctx context.Context, open []backup.Job) (backup.RecheckResult, error) {
	var res backup.RecheckResult
	want := map[string]backup.Job{}
	for _, j := range open {
		if j.ID != "" {
			want[j.ID] = j
		}
	}
	if len(want) == 0 {
		return res, nil
	}
	end := c.o.Now().UTC().Truncate(time.Second)
	seen := map[string]int{}
	add := func(j backup.Job) { merge(&res.Jobs, seen, j) }
	oldest, _ := span(want, end)
	for _, st := range []string{"running", "waiting"} {
		if err := c.walk(ctx, oldest.Add(-c.o.Overlap), end, st, add); err != nil {
			res.Unchecked = missing(want, seen)
			return res, err
		}
	}
	left := map[string]backup.Job{}
	for id, j := range want {
		if _, ok := seen[id]; !ok {
			left[id] = j // finished, gone, or in an undocumented status
		}
	}
	if len(left) > 0 {
		lo, hi := span(left, end)
		hi = hi.Add(c.o.Overlap)
		if hi.After(end) {
			hi = end
		}
		if err := c.walk(ctx, lo.Add(-c.o.Overlap), hi, "", add); err != nil {
			res.Unchecked = missing(want, seen)
			return res, err
		}
	}
	ids := missing(want, seen)
	for n, id := range ids {
		if n >= c.o.MaxSingleChecks {
			res.Unchecked = append(res.Unchecked, ids[n:]...)
			break
		}
		var l OperationLog
		err := c.get(ctx, OpShowOperationLog, []string{"operation-logs", id}, nil, func(data []byte) error {
			var err error
			l, err = DecodeOperationLog(data)
			return err
		})
		switch {
		case errors.Is(err, backup.ErrNotFound):
			res.Gone = append(res.Gone, id)
		case err != nil:
			res.Unchecked = append(res.Unchecked, ids[n:]...)
			return res, err
		default:
			if l.ID == "" {
				l.ID = id
			}
			add(l.Job)
		}
	}
	return res, nil
}

// span returns the earliest and latest creation (else start, update) time
// of the jobs; jobs without any time count as now − DefaultLookback.
func span(jobs map[string]backup.Job, now time.Time) (lo, hi time.Time) {
	for _, j := range jobs {
		t := j.Created
		if t.IsZero() {
			t = j.Begin()
		}
		if t.IsZero() {
			t = j.Updated
		}
		if t.IsZero() {
			t = now.Add(-DefaultLookback)
		}
		if lo.IsZero() || t.Before(lo) {
			lo = t
		}
		if t.After(hi) {
			hi = t
		}
	}
	return lo.UTC().Truncate(time.Second), hi.UTC()
}

// missing returns the sorted IDs of want not in seen.
func missing(want map[string]backup.Job, seen map[string]int) []string {
	var out []string
	for id := range want {
		if _, ok := seen[id]; !ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
