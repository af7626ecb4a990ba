package client

import "time"

// Serial is the portable transport: one goroutine (the caller of Run)
// driving one logical connection, exchange after exchange, with one Conn
// per endpoint (a request goes to its Spec.Endpoint) and Go timers for the
// waits. It works on every platform and speaks TLS; it costs a goroutine
// per connection, and its waits can end up to about a millisecond late on
// an idle process.
type Serial struct {
	conns   []exchanger
	timeout time.Duration
}

// exchanger is one endpoint's way of sending: a Conn (HTTP/1.1) or an
// HTTP/2 stream of a shared pool (h2.go).
type exchanger interface {
	Dial() Kind
	DoBy(req *Request, deadline time.Time) Result
	Close()
}

// NewSerial prepares one connection to each endpoint, each exchange
// bounded by timeout.
func NewSerial(eps []Endpoint, timeout time.Duration) *Serial {
	s := &Serial{timeout: timeout}
	for _, ep := range eps {
		s.conns = append(s.conns, NewConn(ep, timeout))
	}
	return s
}

// Len is 1: a Serial is one logical connection.
func (s *Serial) Len() int { return 1 }

// Dial opens every connection ahead of the run. Failures are not fatal:
// the run re-dials and counts the errors.
func (s *Serial) Dial() {
	for _, c := range s.conns {
		c.Dial()
	}
}

// Close closes every connection.
func (s *Serial) Close() {
	for _, c := range s.conns {
		c.Close()
	}
}

// Run drives the connection with d until d retires it. A wait ends early
// when stop is closed (d then decides what to do). No exchange lasts past
// cutoff (zero: no cutoff) or its timeout.
func (s *Serial) Run(stop <-chan struct{}, cutoff time.Time, d Driver) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	now := time.Now()
	for {
		st := d.Next(0, now)
		switch {
		case st.Req != nil:
			deadline := now.Add(s.timeout)
			if !cutoff.IsZero() && cutoff.Before(deadline) {
				deadline = cutoff
			}
			res := Result{Kind: Other}
			if ep := st.Req.endpoint; ep >= 0 && ep < len(s.conns) {
				res = s.conns[ep].DoBy(st.Req, deadline)
			}
			done := time.Now()
			d.Done(0, res, now, done)
			now = done
		case st.Wait > 0:
			if st.Idle {
				s.Close()
			}
			timer.Reset(st.Wait)
			select {
			case <-timer.C:
			case <-stop:
			}
			now = time.Now()
		default:
			s.Close()
			return
		}
	}
}
