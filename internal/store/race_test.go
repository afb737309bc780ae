//go:build race

package store_test

// raceEnabled is true under the race detector.
const raceEnabled = true
