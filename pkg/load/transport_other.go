//go:build !linux

package load

import (
	"context"
	"errors"
)

// haveLoop reports whether this platform has the event-loop transport.
const haveLoop = false

// loopTransports is not available here; canLoop is false, so Prepare uses
// serialTransports.
func (r *Run) loopTransports(context.Context, int) ([]Transport, error) {
	return nil, errors.New("load: no event loop on this platform")
}
