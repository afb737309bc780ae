package backup

import (
	"context"
	"errors"
	"iter"
	"time"
)

// Source is a backup service's API for one project, as a service client
// implements it. Every paging, cursor and retry rule lives behind it.
// Methods are safe for concurrent use.
type Source interface {
	// Policies lists the project's backup policies.
	Policies(ctx context.Context) ([]Policy, error)
	// NewJobs reads the jobs created since the position q.Cursor; see
	// JobQuery and JobBatch. On an error the batch still holds every job
	// read before it, and a Cursor from which the next call resumes without
	// losing any job.
	NewJobs(ctx context.Context, q JobQuery) (JobBatch, error)
	// Recheck reads the current state of jobs that were open (Status.Open)
	// when last read. See RecheckResult.
	Recheck(ctx context.Context, open []Job) (RecheckResult, error)
}

// InventorySource is implemented by a Source whose service has vaults
// (CBR). A caller that wants policies and vaults calls Inventory instead of
// Policies: one set of requests gives both.
type InventorySource interface {
	Inventory(ctx context.Context) (Inventory, error)
}

// Inventory is what a service holds besides jobs.
type Inventory struct {
	// Policies as Source.Policies returns them.
	Policies []Policy
	// Vaults with their resources, and PolicyIDs filled in.
	Vaults []Vault
	// VaultsErr is set when the vault list could not be read this time and
	// Vaults (with the policies' resource counts) are those of the last
	// read that succeeded: the policies are current, the vaults are not.
	VaultsErr error
}

// Cursor is where an incremental read of a Source's jobs resumes. Only the
// Source that returned it interprets it; the zero Cursor starts a fresh read.
// It is a plain value: a caller keeps it, compares it, logs it.
type Cursor string

// JobQuery asks a Source for new jobs.
type JobQuery struct {
	// Cursor is the Next of the previous batch; "" for the first read.
	Cursor Cursor
	// NotBefore is the start of the caller's window: jobs created earlier
	// are not wanted (a Source may still return some, e.g. in an overlap).
	// The first read reads back to it.
	NotBefore time.Time
}

// JobBatch is the result of one NewJobs call.
type JobBatch struct {
	// Jobs are the new jobs and known jobs whose state the read saw again,
	// each ID at most once, in no particular order.
	Jobs []Job
	// Next is the Cursor for the next call.
	Next Cursor
	// Complete is false when the read stopped before reaching the present
	// (an error, or a long backfill split over calls); the caller calls
	// again with Next.
	Complete bool
}

// RecheckResult is what a Source found out about open jobs.
type RecheckResult struct {
	// Jobs are the current states of the open jobs found (and possibly of
	// other jobs the same requests returned), each ID at most once.
	Jobs []Job
	// Gone are the IDs of open jobs the service no longer knows.
	Gone []string
	// Unchecked are the IDs of open jobs this call could not find or did
	// not get to; the caller keeps them open and asks again later.
	Unchecked []string
}

// Errors a Source returns at its edge, matched with errors.Is. The error
// itself says more (operation, service code, request ID); these only
// classify it, so that callers need no HTTP status.
var (
	// ErrAuth: the credentials were refused or could not be obtained.
	ErrAuth = errors.New("authentication failed")
	// ErrForbidden: authenticated, but not allowed.
	ErrForbidden = errors.New("access denied")
	// ErrNotFound: the object asked for does not exist (any more).
	ErrNotFound = errors.New("not found")
	// ErrRejected: the service refused the request as invalid.
	ErrRejected = errors.New("request rejected")
	// ErrUnavailable: the service is throttling or failing; a later call
	// may succeed.
	ErrUnavailable = errors.New("service unavailable")
	// ErrBadResponse: the service answered with something that cannot be
	// decoded.
	ErrBadResponse = errors.New("bad response")
	// ErrPaging: a paged read could not make progress (a page cap was
	// reached, or the service repeated itself).
	ErrPaging = errors.New("paging failed")
)

// WithKind returns err classified as kind (one of the Err* values above):
// errors.Is(result, kind) is true, the text is err's, and err's own chain
// (errors.As to a service's error type) is kept. A nil err stays nil.
func WithKind(kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// PolicySource is a backup service's API for one project whose jobs are
// listed per policy, newest first, and resumed after a job (VBS). It is the
// per-policy counterpart of Source: a store that keeps each policy's jobs
// reads a policy's new jobs by walking PolicyJobs from the newest until it
// reaches a job it holds, and re-reads the few jobs it holds open with
// PolicyJob, so that a steady refresh costs one page per policy plus one
// request per open job whatever the history. Every paging and marker rule
// lives behind it. Methods are safe for concurrent use.
type PolicySource interface {
	// Policies lists the project's backup policies.
	Policies(ctx context.Context) ([]Policy, error)
	// PolicyJobs walks a policy's jobs newest first, each job once, from
	// the newest or (q.After) after a job read before, requesting pages
	// only as the caller consumes jobs: a caller that stops early costs
	// no further request. Any error is yielded once as (Job{}, err) and
	// ends the walk; errors.Is(err, ErrResumeRefused) when the service no
	// longer accepts q.After as a resume point.
	PolicyJobs(ctx context.Context, policyID string, q PolicyJobQuery) iter.Seq2[Job, error]
	// PolicyJob re-reads one job of a policy with one request. It reports
	// false when the service no longer has the job; errors.Is(err,
	// ErrFilterIgnored) when the service answered with other jobs, so that
	// jobs can only be re-read by walking down to them.
	PolicyJob(ctx context.Context, policyID, jobID string) (Job, bool, error)
	// PageSize is the number of jobs a PolicyJobs page holds, which a
	// caller uses to price walking against re-reading job by job.
	PageSize() int
}

// PolicyJobQuery is where a PolicySource's walk of a policy's jobs starts.
type PolicyJobQuery struct {
	// After is the ID of a job read before: the walk yields only the jobs
	// listed after it (older ones). "" starts from the newest job.
	After string
	// AfterCreated is the creation time of the After job when the caller
	// knows it: a job listed after it that is newer means the service
	// ignored the resume point, and ends the walk with an ErrPaging error
	// instead of serving the newest jobs again as older ones.
	AfterCreated time.Time
}

// TextCleaner is implemented by a source that can scrub text taken from its
// responses (a failed job's code and message) of its own secrets.
type TextCleaner interface {
	// CleanText returns s with the source's secrets redacted, control
	// characters folded, cut to limit bytes.
	CleanText(s string, limit int) string
}

// More errors a Source or PolicySource returns at its edge, matched with
// errors.Is like the ones above.
var (
	// ErrResumeRefused: the service refused the point a walk was to resume
	// from (the job is gone); the gap cannot be filled from there.
	ErrResumeRefused = errors.New("resume point refused")
	// ErrFilterIgnored: the service answered a filtered query (one job by
	// ID) with other objects: it does not honour the filter.
	ErrFilterIgnored = errors.New("filter ignored")
)
