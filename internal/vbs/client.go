package vbs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vbs-exporter/vbs_exporter/config"
	"github.com/vbs-exporter/vbs_exporter/internal/endpoints"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// Defaults of Options specific to VBS; the engine's are hwcloud's.
const (
	defaultPageSize = config.DefaultPageSize // config holds the exporter's defaults
	defaultMaxPages = 100000
)

// Options configures a Client for one project. Zero values select the
// defaults given per field.
type Options struct {
	// Region, e.g. "cn-north-4", is used for the default Endpoint.
	Region string
	// Endpoint defaults to "https://vbs.{Region}.myhuaweicloud.com"; a
	// trailing slash is tolerated and a path prefix kept. Other sites
	// (myhuaweicloud.eu, Open Telekom Cloud) must set it.
	Endpoint string
	// ProjectID is required. It is sent in the path and as X-Project-Id.
	ProjectID string
	// Auth is required: hwcloud.NewAKSK, NewStaticToken or NewPasswordAuth.
	Auth hwcloud.Authenticator
	// HTTPClient defaults to a client with a 30s overall timeout and
	// dial/TLS/response-header timeouts. Redirects are not followed unless
	// the given client sets CheckRedirect.
	HTTPClient *http.Client
	// PageSize is the limit of each task page, default config.DefaultPageSize. A page shorter
	// than this ends a walk, so it must not exceed the server's own maximum.
	PageSize int
	// MaxPages caps the page requests of one task walk, default 100000; a
	// walk that would need page MaxPages+1 ends with a *PagingError.
	MaxPages int
	// MaxAttempts is the number of attempts per request including the
	// first, default 4. The retry after a 401 and a token renewal comes on
	// top.
	MaxAttempts int
	// MaxBodyBytes caps a 2xx response body, default 16 MiB; a larger one is
	// an error (errors.Is hwcloud.ErrBodyTooLarge) such as
	// "list_tasks: response body exceeds 16777216 bytes", not retried.
	MaxBodyBytes int64
	// BackoffBase is the first retry's backoff ceiling, default 200ms,
	// doubling per attempt; the wait is uniform in [0, ceiling] (full
	// jitter). A Retry-After header (seconds or HTTP date) replaces it.
	// Either is capped by BackoffMax.
	BackoffBase time.Duration
	// BackoffMax caps every wait, default 10s.
	BackoffMax time.Duration
	// UserAgent defaults to "vbs_exporter/" + version.Version
	// (github.com/prometheus/common/version), "vbs_exporter/unknown" when
	// that is empty.
	UserAgent string
	// Observer, when not nil, is called synchronously after every HTTP
	// attempt, including IAM token fetches that a request of this client
	// triggers. It must be quick and safe for concurrent use.
	Observer func(hwcloud.RequestEvent)
}

// Client talks to the VBS API of one project. It is safe for concurrent use.
//
// Requests are retried on network errors, on truncated JSON in a 2xx body,
// and on HTTP 429, 500, 502, 503 and 504, up to Options.MaxAttempts attempts,
// waiting as Options.BackoffBase describes. A wait that would pass the
// context's deadline is not started: the last error is returned at once.
// Other statuses are returned at once as *hwcloud.APIError; a 401 first calls
// Authenticator.Renew once and, if it reports true, retries once. Context
// cancellation ends a request, and a walk, promptly.
type Client struct {
	projectID string
	base      *url.URL
	auth      hwcloud.Authenticator
	pageSize  int
	maxPages  int
	observer  func(hwcloud.RequestEvent)
	eng       *hwcloud.Engine
}

// New returns a Client, checking the options and filling in defaults.
func New(o Options) (*Client, error) {
	if err := checkID("project ID", o.ProjectID); err != nil {
		return nil, fmt.Errorf("vbs: %w", err)
	}
	if o.Auth == nil {
		return nil, errors.New("vbs: no Authenticator (Options.Auth)")
	}
	base, err := hwcloud.EndpointURL(o.Endpoint, o.Region, endpoints.VBS)
	if err != nil {
		return nil, fmt.Errorf("vbs: endpoint: %w", err)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"PageSize", o.PageSize}, {"MaxPages", o.MaxPages}} {
		if f.v < 0 {
			return nil, fmt.Errorf("vbs: Options.%s is negative", f.name)
		}
	}
	eng, err := hwcloud.NewEngine(engineOptions(o))
	if err != nil {
		return nil, fmt.Errorf("vbs: %w", err)
	}
	return &Client{
		projectID: o.ProjectID,
		base:      base,
		auth:      o.Auth,
		pageSize:  cmp.Or(o.PageSize, defaultPageSize),
		maxPages:  cmp.Or(o.MaxPages, defaultMaxPages),
		observer:  o.Observer,
		eng:       eng,
	}, nil
}

// engineOptions are the request engine's part of o.
func engineOptions(o Options) hwcloud.EngineOptions {
	return hwcloud.EngineOptions{
		HTTPClient:   o.HTTPClient,
		MaxAttempts:  o.MaxAttempts,
		MaxBodyBytes: o.MaxBodyBytes,
		BackoffBase:  o.BackoffBase,
		BackoffMax:   o.BackoffMax,
		UserAgent:    o.UserAgent,
	}
}

// checkID rejects IDs that cannot be a single path segment.
func checkID(what, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%s is empty", what)
	case id == "." || id == "..", strings.Contains(id, "/"):
		return fmt.Errorf("%s %q is not a valid path segment", what, hwcloud.Truncate(id, 100))
	}
	return nil
}

// ProjectID returns the project the client works on.
func (c *Client) ProjectID() string { return c.projectID }

// CloseIdleConnections closes idle connections of the HTTP client that New
// created (nothing for a client passed in Options.HTTPClient), and those of
// the Authenticator when it has such a method (NewPasswordAuth's has).
func (c *Client) CloseIdleConnections() {
	c.eng.CloseIdleConnections()
	if a, ok := c.auth.(interface{ CloseIdleConnections() }); ok {
		a.CloseIdleConnections()
	}
}

// AuthBackoffUntil returns the end of the Authenticator's back-off after
// the service (or IAM) refused its credentials: no request is sent before
// then. The zero time when there is none, or when the Authenticator has no
// back-off (NewAKSK's and NewPasswordAuth's have).
func (c *Client) AuthBackoffUntil() time.Time {
	if b, ok := c.auth.(interface{ BackoffUntil() time.Time }); ok {
		return b.BackoffUntil()
	}
	return time.Time{}
}

// String describes the client without secrets.
func (c *Client) String() string {
	return fmt.Sprintf("vbs.Client(project %q, endpoint %s, auth %v)", c.projectID, c.base.Redacted(), c.auth)
}

// get runs a GET of the path segments under the endpoint with query q.
func (c *Client) get(ctx context.Context, op string, segs []string, q url.Values, decode func([]byte) error) error {
	return c.eng.Do(ctx, &hwcloud.Request{
		Op:      op,
		Method:  http.MethodGet,
		URL:     hwcloud.JoinPath(c.base, segs, q),
		Header:  http.Header{"X-Project-Id": {c.projectID}},
		Auth:    c.auth,
		Decode:  func(_ http.Header, data []byte) error { return decode(data) },
		Observe: c.observer,
	})
}

// ListPolicies returns the backup policies of the project
// (GET /v2/{project_id}/backuppolicy), decoded by decodePolicies.
func (c *Client) ListPolicies(ctx context.Context) ([]Policy, error) {
	var out []Policy
	err := c.get(ctx, OpListPolicies, []string{"v2", c.projectID, "backuppolicy"}, nil, func(data []byte) error {
		p, err := decodePolicies(data)
		out = p
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TaskQuery filters a task walk.
type TaskQuery struct {
	// Status is an optional status filter, passed through as ?status=.
	Status Status
	// Marker optionally starts the walk after this job ID (resumes a walk).
	Marker string
}

// TasksPage fetches one page of a policy's jobs
// (GET /v2/{project_id}/backuppolicy/{policy_id}/backuptasks) with
// sort_key=created_at, sort_dir=desc, limit=PageSize and the marker and status
// of q when set. It returns the decoded jobs and the "count" field (-1 when
// absent). Most callers want Tasks.
func (c *Client) TasksPage(ctx context.Context, policyID string, q TaskQuery) ([]Task, int, error) {
	if err := checkID("policy ID", policyID); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", OpListTasks, err)
	}
	v := url.Values{
		"sort_key": {"created_at"},
		"sort_dir": {"desc"},
		"limit":    {strconv.Itoa(c.pageSize)},
	}
	if q.Marker != "" {
		v.Set("marker", q.Marker)
	}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	var tasks []Task
	var count int
	err := c.get(ctx, OpListTasks, []string{"v2", c.projectID, "backuppolicy", policyID, "backuptasks"}, v,
		func(data []byte) error {
			var err error
			tasks, count, err = decodeTasksPage(data)
			return err
		})
	if err != nil {
		return nil, 0, err
	}
	return tasks, count, nil
}

// Tasks walks the policy's jobs newest first, page by page (see TasksPage;
// each next page uses marker = the job ID of the last job of the previous
// page).
//
// Each job is yielded once: jobs are deduplicated by job_id, and the job of
// q.Marker counts as already seen. A job without a job_id cannot be
// deduplicated and is always yielded; if it is the last job
// of a full page the walk cannot go on and ends with a *PagingError.
//
// An empty page ends the walk, and so does a page shorter than PageSize
// (without another request) unless the response's count says more jobs match
// than the walk has yielded: a server that caps limit below PageSize (the
// maximum is undocumented) serves short pages that are not the last, and
// stopping there would lose jobs silently. A walk resumed from a marker
// cannot tell how many jobs lie before it, so it may make one extra request
// that comes back empty. A non-empty page whose every job was already
// seen, a next marker equal to the previous one, or a walk that would need
// more than MaxPages page requests ends it with a *PagingError. Any error is
// yielded once as (Task{}, err) and ends the walk. The caller may stop early
// by breaking out of the loop; no further request is made then.
func (c *Client) Tasks(ctx context.Context, policyID string, q TaskQuery) iter.Seq2[Task, error] {
	return func(yield func(Task, error) bool) {
		seen := make(map[string]struct{})
		marker := q.Marker
		if marker != "" {
			// The marker job was read before: an API that repeats it at the
			// top of the next page must not yield it again.
			seen[marker] = struct{}{}
		}
		yielded := 0
		for page := 1; ; page++ {
			if page > c.maxPages {
				yield(Task{}, &PagingError{PolicyID: policyID, Page: page, Marker: marker,
					Reason: fmt.Sprintf("more than %d pages (Options.MaxPages)", c.maxPages)})
				return
			}
			tasks, count, err := c.TasksPage(ctx, policyID, TaskQuery{Status: q.Status, Marker: marker})
			if err != nil {
				yield(Task{}, err)
				return
			}
			if len(tasks) == 0 || marker != "" && len(tasks) == 1 && tasks[0].JobID == marker {
				return // empty, or only the marker job repeated
			}
			fresh := 0
			for _, t := range tasks {
				if t.JobID != "" {
					if _, dup := seen[t.JobID]; dup {
						continue
					}
					seen[t.JobID] = struct{}{}
				}
				fresh++
				yielded++
				if !yield(t, nil) {
					return
				}
			}
			perr := &PagingError{PolicyID: policyID, Page: page, Marker: marker}
			if fresh == 0 {
				perr.Reason = fmt.Sprintf("every job on the page (%d) was already seen", len(tasks))
				yield(Task{}, perr)
				return
			}
			if len(tasks) < c.pageSize && count <= yielded {
				return // count is -1 when the response has none
			}
			next := tasks[len(tasks)-1].JobID
			switch {
			case next == "":
				perr.Reason = "the last job of a full page has no job_id, so there is no marker for the next page"
			case next == marker:
				perr.Reason = "the next marker equals the previous one"
			}
			if perr.Reason != "" {
				yield(Task{}, perr)
				return
			}
			marker = next
		}
	}
}
