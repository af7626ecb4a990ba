package k8s_test

import (
	"os"
	"testing"
)

// cleanups run after every test, for resources shared by several tests
// (the Dockerfile build's directory).
var cleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	os.Exit(code)
}
