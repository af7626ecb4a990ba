//go:build unix

package load

import "syscall"

// fdLimit is how many file descriptors this process may open
// (RLIMIT_NOFILE's soft limit; the Go runtime raises it to the hard limit
// at start), and false if it cannot be read.
func fdLimit() (int, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 0, false
	}
	return int(rl.Cur), true
}
