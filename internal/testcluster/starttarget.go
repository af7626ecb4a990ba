package testcluster

import (
	"path/filepath"
	"testing"
	"time"
)

// StartTarget runs the real target binary on a free loopback port until
// the test ends, waits until it is ready and returns its base URL. args
// are extra flags.
func StartTarget(t testing.TB, args ...string) string {
	t.Helper()
	addr := FreeAddr(t)
	p := Start(t, t.TempDir(), "target", filepath.Join(Binaries(t), "target"), addr, append([]string{"--listen", addr}, args...)...)
	WaitReady(t, p.URL()+"/readyz", 30*time.Second)
	return p.URL()
}
