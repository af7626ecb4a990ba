// Package coord is Stampede's coordination layer over ZooKeeper, and the only
// importer of go-zookeeper. It offers context-first calls with timeouts,
// session-state notifications, ephemeral registrations that survive session
// expiry, leader election whose leadership is a context, and fenced writes.
//
// The traps it handles (docs/architecture.md, "ZooKeeper client rules"): the library's
// event channel drops events when not drained; after expiry the library
// silently opens a new session and every ephemeral node is gone; a call
// made while disconnected blocks until reconnection; a create whose reply
// was lost may still have happened; a partitioned client learns of expiry
// only after it reconnects, so leadership must end on disconnection.
package coord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Config configures a Client.
type Config struct {
	// Servers is a comma-separated host:port list.
	Servers string
	// SessionTimeout is requested from the server, which clamps it to
	// [2, 20] × its tickTime.
	SessionTimeout time.Duration
	// OpTimeout bounds every call that has no earlier context deadline.
	OpTimeout time.Duration
	// Auth is the ZooKeeper digest identity "user:password" (see acl.go);
	// empty means none, and nodes are created open to everyone.
	Auth   string
	Logger *slog.Logger
}

// DefaultConfig returns the configuration used by the binaries.
func DefaultConfig(servers string) Config {
	return Config{Servers: servers, SessionTimeout: 10 * time.Second, OpTimeout: 10 * time.Second, Logger: slog.Default()}
}

// ConnState is the client's view of its session.
type ConnState int

// Connection states.
const (
	// Disconnected: no usable session right now (may come back the same).
	Disconnected ConnState = iota
	// Connected: a session exists and the connection is up.
	Connected
)

func (s ConnState) String() string {
	if s == Connected {
		return "connected"
	}
	return "disconnected"
}

// Session is a snapshot of the connection: its state, the session id and a
// generation that increases with every new session (after an expiry).
type Session struct {
	State      ConnState
	ID         int64
	Generation int64
	Server     string
}

// Client is a ZooKeeper session with Stampede's recipes. It is safe for
// concurrent use. Close ends the session, which deletes every ephemeral node.
type Client struct {
	cfg  Config
	conn backend
	log  *slog.Logger
	acl  []ACL // of every node created

	mu      sync.Mutex
	sess    Session
	subs    map[chan struct{}]struct{}
	regs    map[*Registration]struct{}
	closed  bool
	done    chan struct{}
	wg      sync.WaitGroup
	renewed chan struct{} // closed and replaced whenever a session (re)appears
}

// Dial connects to ZooKeeper and waits until a session exists or ctx ends.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	return dial(ctx, cfg, openZK)
}

// dial opens a backend with open and waits until it has a session.
func dial(ctx context.Context, cfg Config, open func(Config, *slog.Logger) (backend, error)) (*Client, error) {
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 10 * time.Second
	}
	if cfg.OpTimeout == 0 {
		cfg.OpTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Client{
		cfg:     cfg,
		acl:     nodeACL(cfg.Auth),
		log:     cfg.Logger.With("component", "zk"),
		subs:    map[chan struct{}]struct{}{},
		regs:    map[*Registration]struct{}{},
		done:    make(chan struct{}),
		renewed: make(chan struct{}),
	}
	conn, err := open(cfg, c.log)
	if err != nil {
		return nil, err
	}
	c.conn = conn
	c.wg.Add(1)
	conn.Start(c.onSessionEvent, c.wg.Done)

	for {
		c.mu.Lock()
		ok, renewed := c.sess.State == Connected, c.renewed
		c.mu.Unlock()
		if ok {
			if err := c.addAuth(ctx); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		}
		select {
		case <-renewed:
		case <-ctx.Done():
			c.Close()
			return nil, fmt.Errorf("coord: no session with %s: %w", cfg.Servers, ctx.Err())
		}
	}
}

// onSessionEvent turns the backend's session events into Session changes.
// It never calls into the backend other than SessionID.
func (c *Client) onSessionEvent(ev sessionEvent) {
	c.mu.Lock()
	prev := c.sess
	switch ev.State {
	case stateHasSession:
		id := c.conn.SessionID()
		c.sess.State = Connected
		c.sess.Server = ev.Server
		if id != prev.ID {
			if prev.ID != 0 {
				c.log.Warn("new ZooKeeper session after expiry", "old", fmt.Sprintf("%#x", prev.ID), "new", fmt.Sprintf("%#x", id))
			}
			c.sess.ID = id
			c.sess.Generation++
		}
		close(c.renewed)
		c.renewed = make(chan struct{})
	case stateDisconnected:
		c.sess.State = Disconnected
	case stateExpired:
		c.sess.State = Disconnected
		c.log.Warn("ZooKeeper session expired", "session", fmt.Sprintf("%#x", prev.ID))
	}
	changed := c.sess != prev
	newSession := c.sess.Generation != prev.Generation && prev.Generation != 0
	var regs []*Registration
	if newSession {
		for r := range c.regs {
			regs = append(regs, r)
		}
	}
	if changed {
		c.notifyLocked()
	}
	now := c.sess.State
	c.mu.Unlock()
	if changed && prev.State != now {
		c.log.Info("ZooKeeper connection", "state", now.String(), "server", ev.Server)
	}
	for _, r := range regs {
		r.kick()
	}
}

func (c *Client) notifyLocked() {
	for ch := range c.subs {
		select {
		case ch <- struct{}{}:
		default: // a pending signal already says "look again"
		}
	}
}

// Session returns the current session snapshot.
func (c *Client) Session() Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// Servers is the configured server list.
func (c *Client) Servers() string { return c.cfg.Servers }

// SessionTimeout is the configured session timeout.
func (c *Client) SessionTimeout() time.Duration { return c.cfg.SessionTimeout }

// Subscribe returns a channel that receives a signal whenever the session
// snapshot changes, and a function to stop. Signals coalesce: on receipt,
// read Session() for the current state.
func (c *Client) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.subs, ch)
		c.mu.Unlock()
	}
}

// WaitConnected blocks until a session is usable or ctx ends.
func (c *Client) WaitConnected(ctx context.Context) error {
	for {
		c.mu.Lock()
		ok, renewed, closed := c.sess.State == Connected, c.renewed, c.closed
		c.mu.Unlock()
		if closed {
			return ErrClosed
		}
		if ok {
			return nil
		}
		select {
		case <-renewed:
		case <-c.done:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close ends the session (deleting its ephemeral nodes at once) and waits
// up to 2 s for the client's goroutines. It is idempotent.
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	regs := make([]*Registration, 0, len(c.regs))
	for r := range c.regs {
		regs = append(regs, r)
	}
	close(c.done)
	c.mu.Unlock()
	for _, r := range regs {
		r.stop()
	}
	c.conn.Close()
	// The library's loop only sees the close between network operations;
	// a connection stuck in a dead network holds it until its deadline (at
	// most two session timeouts, see cappedDialer). Closing must not wait
	// that long: a process on its way out leaves the goroutine behind.
	waited := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(2 * time.Second):
		c.log.Warn("closed without waiting for a connection stuck in the network")
	}
}

// Errors returned by coord (check with errors.Is).
var (
	ErrNoNode      = errors.New("coord: node does not exist")
	ErrNodeExists  = errors.New("coord: node already exists")
	ErrBadVersion  = errors.New("coord: version conflict")
	ErrNotEmpty    = errors.New("coord: node has children")
	ErrConnection  = errors.New("coord: connection lost (outcome unknown)")
	ErrExpired     = errors.New("coord: session expired")
	ErrTimeout     = errors.New("coord: call timed out")
	ErrClosed      = errors.New("coord: client closed")
	ErrFenced      = errors.New("coord: not the leader (fenced write rejected)")
	ErrNotLeader   = errors.New("coord: leadership lost")
	ErrDataTooLong = errors.New("coord: payload too large for a znode")
	// ErrEphemeralParent: a node cannot be created under an ephemeral one.
	ErrEphemeralParent = errors.New("coord: ephemeral nodes have no children")
	ErrInvalidPath     = errors.New("coord: invalid node path")
	ErrInvalidACL      = errors.New("coord: invalid ACL")
)

// MaxData is the largest payload coord writes; ZooKeeper's limit is about
// 1 MB per request, and Stampede aims far below it.
const MaxData = 512 << 10
