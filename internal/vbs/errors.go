package vbs

import "fmt"

// Operation names, used in errors (hwcloud.APIError.Operation) and in
// hwcloud.RequestEvent.
const (
	// OpListPolicies is GET /v2/{project_id}/backuppolicy.
	OpListPolicies = "list_policies"
	// OpListTasks is GET /v2/{project_id}/backuppolicy/{policy_id}/backuptasks.
	OpListTasks = "list_tasks"
)

// pagingError ends a task walk that cannot make progress: the server repeated
// a page, the next marker did not advance, the last job of a full page had no
// job_id, or the walk needed more than Options.maxPages pages.
type pagingError struct {
	PolicyID string
	// Page is the 1-based number of the page at which the walk stopped.
	Page int
	// Marker is the marker used to request that page ("" for the first page).
	Marker string
	// Reason says what went wrong.
	Reason string
}

// Error formats the error as, for example,
// `list_tasks: paging policy "af8a" stopped at page 3 (marker "c11b"): every job on the page was already seen`.
func (e *pagingError) Error() string {
	return fmt.Sprintf("%s: paging policy %q stopped at page %d (marker %q): %s",
		OpListTasks, e.PolicyID, e.Page, e.Marker, e.Reason)
}
