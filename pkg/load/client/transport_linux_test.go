//go:build linux

package client

import (
	"testing"
	"time"
)

func transportCases() []transportCase {
	return []transportCase{serialCase(), {"loop", func(t *testing.T, ep Endpoint) transport {
		l, err := NewLoop(ep, 1, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		l.Dial()
		return l
	}}}
}
