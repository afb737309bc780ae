//go:build !race

package collector

// raceEnabled is true under the race detector.
const raceEnabled = false
