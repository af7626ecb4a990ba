package agent

import (
	"context"
	"encoding/json"
	"sync"
	"time"

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
}

func newPublisher(base context.Context, a *Agent, test string, rep *reporter) *publisher {
	p := &publisher{a: a, test: test, rep: rep, kick: make(chan struct{}, 1), askAck: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
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

func (p *publisher) offer(r *report.Report) {
	p.mu.Lock()
	p.latest = r
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// loop publishes with base, which a stop does not cancel.
func (p *publisher) loop(base context.Context) {
	defer close(p.done)
	for {
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
		ctx, cancel := context.WithTimeout(base, 3*time.Second)
		err := p.publish(ctx, r, false)
		cancel()
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

// publish writes r with every interval after the leader's merged-through
// watermark to metrics/<worker> (and done/<worker> if final).
func (p *publisher) publish(ctx context.Context, r *report.Report, final bool) error {
	if final {
		// the last word: drop what the leader has merged since the watch said
		if d, _, err := p.a.c.Get(ctx, p.a.p.Merged(p.test)); err == nil {
			p.takeAck(d)
		}
	}
	data := p.rep.withPending(r).Encode()
	if err := p.a.put(ctx, p.a.p.Metrics(p.test, p.a.cfg.ID), data); err != nil {
		return err
	}
	if final {
		return p.a.put(ctx, p.a.p.Done(p.test, p.a.cfg.ID), data)
	}
	return nil
}

// finish stops periodic publishing and writes the final report to both
// metrics/<worker> and done/<worker>, retrying for up to grace.
func (p *publisher) finish(ctx context.Context, final *report.Report, grace time.Duration) {
	close(p.stop)
	<-p.done
	deadline := time.Now().Add(grace)
	for attempt := 0; ; attempt++ {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := p.publish(wctx, final, true)
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
