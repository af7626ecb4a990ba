//go:build !unix

package zktest

import "os/exec"

// ownGroup is a no-op where there are no process groups.
func ownGroup(*exec.Cmd) {}
