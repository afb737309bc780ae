// Package e2e holds the tests of the built binary: run as a user would
// against the VBS simulator (binary_test.go, tls_test.go), and together with
// real Prometheus and Alertmanager processes (prometheus_test.go,
// inhibit_test.go). The binary is built once per `go test` run, in TestMain.
package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vbs-exporter/vbs_exporter/internal/testkit"
)

// e2eVersion is the version the binary under test is built with.
const e2eVersion = "9.9.9"

// exporterBin is the exporter built by TestMain ("" with -short, where every
// test that runs it is skipped).
var exporterBin string

// TestMain builds the binary, and runs 8 tests at once by default (go test's
// default is GOMAXPROCS): the tests wait on processes — Prometheus's first
// scrape and rule evaluations, Alertmanager's notifications, the binary's
// start and deadlines — far more than on the CPU. Each has its own
// simulators, ports, directories and processes. An explicit -parallel is
// honoured.
func TestMain(m *testing.M) {
	flag.Parse()
	testkit.RaiseParallel(8)
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "vbs_exporter-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin, err := buildExporter(dir)
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exporterBin = bin
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildExporter builds the exporter from the module root, with version
// e2eVersion, into dir: a plain `go build`, no -race (the race detector
// covers the same code in the in-process tests of the root package).
func buildExporter(dir string) (string, error) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go tool is not on PATH: %w", err)
	}
	bin := filepath.Join(dir, "vbs_exporter")
	cmd := exec.Command(gotool, "build", "-o", bin,
		"-ldflags", "-X github.com/prometheus/common/version.Version="+e2eVersion, ".")
	cmd.Dir = ".." // the module root, where package main lives
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}
