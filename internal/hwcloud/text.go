package hwcloud

// CleanText makes text taken from an API response (a job's message, a
// resource name) safe to log, to show on a page or to use as a label value:
// the secrets auth holds are replaced by "[REDACTED]" (the redaction the
// engine applies to error messages; auth may be nil), invalid UTF-8 and
// control characters become spaces, runs of white space fold to one, and the
// result is cut to at most limit bytes on a rune boundary ("…" appended when
// cut).
func CleanText(auth Authenticator, s string, limit int) string {
	if r, ok := auth.(redacter); ok {
		s = r.redact(s)
	}
	return sanitize(s, limit)
}
