package hwcloud

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
)

// Classify adds the backup.Err* kind to an error of the Engine, so that a
// service client's callers need no HTTP status (backup.WithKind keeps the
// text and the chain): 401 ErrAuth, 403 ErrForbidden, 404 ErrNotFound, a
// Temporary APIError ErrUnavailable, another 4xx ErrRejected, another status
// ErrUnavailable; a body over the cap ErrBadResponse; credentials that could
// not be obtained ErrAuth; anything else (a network error) ErrUnavailable.
// nil and context errors are returned as they are. A client classifies its
// own errors (decoding, paging) before calling it.
func Classify(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr):
		switch s := apiErr.StatusCode; {
		case s == http.StatusUnauthorized:
			return backup.WithKind(backup.ErrAuth, err)
		case s == http.StatusForbidden:
			return backup.WithKind(backup.ErrForbidden, err)
		case s == http.StatusNotFound:
			return backup.WithKind(backup.ErrNotFound, err)
		case apiErr.Temporary():
			return backup.WithKind(backup.ErrUnavailable, err)
		case s >= 400 && s < 500:
			return backup.WithKind(backup.ErrRejected, err)
		}
		return backup.WithKind(backup.ErrUnavailable, err)
	case errors.Is(err, ErrBodyTooLarge):
		return backup.WithKind(backup.ErrBadResponse, err)
	case strings.Contains(err.Error(), ": authenticate: "):
		// The credentials could not be obtained (an IAM token request).
		return backup.WithKind(backup.ErrAuth, err)
	}
	return backup.WithKind(backup.ErrUnavailable, err)
}
