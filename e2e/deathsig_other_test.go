//go:build !linux

package e2e

import "os/exec"

// setDeathSignal has no portable equivalent outside Linux; the cleanups (run
// on failures and panics too) stop the processes.
func setDeathSignal(*exec.Cmd) {}
