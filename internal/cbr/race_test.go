//go:build race

package cbr

// raceEnabled is true under the race detector.
const raceEnabled = true
