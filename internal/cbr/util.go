package cbr

import "unicode/utf8"

// truncate cuts s to at most limit bytes on a rune boundary, appending "…"
// when it cut anything.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
