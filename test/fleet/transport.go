package main

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/load/client"
)

// latencies is the fixed distribution a simulated exchange's latency is
// drawn from: per mille cumulative weight → latency.
var latencies = []struct {
	upTo int
	d    time.Duration
}{
	{500, 1 * time.Millisecond},
	{800, 2 * time.Millisecond},
	{950, 5 * time.Millisecond},
	{990, 20 * time.Millisecond},
	{1000, 100 * time.Millisecond},
}

// drawLatency picks one latency from the distribution.
func drawLatency(r *rand.Rand) time.Duration {
	x := r.IntN(1000)
	for _, l := range latencies {
		if x < l.upTo {
			return l.d
		}
	}
	return latencies[len(latencies)-1].d
}

// simTransports opens the run's connections as simulated ones: no socket,
// a 200 answer after a latency drawn from the fixed distribution. seed
// makes each worker's draws its own and repeatable.
func simTransports(seed uint64) load.OpenTransports {
	return func(_ context.Context, conns int) ([]load.Transport, error) {
		out := make([]load.Transport, conns)
		for i := range out {
			out[i] = &simConn{rnd: rand.New(rand.NewPCG(seed, uint64(i)))}
		}
		return out, nil
	}
}

// simConn is one simulated connection, a load.Transport of length 1 that
// keeps the engine's contract: one Done per request sent, waits end when
// stop closes, no exchange lasts past cutoff.
type simConn struct {
	rnd *rand.Rand
}

func (s *simConn) Len() int { return 1 }
func (s *simConn) Close()   {}

// Run drives the connection with d until d retires it.
func (s *simConn) Run(stop <-chan struct{}, cutoff time.Time, d client.Driver) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	now := time.Now()
	for {
		st := d.Next(0, now)
		switch {
		case st.Req != nil:
			res := client.Result{Kind: client.OK, Status: 200, BytesIn: 2}
			end := now.Add(drawLatency(s.rnd))
			if !cutoff.IsZero() && cutoff.Before(end) {
				end, res = cutoff, client.Result{Kind: client.Timeout}
			}
			sleepUntil(timer, end)
			done := time.Now()
			d.Done(0, res, now, done)
			now = done
		case st.Wait > 0:
			timer.Reset(st.Wait)
			select {
			case <-timer.C:
			case <-stop:
				timer.Stop() // no stale value can be received after Stop (Go ≥ 1.23)
			}
			now = time.Now()
		default:
			return
		}
	}
}

// sleepUntil waits on timer (stopped) until t.
func sleepUntil(timer *time.Timer, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer.Reset(d)
	<-timer.C
}
