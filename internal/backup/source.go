package backup

import (
	"context"
	"errors"
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
