package vbs

import (
	"context"
	"errors"
	"iter"
	"net/http"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// Client is the VBS backup.PolicySource: the methods of this file translate
// the VBS wire types into the neutral model and classify errors, so that no
// HTTP status leaves the package.
var _ backup.PolicySource = (*Client)(nil)

// Policies lists the project's backup policies (one request, see
// ListPolicies) in the neutral model. Every policy carries its Schedule,
// even an empty one (whose expected interval is 0).
func (c *Client) Policies(ctx context.Context) ([]backup.Policy, error) {
	ps, err := c.ListPolicies(ctx)
	if err != nil {
		return nil, classify(err)
	}
	out := make([]backup.Policy, len(ps))
	for i, p := range ps {
		out[i] = PolicyOf(p)
	}
	return out, nil
}

// PolicyOf converts a decoded policy to the neutral model.
func PolicyOf(p Policy) backup.Policy {
	return backup.Policy{
		ID:            p.ID,
		Name:          p.Name,
		Enabled:       p.Enabled,
		Schedule:      p.Schedule,
		ResourceCount: p.ResourceCount,
		Problems:      p.Problems,
	}
}

// JobOf converts a decoded task to the neutral model. VBS has no start or
// update time; a status outside the documented ones is StatusUnknown with
// the API's word in RawStatus.
func JobOf(t Task) backup.Job {
	st, ok := backup.ParseStatus(string(t.Status))
	if !ok {
		st = backup.StatusUnknown
	}
	return backup.Job{
		ID:           t.JobID,
		ResourceID:   t.ResourceID,
		ResourceType: t.ResourceType,
		Status:       st,
		RawStatus:    string(t.Status),
		Created:      t.CreatedAt,
		Finished:     t.FinishedAt,
		ErrorCode:    t.Code,
		ErrorMessage: t.Message,
	}
}

// PolicyJobs walks the policy's jobs newest first (see Tasks for the paging
// rules), in the neutral model with PolicyID set. An HTTP 400 on a walk
// resumed after q.After means that the API refuses the marker (the job is
// gone): the error then matches backup.ErrResumeRefused.
func (c *Client) PolicyJobs(ctx context.Context, policyID string, q backup.PolicyJobQuery) iter.Seq2[backup.Job, error] {
	return func(yield func(backup.Job, error) bool) {
		for t, err := range c.Tasks(ctx, policyID, TaskQuery{Marker: q.After, MarkerCreated: q.AfterCreated}) {
			if err != nil {
				var apiErr *hwcloud.APIError
				if q.After != "" && errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest {
					err = backup.WithKind(backup.ErrResumeRefused, err)
				} else {
					err = classify(err)
				}
				yield(backup.Job{}, err)
				return
			}
			j := JobOf(t)
			j.PolicyID = policyID
			if !yield(j, nil) {
				return
			}
		}
	}
}

// PolicyJob re-reads one job of the policy with one request (see Job). An
// answer with other jobs only is an error matching backup.ErrFilterIgnored
// (and ErrFilterIgnored).
func (c *Client) PolicyJob(ctx context.Context, policyID, jobID string) (backup.Job, bool, error) {
	t, ok, err := c.Job(ctx, policyID, jobID)
	if err != nil {
		if errors.Is(err, ErrFilterIgnored) {
			return backup.Job{}, false, backup.WithKind(backup.ErrFilterIgnored, err)
		}
		return backup.Job{}, false, classify(err)
	}
	if !ok {
		return backup.Job{}, false, nil
	}
	j := JobOf(t)
	j.PolicyID = policyID
	return j, true, nil
}

// classify adds the backup.Err* kind to an error of the client: a paging
// error is ErrPaging, the rest as hwcloud.Classify says; the text and the
// chain (errors.As to *hwcloud.APIError) are kept.
func classify(err error) error {
	var pe *pagingError
	if errors.As(err, &pe) {
		return backup.WithKind(backup.ErrPaging, err)
	}
	return hwcloud.Classify(err)
}

// Operations names the client's operations for the job store's logs:
// OpListPolicies and OpListTasks.
func (c *Client) Operations() (policies, jobs string) { return OpListPolicies, OpListTasks }
