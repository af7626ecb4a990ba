package client

import "time"

// Driver is the load model as a transport sees it: it decides, for each
// connection of a transport, what to send and when, and takes every
// outcome. A transport (Loop, Serial, or any implementation of the
// engine's Transport interface) calls a Driver's methods from one
// goroutine only, so a Driver needs no locking for its per-connection
// state; connections are numbered 0..Len()-1.
type Driver interface {
	// Next is called when connection i is free (at the start, after each
	// outcome and when a wait ends); now is the transport's current time,
	// which becomes the send time if a request is returned. A transport
	// that batches (Loop after Batch) asks again up to Window before a
	// wait ends, so that one wake-up serves every connection due within
	// Window of it: a driver may then send early or wait again.
	Next(i int, now time.Time) Step
	// Done reports the outcome of connection i's request, sent at sent and
	// finished (response read, or failed) at done.
	Done(i int, res Result, sent, done time.Time)
}

// Step is a Driver's answer for one free connection: exactly one of
//
//   - Req != nil: send Req now;
//   - Wait > 0: ask again after Wait (earlier if the run stops), keeping
//     the connection open, or closing it until then if Idle;
//   - the zero Step: the connection is retired for the rest of the run
//     (the transport closes it).
type Step struct {
	Req  *Request
	Wait time.Duration
	Idle bool
}

// Window is a batching transport's window: a wake-up serves every
// connection whose wait ends within Window of it (see Loop.Batch).
const Window = time.Millisecond
