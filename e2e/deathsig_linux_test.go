package e2e

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel SIGKILL the child when the test process dies
// without running its cleanups (killed by go test's -timeout, SIGKILL, a
// crash). Strictly it fires when the forking OS thread ends; the Go runtime
// keeps its threads for the life of the process unless a goroutine exits
// while locked to one, which this package never does.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
