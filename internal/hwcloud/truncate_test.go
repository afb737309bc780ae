package hwcloud

import "testing"

// Truncate cuts on a rune boundary and marks the cut; short text is kept.
func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		s     string
		limit int
		want  string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"ab€cd", 4, "ab…"}, // € is 3 bytes: the cut moves back to its start
		{"ab€cd", 5, "ab€…"},
		{"€", 0, "…"},
		{"", 0, ""},
	} {
		if got := Truncate(c.s, c.limit); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.s, c.limit, got, c.want)
		}
	}
}
