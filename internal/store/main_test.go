package store_test

import (
	"os"
	"testing"

	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
)

// TestMain runs 8 tests at once by default (go test's default is
// GOMAXPROCS): several tests wait on simulated latency, a slow name lookup or
// refresh deadlines, and with two at a time they would leave a 2-core machine
// idle. An explicit -parallel is honoured.
func TestMain(m *testing.M) {
	testkit.RaiseParallel(8)
	os.Exit(m.Run())
}
