package hwcloud

import (
	"strings"
	"testing"
)

func TestCleanText(t *testing.T) {
	auth := NewStaticToken("tok-secret-value")
	for _, tt := range []struct {
		auth  Authenticator
		in    string
		limit int
		want  string
	}{
		{auth, "failed:\n\tuser tok-secret-value \x00 denied", 100, "failed: user [REDACTED] denied"},
		{nil, "failed:\n\tuser tok-secret-value", 100, "failed: user tok-secret-value"},
		{auth, strings.Repeat("é", 10), 5, "éé…"},
		{auth, "", 10, ""},
	} {
		if got := CleanText(tt.auth, tt.in, tt.limit); got != tt.want {
			t.Errorf("CleanText(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}
