//go:build unix

package zktest

import (
	"os/exec"
	"syscall"
)

// ownGroup puts the server in its own process group, so that a Ctrl-C
// meant for the test run reaches the test (which then stops the server
// in order) and not the server directly.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }
