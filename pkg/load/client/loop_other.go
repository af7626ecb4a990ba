//go:build !linux

package client

import (
	"errors"
	"sync/atomic"
	"time"
)

// LoopSupported reports whether this platform has the event loop.
const LoopSupported = false

// Loop is the Linux event loop; elsewhere NewLoop fails and the engine
// uses one goroutine per connection.
type Loop struct{}

// Driver feeds a Loop's connections (see the Linux implementation).
type Driver interface {
	Next(i int, now time.Time) (req *Request, wait time.Duration, ok bool)
	Done(i int, res Result, sent, done time.Time)
}

// NewLoop is not available on this platform.
func NewLoop(Endpoint, int, time.Duration) (*Loop, error) {
	return nil, errors.New("client: no event loop on this platform")
}

func (*Loop) Dial()                    {}
func (*Loop) SetCutoff(time.Time)      {}
func (*Loop) Len() int                 { return 0 }
func (*Loop) Close()                   {}
func (*Loop) Run(*atomic.Bool, Driver) {}
