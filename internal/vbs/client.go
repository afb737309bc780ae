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
	"sync/atomic"
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
	// PageSize is the limit of each task page, default
	// config.DefaultPageSize. The server may cap it (its maximum is
	// undocumented): a walk never ends on a short page, only on an empty
	// one, so a cap loses no job.
	PageSize int
	// maxPages caps the page requests of one task walk, default 100000; a
	// walk that would need page maxPages+1 ends with a *pagingError.
	maxPages int
	// Engine configures the requests: HTTP client, attempts, response body
	// limit, back-off and User-Agent (see hwcloud.EngineOptions for the
	// defaults).
	Engine hwcloud.EngineOptions
	// Observer, when not nil, is called synchronously after every HTTP
	// attempt, including IAM token fetches that a request of this client
	// triggers. It must be quick and safe for concurrent use.
	Observer func(hwcloud.RequestEvent)
}

// Client talks to the VBS API of one project. It is safe for concurrent use.
//
// Requests are retried on network errors, on truncated JSON in a 2xx body,
// and on HTTP 429, 500, 502, 503 and 504, up to hwcloud.EngineOptions.MaxAttempts
// attempts, waiting as its BackoffBase describes. A wait that would pass the
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
	// served is the largest page a server that caps limit below pageSize
	// was seen to serve, 0 until a short page was followed by more jobs.
	served   atomic.Int64
	observer func(hwcloud.RequestEvent)
	eng      *hwcloud.Engine
}

// New returns a Client, checking the options and filling in defaults.
func New(o Options) (*Client, error) {
	if err := hwcloud.CheckPathSegment("project ID", o.ProjectID); err != nil {
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
	}{{"PageSize", o.PageSize}, {"maxPages", o.maxPages}} {
		if f.v < 0 {
			return nil, fmt.Errorf("vbs: Options.%s is negative", f.name)
		}
	}
	eng, err := hwcloud.NewEngine(o.Engine)
	if err != nil {
		return nil, fmt.Errorf("vbs: %w", err)
	}
	return &Client{
		projectID: o.ProjectID,
		base:      base,
		auth:      o.Auth,
		pageSize:  cmp.Or(o.PageSize, defaultPageSize),
		maxPages:  cmp.Or(o.maxPages, defaultMaxPages),
		observer:  o.Observer,
		eng:       eng,
	}, nil
}

// CloseIdleConnections closes idle connections of the HTTP client that New
// created (nothing for a client passed in Options.Engine), and those of
// the Authenticator when it has such a method (NewPasswordAuth's has).
func (c *Client) CloseIdleConnections() {
	hwcloud.CloseIdleConnections(c.eng, c.auth)
}

// AuthBackoffUntil returns the end of the Authenticator's back-off after
// the service (or IAM) refused its credentials: no request is sent before
// then. The zero time when there is none, or when the Authenticator has no
// back-off (NewAKSK's and NewPasswordAuth's have).
func (c *Client) AuthBackoffUntil() time.Time {
	return hwcloud.BackoffUntil(c.auth)
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
	status Status
	// JobID is an optional job filter, passed through as ?job_id= (see Job).
	jobID string
	// Marker optionally starts the walk after this job ID (resumes a walk).
	Marker string
	// MarkerCreated is the creation time of the Marker job, when the caller
	// knows it: a job listed after the marker that is newer than it means
	// that the API ignored the marker, and ends the walk with a *pagingError
	// instead of serving the newest jobs again as if they were older ones.
	MarkerCreated time.Time
}

// PageSize returns the number of jobs a task page holds: Options.PageSize,
// or less once the server was seen to cap limit below it (a short page
// followed by more jobs). Callers use it to estimate what a walk costs.
func (c *Client) PageSize() int {
	if n := int(c.served.Load()); n > 0 && n < c.pageSize {
		return n
	}
	return c.pageSize
}

// tasksPage fetches one page of a policy's jobs
// (GET /v2/{project_id}/backuppolicy/{policy_id}/backuptasks) with
// sort_key=created_at, sort_dir=desc, limit=PageSize and the marker, status
// and job ID of q when set. It returns the decoded jobs and the "count" field
// (-1 when absent), which the vendor leaves undefined (the total, or the
// page's size): no walk relies on it. Most callers want Tasks.
func (c *Client) tasksPage(ctx context.Context, policyID string, q TaskQuery) ([]Task, int, error) {
	if err := hwcloud.CheckPathSegment("policy ID", policyID); err != nil {
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
	if q.status != "" {
		v.Set("status", string(q.status))
	}
	if q.jobID != "" {
		v.Set("job_id", q.jobID)
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

// ErrFilterIgnored is wrapped by the error of Job when the API answered a
// job_id= query with other jobs only: it does not honour the filter.
var ErrFilterIgnored = errors.New("the API ignored the job_id filter")

// Job reads one job of a policy with one request (?job_id=). It reports
// false when the API returns no job: the vendor does not say what job_id=
// answers for a job it no longer has, and an empty list is the only answer
// that can mean "gone". An answer that holds other jobs but not this one is
// an error wrapping ErrFilterIgnored, never "gone".
func (c *Client) Job(ctx context.Context, policyID, jobID string) (Task, bool, error) {
	if jobID == "" {
		return Task{}, false, fmt.Errorf("%s: empty job ID", OpListTasks)
	}
	tasks, _, err := c.tasksPage(ctx, policyID, TaskQuery{jobID: jobID})
	if err != nil {
		return Task{}, false, err
	}
	for _, t := range tasks {
		if t.JobID == jobID {
			return t, true, nil
		}
	}
	if len(tasks) == 0 {
		return Task{}, false, nil
	}
	return Task{}, false, fmt.Errorf("%s: policy %q, job_id=%s: %d other jobs and not this one: %w",
		OpListTasks, policyID, hwcloud.Truncate(jobID, 100), len(tasks), ErrFilterIgnored)
}

// Tasks walks the policy's jobs newest first, page by page (see tasksPage;
// each next page uses marker = the job ID of the last job of the previous
// page).
//
// Each job is yielded once: jobs are deduplicated by job_id, and the job of
// q.Marker counts as already seen. A job without a job_id cannot be
// deduplicated and is always yielded; if it is the last job of a page the
// walk cannot go on and ends with a *pagingError.
//
// Only an empty page (or one that holds nothing but the marker job again)
// ends the walk. A short page does not: the server may cap limit below
// PageSize (its maximum is undocumented), and "count" may be the page's size
// rather than the total, so neither says that nothing follows. A walk to the
// end thus costs one request more than its pages; callers that stop on their
// own (jobs they hold, the end of their window) break out of the loop, and no
// further request is made then.
//
// A non-empty page whose every job was already seen, a next marker equal to
// the previous one, a job newer than q.MarkerCreated (the API ignored the
// marker of a resumed walk), or a walk that would need more than maxPages
// page requests ends it with a *pagingError.
// Any error is yielded once as (Task{}, err) and ends the walk.
func (c *Client) Tasks(ctx context.Context, policyID string, q TaskQuery) iter.Seq2[Task, error] {
	return func(yield func(Task, error) bool) {
		seen := make(map[string]struct{})
		marker := q.Marker
		if marker != "" {
			// The marker job was read before: an API that repeats it at the
			// top of the next page must not yield it again.
			seen[marker] = struct{}{}
		}
		bound := q.MarkerCreated // no job listed after the marker may be newer
		short := 0               // length of the previous page when it was short
		for page := 1; ; page++ {
			if page > c.maxPages {
				yield(Task{}, &pagingError{PolicyID: policyID, Page: page, Marker: marker,
					Reason: fmt.Sprintf("more than %d pages (the page cap of a walk)", c.maxPages)})
				return
			}
			tasks, _, err := c.tasksPage(ctx, policyID, TaskQuery{status: q.status, jobID: q.jobID, Marker: marker})
			if err != nil {
				yield(Task{}, err)
				return
			}
			if len(tasks) == 0 || marker != "" && len(tasks) == 1 && tasks[0].JobID == marker {
				return // empty, or only the marker job repeated
			}
			if short > 0 && int64(short) > c.served.Load() {
				// A short page was not the last: the server caps limit.
				c.served.Store(int64(short))
			}
			perr := &pagingError{PolicyID: policyID, Page: page, Marker: marker}
			fresh := 0
			for _, t := range tasks {
				if t.JobID != "" {
					if _, dup := seen[t.JobID]; dup {
						continue
					}
					seen[t.JobID] = struct{}{}
				}
				if marker != "" && !bound.IsZero() && t.CreatedAt.After(bound) {
					perr.Reason = fmt.Sprintf("job %q, listed after the marker job, is newer than it: the API ignored the marker", hwcloud.Truncate(t.JobID, 100))
					yield(Task{}, perr)
					return
				}
				fresh++
				if !yield(t, nil) {
					return
				}
			}
			if fresh == 0 {
				perr.Reason = fmt.Sprintf("every job on the page (%d) was already seen", len(tasks))
				yield(Task{}, perr)
				return
			}
			last := tasks[len(tasks)-1]
			switch {
			case last.JobID == "":
				perr.Reason = "the last job of the page has no job_id, so there is no marker for the next page"
			case last.JobID == marker:
				perr.Reason = "the next marker equals the previous one"
			}
			if perr.Reason != "" {
				yield(Task{}, perr)
				return
			}
			short = 0
			if len(tasks) < c.pageSize {
				short = len(tasks)
			}
			marker = last.JobID
		}
	}
}

// CleanText makes text from a response (a job's message or code) safe to
// log and show: the client's secrets redacted, control characters folded,
// cut to limit bytes (see hwcloud.CleanText).
func (c *Client) CleanText(s string, limit int) string { return hwcloud.CleanText(c.auth, s, limit) }
