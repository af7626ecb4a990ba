package coord

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// DialMemory opens a Client on an in-memory server (see MemServer). cfg's
// SessionTimeout, OpTimeout, Auth and Logger apply as with Dial; Servers is
// only a label.
func DialMemory(ctx context.Context, srv *MemServer, cfg Config) (*Client, error) {
	if cfg.Servers == "" {
		cfg.Servers = "memory"
	}
	return dial(ctx, cfg, func(cfg Config, _ *slog.Logger) (backend, error) { return srv.connect(cfg), nil })
}

// memBackend is one client's connection to a MemServer, which behaves as
// go-zookeeper's does: calls wait while it is cut off, watch events that
// happened meanwhile arrive when it is back, and after an expiry it opens
// a new session (sending its credentials again).
type memBackend struct {
	srv     *MemServer
	timeout time.Duration
	label   string
	id      atomic.Int64

	// guarded by srv.mu
	sess      *memSession
	connected bool
	closed    bool
	up        chan struct{} // closed while connected, and once closed
	pending   []heldEvent   // watch events held while cut off
	creds     [][]byte      // digest credentials, sent to every new session

	handle func(sessionEvent) // nil until Start
	queue  []sessionEvent     // held until Start
	done   func()
}

type heldEvent struct {
	ch chan WatchEvent
	ev WatchEvent
}

func (s *MemServer) connect(cfg Config) *memBackend {
	b := &memBackend{srv: s, timeout: cfg.SessionTimeout, label: cfg.Servers, up: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	b.newSessionLocked()
	return b
}

// Start hands the events so far to handle, and every later one as it
// happens, under the server's lock: the client knows of a change of its
// session before any watch fires or call runs because of it.
func (b *memBackend) Start(handle func(sessionEvent), done func()) {
	b.srv.mu.Lock()
	defer b.srv.mu.Unlock()
	b.handle, b.done = handle, done
	for _, ev := range b.queue {
		handle(ev)
	}
	b.queue = nil
}

func (b *memBackend) emit(st sessionState) {
	ev := sessionEvent{State: st, Server: b.label}
	if b.handle == nil {
		b.queue = append(b.queue, ev)
		return
	}
	b.handle(ev)
}

func (b *memBackend) newSessionLocked() {
	b.sess = b.srv.openLocked(b)
	for _, c := range b.creds {
		b.sess.auth[digestID(string(c))] = true
	}
	b.id.Store(b.sess.id)
	b.connected = true
	close(b.up)
	b.emit(stateHasSession)
}

func (b *memBackend) disconnectLocked() {
	b.connected = false
	b.up = make(chan struct{})
	b.emit(stateDisconnected)
}

func (b *memBackend) reconnectLocked() {
	if b.sess.ended {
		b.expiredLocked()
		return
	}
	b.connected = true
	close(b.up)
	b.emit(stateHasSession)
	held := b.pending
	b.pending = nil
	for _, h := range held {
		h.ch <- h.ev
		close(h.ch)
	}
}

// expiredLocked is the client learning that its session is gone: its
// watches end, and a new session is opened.
func (b *memBackend) expiredLocked() {
	b.endWatchesLocked(ErrExpired)
	if b.connected {
		b.disconnectLocked()
	}
	b.emit(stateExpired)
	b.newSessionLocked()
}

// endWatchesLocked ends every watch of the current session with err.
func (b *memBackend) endWatchesLocked(err error) {
	for key, chans := range b.sess.watches {
		for _, ch := range chans {
			ch <- WatchEvent{Type: EventNotWatching, Path: key.path, Err: err}
			close(ch)
		}
	}
	b.sess.watches = map[watchKey][]chan WatchEvent{}
	for _, h := range b.pending {
		h.ch <- WatchEvent{Type: EventNotWatching, Path: h.ev.Path, Err: err}
		close(h.ch)
	}
	b.pending = nil
}

// deliverLocked hands a fired watch its event, or holds it while cut off.
func (b *memBackend) deliverLocked(ch chan WatchEvent, ev WatchEvent) {
	if !b.connected {
		b.pending = append(b.pending, heldEvent{ch, ev})
		return
	}
	ch <- ev
	close(ch)
}

// do runs f on the server once connected.
func (b *memBackend) do(f func(s *MemServer, sess *memSession) error) error {
	for {
		b.srv.mu.Lock()
		if b.closed {
			b.srv.mu.Unlock()
			return ErrClosed
		}
		if b.connected {
			err := f(b.srv, b.sess)
			b.srv.mu.Unlock()
			return err
		}
		up := b.up
		b.srv.mu.Unlock()
		<-up
	}
}

func (b *memBackend) SessionID() int64 { return b.id.Load() }

// Close ends the session at once when connected (a cut-off client's
// session lives on until the server expires it, as with ZooKeeper).
func (b *memBackend) Close() {
	b.srv.mu.Lock()
	if b.closed {
		b.srv.mu.Unlock()
		return
	}
	b.closed = true
	if b.connected {
		b.srv.endLocked(b.sess)
	} else {
		close(b.up)
	}
	b.connected = false
	b.endWatchesLocked(ErrClosed)
	done := b.done
	b.srv.mu.Unlock()
	if done != nil {
		done()
	}
}

func (b *memBackend) Get(p string) (data []byte, st Stat, err error) {
	b.note("get", p)
	err = b.do(func(s *MemServer, sess *memSession) error {
		n, err := s.read(sess, p, PermRead)
		if err == nil {
			data, st = clone(n.data), n.stat()
		}
		return err
	})
	return data, st, err
}

func (b *memBackend) GetW(p string) (data []byte, st Stat, w <-chan WatchEvent, err error) {
	b.note("getw", p)
	err = b.do(func(s *MemServer, sess *memSession) error {
		n, err := s.read(sess, p, PermRead)
		if err == nil {
			data, st, w = clone(n.data), n.stat(), sess.watch(p, watchData)
		}
		return err
	})
	return data, st, w, err
}

func (b *memBackend) Children(p string) (names []string, err error) {
	b.note("children", p)
	err = b.do(func(s *MemServer, sess *memSession) error {
		n, err := s.read(sess, p, PermRead)
		if err == nil {
			names = n.children()
		}
		return err
	})
	return names, err
}

func (b *memBackend) ChildrenW(p string) (names []string, w <-chan WatchEvent, err error) {
	b.note("childrenw", p)
	err = b.do(func(s *MemServer, sess *memSession) error {
		n, err := s.read(sess, p, PermRead)
		if err == nil {
			names, w = n.children(), sess.watch(p, watchChild)
		}
		return err
	})
	return names, w, err
}

// Exists checks no permission, as ZooKeeper 3.8 does.
func (b *memBackend) Exists(p string) (ok bool, st Stat, err error) {
	b.note("exists", p)
	err = b.do(func(s *MemServer, _ *memSession) error {
		if err := validPath(p, false); err != nil {
			return err
		}
		if n := s.nodes[p]; n != nil {
			ok, st = true, n.stat()
		}
		return nil
	})
	return ok, st, err
}

func (b *memBackend) ExistsW(p string) (ok bool, st Stat, w <-chan WatchEvent, err error) {
	b.note("existsw", p)
	err = b.do(func(s *MemServer, sess *memSession) error {
		if err := validPath(p, false); err != nil {
			return err
		}
		if n := s.nodes[p]; n != nil {
			ok, st, w = true, n.stat(), sess.watch(p, watchData)
		} else {
			w = sess.watch(p, watchExist)
		}
		return nil
	})
	return ok, st, w, err
}

func (b *memBackend) Create(p string, data []byte, mode Mode, acl []ACL) (got string, err error) {
	b.note("create", p)
	err = b.do(func(s *MemServer, sess *memSession) error {
		fx := &effects{}
		var err error
		if got, err = s.create(sess, p, data, mode, acl, fx); err == nil {
			s.fire(fx)
		}
		return err
	})
	return got, err
}

func (b *memBackend) Set(p string, data []byte, version int32) (st Stat, err error) {
	b.note("set", p)
	err = b.do(func(s *MemServer, sess *memSession) error {
		fx := &effects{}
		var err error
		if st, err = s.set(sess, p, data, version, fx); err == nil {
			s.fire(fx)
		}
		return err
	})
	return st, err
}

func (b *memBackend) Delete(p string, version int32) error {
	b.note("delete", p)
	return b.do(func(s *MemServer, sess *memSession) error {
		fx := &effects{}
		err := s.del(sess, p, version, fx)
		if err == nil {
			s.fire(fx)
		}
		return err
	})
}

func (b *memBackend) Multi(ops []Op, acl []ACL) error {
	b.noteMulti(ops)
	return b.do(func(s *MemServer, sess *memSession) error { return s.multi(sess, ops, acl) })
}

func (b *memBackend) AddAuth(scheme string, auth []byte) error {
	if scheme != "digest" {
		return fmt.Errorf("coord: auth scheme %q: only digest is supported", scheme)
	}
	return b.do(func(_ *MemServer, sess *memSession) error {
		b.creds = append(b.creds, clone(auth))
		sess.auth[digestID(string(auth))] = true
		return nil
	})
}

func (b *memBackend) GetACL(p string) (acl []ACL, err error) {
	err = b.do(func(s *MemServer, sess *memSession) error {
		n, err := s.read(sess, p, PermRead|PermAdmin)
		if err == nil {
			acl = clone(n.acl)
		}
		return err
	})
	return acl, err
}

func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// note logs a request while the server records them (Record).
func (b *memBackend) note(op string, p string) {
	b.srv.mu.Lock()
	defer b.srv.mu.Unlock()
	if b.srv.recording {
		b.srv.requests = append(b.srv.requests, MemRequest{Session: b.id.Load(), Op: op, Paths: []string{p}})
	}
}

// noteMulti logs a multi, naming each of its ops.
func (b *memBackend) noteMulti(ops []Op) {
	b.srv.mu.Lock()
	defer b.srv.mu.Unlock()
	if !b.srv.recording {
		return
	}
	r := MemRequest{Session: b.id.Load(), Op: "multi"}
	for _, o := range ops {
		kind := "check"
		switch o.(type) {
		case CreateOp:
			kind = "create"
		case SetOp:
			kind = "set"
		case DeleteOp:
			kind = "delete"
		}
		r.Paths, r.Kinds = append(r.Paths, opPath(o)), append(r.Kinds, kind)
	}
	b.srv.requests = append(b.srv.requests, r)
}
