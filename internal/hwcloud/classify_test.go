package hwcloud

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
)

// Classify gives each engine error its backup kind and keeps its text and
// chain; context errors and nil pass as they are.
func TestClassify(t *testing.T) {
	kinds := []error{backup.ErrAuth, backup.ErrForbidden, backup.ErrNotFound, backup.ErrRejected,
		backup.ErrUnavailable, backup.ErrBadResponse, backup.ErrPaging}
	for _, tt := range []struct {
		err  error
		want error
	}{
		{&APIError{Operation: "op", StatusCode: 401}, backup.ErrAuth},
		{&APIError{Operation: "op", StatusCode: 403}, backup.ErrForbidden},
		{&APIError{Operation: "op", StatusCode: 404}, backup.ErrNotFound},
		{&APIError{Operation: "op", StatusCode: 400}, backup.ErrRejected},
		{&APIError{Operation: "op", StatusCode: 429}, backup.ErrUnavailable},
		{&APIError{Operation: "op", StatusCode: 400, Code: "APIGW.0308"}, backup.ErrUnavailable},
		{&APIError{Operation: "op", StatusCode: 501}, backup.ErrUnavailable},
		{fmt.Errorf("op: %w", &bodyTooLargeError{op: "op", limit: 1}), backup.ErrBadResponse},
		{errors.New("list_tasks: authenticate: iam_token: HTTP 401"), backup.ErrAuth},
		{errors.New("dial tcp 127.0.0.1:1: connection refused"), backup.ErrUnavailable},
	} {
		got := Classify(tt.err)
		if got.Error() != tt.err.Error() {
			t.Errorf("%v: text %q", tt.err, got)
		}
		for _, k := range kinds {
			if errors.Is(got, k) != (k == tt.want) {
				t.Errorf("%v: errors.Is(%v) = %v", tt.err, k, !(k == tt.want))
			}
		}
		var apiErr *APIError
		if errors.As(tt.err, &apiErr) && !errors.As(got, &apiErr) {
			t.Errorf("%v: the *APIError is lost", tt.err)
		}
	}
	wrapped := fmt.Errorf("x: %w", context.DeadlineExceeded)
	if Classify(nil) != nil || Classify(wrapped) != wrapped {
		t.Error("nil or a context error was classified")
	}
}
