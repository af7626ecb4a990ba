package agent

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"sync"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
)

// publisher writes the latest report to metrics/<worker> without ever
// blocking the reporter: while ZooKeeper is slow or unreachable, newer
// reports replace older ones (they are cumulative and carry every
// unacknowledged interval, so nothing is lost).
type publisher struct {
	a      *Agent
	test   string
	rep    *reporter
	mu     sync.Mutex
	latest *report.Report
	kick   chan struct{}
	askAck chan struct{} // wantAck to followAck
	stop   chan struct{}
	done   chan struct{}
	// ver is metrics/<worker>'s version after the loop's last write, -1
	// while unknown (before the first write, after a failed one). A
	// periodic write at a known version cannot land after the final report
	// (which moves the version), so finish does not wait for one in flight.
	ver int32 // the loop's only
	// wrote is whether the loop has written metrics/<worker> (the loop's
	// only): its first write creates the node, a second request only if it
	// exists already (see Agent.putNew)
	wrote bool
	// unversioned holds the loop's writes at no known version, which
	// finish waits for; none starts once final is set.
	unversioned sync.Mutex
	final       bool
	// delay is how long after its interval's end a periodic report is
	// written (see reportDelay)
	delay time.Duration
}

func newPublisher(base context.Context, a *Agent, test string, rep *reporter, delay time.Duration) *publisher {
	p := &publisher{a: a, test: test, rep: rep, kick: make(chan struct{}, 1), askAck: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), ver: -1, delay: delay}
	go p.loop(base)
	go p.followAck(base)
	return p
}

// followAck reads the leader's merged-through watermark and forgets what it
// acknowledges, off the publishing path (publishing never waits for it). It
// reads only when asked (askAck: the report carries ackAfter intervals),
// at most once per ackGap, with a plain read rather than a watch: a watch
// would cost ZooKeeper a notification and a read per worker every second,
// as many requests as the reports themselves, to keep a report's earlier
// intervals at none instead of a few. It ends with the final report's
// publishing.
func (p *publisher) followAck(base context.Context) {
	ctx, cancel := context.WithCancel(base)
	defer cancel()
	go func() {
		<-p.done
		cancel()
	}()
	path := p.a.p.Merged(p.test)
	for ctx.Err() == nil {
		select {
		case <-p.askAck:
		case <-ctx.Done():
			return
		}
		// away from the second's boundary, where every worker of the test
		// writes its report at once
		sleep(ctx, time.Until(ackAt(p.rep.startAt, time.Now(), p.a.cfg.ID)))
		if d, _, err := p.a.c.Get(ctx, path); err == nil {
			p.takeAck(d)
		}
		sleep(ctx, ackGap)
	}
}

// A report carrying ackAfter intervals (its own and earlier ones the
// leader has not acknowledged) asks for the watermark, at most once per
// ackGap: in steady state a report repeats one or two earlier intervals and
// the watermark is read every few seconds.
const (
	ackAfter = 3
	ackGap   = time.Second
)

// ackAt is when a worker asked for the watermark at now reads it: in the
// middle part of a second of the run (ackFrom to ackFrom+ackSpread after
// its start, at a point of its own taken from its id), the next such
// instant from now. Every worker of a test writes its report at each
// second's start; reads taken then would queue behind that burst at
// ZooKeeper and delay it, and reads the whole fleet takes at the same
// instant (they fall due together: the reports start together) would be
// a burst of their own.
func ackAt(startAt, now time.Time, worker string) time.Time {
	off := ackFrom + time.Duration(idPoint(worker, uint32(ackSpread/time.Millisecond)))*time.Millisecond
	at := startAt.Add(now.Sub(startAt).Truncate(time.Second) + off)
	if now.Before(startAt) {
		at = startAt.Add(off)
	}
	if at.Before(now) {
		at = at.Add(time.Second)
	}
	return at
}

// The watermark is read between ackFrom and ackFrom+ackSpread into a
// second.
const (
	ackFrom   = 400 * time.Millisecond
	ackSpread = 500 * time.Millisecond
)

// idPoint is a point of worker's own in [0, n), taken from its id.
func idPoint(worker string, n uint32) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(worker))
	return h.Sum32() % max(n, 1)
}

// Every worker of a test closes its second at the same instant, and at
// 2,000 workers ZooKeeper took their 2,000 reports in one burst, the last
// of them queued behind all the others. A worker writes its periodic
// report reportDelay after its interval's end instead: a point of its own,
// taken from its id, within workers × reportSpreadPerWorker (at most
// reportSpreadMax). A worker alone waits at most 150 µs; a fleet of 2,000
// spreads its reports over the first 300 ms of each second, before the
// watermark reads (ackFrom). The final report does not wait.
const (
	reportSpreadPerWorker = 150 * time.Microsecond
	reportSpreadMax       = 300 * time.Millisecond
)

// reportDelay is how long after each second's end worker, one of workers,
// writes its report.
func reportDelay(worker string, workers int) time.Duration {
	span := min(time.Duration(max(workers, 0))*reportSpreadPerWorker, reportSpreadMax)
	return time.Duration(idPoint(worker, uint32(span/time.Microsecond))) * time.Microsecond
}

// awaitTurn waits until r's turn to be written (delay after its
// interval's end); false if publishing stopped meanwhile (the final report
// carries r's intervals).
func (p *publisher) awaitTurn(r *report.Report) bool {
	d := time.Until(time.Unix(0, r.IntervalEnd).Add(p.delay))
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stop:
		return false
	}
}

// wantAck asks followAck for the watermark if enough intervals wait for it.
func (p *publisher) wantAck() {
	if p.rep.unacked() < ackAfter {
		return
	}
	select {
	case p.askAck <- struct{}{}:
	default:
	}
}

// takeAck applies a merged-through payload.
func (p *publisher) takeAck(d []byte) {
	var m proto.Merged
	if len(d) > 0 && json.Unmarshal(d, &m) == nil {
		p.rep.ack(m.Through)
	}
}

// slowWrite is how long after its interval's end a report may be written
// before the worker logs it, with when the write began and how long it took
// (the leader merges no second before every worker's report of it).
const slowWrite = 500 * time.Millisecond

func (p *publisher) offer(r *report.Report) {
	p.mu.Lock()
	p.latest = r
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// loop publishes with base, which a stop does not cancel. Once stopped it
// starts no write: the final report carries every interval still queued.
func (p *publisher) loop(base context.Context) {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		default:
		}
		select {
		case <-p.kick:
		case <-p.stop:
			return
		}
		p.mu.Lock()
		r := p.latest
		p.latest = nil
		p.mu.Unlock()
		if r == nil {
			continue
		}
		if !p.awaitTurn(r) {
			return
		}
		ctx, cancel := context.WithTimeout(base, 3*time.Second)
		began := time.Now()
		err := p.periodic(ctx, r)
		cancel()
		if end := time.Unix(0, r.IntervalEnd); time.Since(end) > slowWrite {
			p.a.log.Info("slow report write", "test", p.test, "seq", r.Seq, "began_ms", began.Sub(end).Milliseconds(),
				"took_ms", time.Since(began).Milliseconds(), "err", err)
		}
		p.wantAck()
		if err != nil {
			p.a.log.Debug("publishing report deferred", "test", p.test, "seq", r.Seq, "err", err)
			p.mu.Lock()
			if p.latest == nil {
				p.latest = r // retry it unless a newer one came
			}
			p.mu.Unlock()
			select {
			case <-time.After(250 * time.Millisecond):
				select {
				case p.kick <- struct{}{}:
				default:
				}
			case <-p.stop:
				return
			}
		}
	}
}

// periodic writes r, with every interval the leader has not acknowledged,
// to metrics/<worker>: one Set at the version of the loop's last write, or
// while that is unknown a write at any version that never starts after the
// final report.
func (p *publisher) periodic(ctx context.Context, r *report.Report) error {
	data := p.rep.withPending(r).Encode()
	path := p.a.p.Metrics(p.test, p.a.cfg.ID)
	if p.ver >= 0 {
		st, err := p.a.c.Set(ctx, path, data, p.ver)
		if err != nil {
			p.ver = -1 // another writer (an earlier process with this id), or no answer
			return err
		}
		p.ver = st.Version
		return nil
	}
	p.unversioned.Lock()
	defer p.unversioned.Unlock()
	if p.final {
		return nil // the final report carries r's intervals
	}
	put := p.a.put
	if !p.wrote {
		put = p.a.putNew
	}
	ver, err := put(ctx, path, data)
	if err == nil {
		p.ver, p.wrote = ver, true
	}
	return err
}

// publishFinal writes the final report, with every interval the leader has
// not acknowledged (bounded by the reporter), to metrics/<worker> and
// done/<worker> in one request: a multi setting the one and creating the
// other. A missing metrics node (no periodic report got through) or an
// existing done node (an earlier attempt whose answer was lost) picks the
// ops of the next try; a report too large for one request is written with
// one request per node.
func (p *publisher) publishFinal(ctx context.Context, r *report.Report) error {
	data := p.rep.withPending(r).Encode()
	metrics, done := p.a.p.Metrics(p.test, p.a.cfg.ID), p.a.p.Done(p.test, p.a.cfg.ID)
	ops := []coord.Op{coord.SetOp{Path: metrics, Data: data, Version: -1}, coord.CreateOp{Path: done, Data: data}}
	for try := 0; ; try++ {
		err := p.a.c.Multi(ctx, ops...)
		var me *coord.MultiError
		switch {
		case errors.Is(err, coord.ErrDataTooLong):
			if _, err := p.a.put(ctx, metrics, data); err != nil {
				return err
			}
			_, err := p.a.put(ctx, done, data)
			return err
		case err == nil || try >= 2 || !errors.As(err, &me):
			return err
		case me.Index == 0 && errors.Is(err, coord.ErrNoNode):
			ops[0] = coord.CreateOp{Path: metrics, Data: data}
		case me.Index == 0 && errors.Is(err, coord.ErrNodeExists):
			ops[0] = coord.SetOp{Path: metrics, Data: data, Version: -1}
		case me.Index == 1 && errors.Is(err, coord.ErrNodeExists):
			ops[1] = coord.SetOp{Path: done, Data: data, Version: -1}
		default:
			return err
		}
	}
}

// finish stops periodic publishing and writes the final report, retrying
// for up to grace. It waits for no periodic write but one at an unknown
// version (see periodic), so the final report goes out at once.
func (p *publisher) finish(ctx context.Context, final *report.Report, grace time.Duration) {
	close(p.stop)
	p.unversioned.Lock()
	p.final = true
	p.unversioned.Unlock()
	deadline := time.Now().Add(grace)
	for attempt := 0; ; attempt++ {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := p.publishFinal(wctx, final)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || (ctx.Err() != nil && attempt >= 3) {
			p.a.log.Error("final report could not be published", "test", p.test, "err", err)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}
