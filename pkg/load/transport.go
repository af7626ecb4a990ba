package load

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/stampede-load/stampede/pkg/load/client"
	"github.com/stampede-load/stampede/pkg/spec"
)

// Transport carries one lane's exchanges: it owns Len() connections and
// drives them with a load model (a client.Driver), which decides what each
// free connection sends and when. The models are written once against
// this interface; Linux's event loop (client.Loop) and the portable
// goroutine transport (client.Serial) implement it, and so can a
// transport without sockets (a simulator answering after a drawn latency).
//
// The contract an implementation keeps:
//
//   - Run calls the Driver from one goroutine only (the Driver and the
//     lane it records into take no lock), numbering the connections
//     0..Len()-1.
//   - A free connection asks Next(i, now) and obeys the Step: send the
//     request at once (now is its send time), wait and ask again (closing
//     the connection first if Step.Idle), or retire.
//   - Every request sent gets exactly one Done, with its send time and the
//     time its outcome was known; a request that could not be sent at all
//     (say, a refused connect) is a Done with the failure's Kind. Nothing
//     else calls Done.
//   - Closing stop ends every wait at once (the Driver, asked again,
//     retires the connection); exchanges in flight finish, each bounded by
//     the transport's request timeout and by cutoff (zero: none), after
//     which they fail as client.Timeout.
//   - Run returns once every connection is retired and none is in flight.
//     Run is called at most once; Close releases the connections whether
//     or not Run was called, and is called after Run returns.
type Transport interface {
	Len() int
	Run(stop <-chan struct{}, cutoff time.Time, d client.Driver)
	Close()
}

var _ Transport = (*client.Serial)(nil)

// batcher is a Transport that can batch an open model's wake-ups
// (client.Loop): after Batch, it may ask Next for a waiting connection up
// to client.Window before its wait ends.
type batcher interface {
	Batch()
}

// batchOpen switches tr to batching if it can, and returns the window
// within which its driver may send a request early (0 if it cannot).
func batchOpen(tr Transport) time.Duration {
	if b, ok := tr.(batcher); ok {
		b.Batch()
		return client.Window
	}
	return 0
}

// OpenTransports makes the transports of a run with conns connections in
// all, connected and ready; each transport becomes one lane, with its own
// histograms. ctx bounds the connecting.
type OpenTransports func(ctx context.Context, conns int) ([]Transport, error)

// serialTransports is one client.Serial per connection.
func (r *Run) serialTransports(ctx context.Context, conns int) ([]Transport, error) {
	out := make([]Transport, 0, conns)
	var wg sync.WaitGroup
	for range conns {
		if ctx.Err() != nil {
			break
		}
		s := client.NewSerial(r.reqs.endpoints, r.timeout)
		out = append(out, s)
		wg.Go(s.Dial)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		closeAll(out)
		return nil, fmt.Errorf("load: prepare: %w", err)
	}
	return out, nil
}

// h2Protocol reports whether the run sends HTTP/2 (request.protocol).
func (r *Run) h2Protocol() bool {
	p := r.plan.Spec.Request.Protocol
	return p == spec.ProtocolH2 || p == spec.ProtocolH2C
}

// h2Transports is one client.Serial per connection whose exchanges are
// streams of one shared HTTP/2 pool (client.H2Pool): load.concurrency is
// the number of streams in flight, multiplexed over the pool's
// connections.
func (r *Run) h2Transports(ctx context.Context, conns int) ([]Transport, error) {
	r.h2 = client.NewH2Pool(r.reqs.endpoints, r.plan.Spec.Request.Protocol == spec.ProtocolH2C, r.timeout)
	out := make([]Transport, 0, conns)
	for range conns {
		out = append(out, client.NewSerialH2(r.h2, r.reqs.endpoints, r.timeout))
	}
	if err := ctx.Err(); err != nil {
		closeAll(out)
		r.closeH2()
		return nil, fmt.Errorf("load: prepare: %w", err)
	}
	return out, nil
}

func (r *Run) closeH2() {
	if r.h2 != nil {
		r.h2.Close()
	}
}

func closeAll(ts []Transport) {
	for _, t := range ts {
		t.Close()
	}
}
