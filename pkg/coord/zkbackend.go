package coord

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-zookeeper/zk"
)

// zkBackend is a backend over go-zookeeper: the real ZooKeeper. It is the
// only code that touches the library's types.
type zkBackend struct {
	conn   *zk.Conn
	events <-chan zk.Event
}

// openZK connects to cfg.Servers. The library's event channel is drained by
// one goroutine for the backend's whole life (the library drops events when
// it is full), which hands the session events on in order.
func openZK(cfg Config, log *slog.Logger) (backend, error) {
	servers := strings.Split(cfg.Servers, ",")
	for i := range servers {
		servers[i] = strings.TrimSpace(servers[i])
	}
	conn, events, err := zk.Connect(servers, cfg.SessionTimeout,
		zk.WithLogger(zkLogger{log}), zk.WithLogInfo(false), zk.WithDialer(cappedDialer(2*cfg.SessionTimeout)))
	if err != nil {
		return nil, fmt.Errorf("coord: connect %s: %w", cfg.Servers, err)
	}
	return &zkBackend{conn: conn, events: events}, nil
}

// Start drains the library's events in one goroutine (it buffers a few
// until then).
func (b *zkBackend) Start(handle func(sessionEvent), done func()) {
	go func() {
		defer done()
		b.drain(handle)
	}()
}

func (b *zkBackend) drain(handle func(sessionEvent)) {
	for ev := range b.events {
		if ev.Type != zk.EventSession {
			continue
		}
		var st sessionState
		switch ev.State {
		case zk.StateHasSession:
			st = stateHasSession
		case zk.StateDisconnected, zk.StateConnecting:
			st = stateDisconnected
		case zk.StateExpired:
			st = stateExpired
		default:
			continue
		}
		handle(sessionEvent{State: st, Server: ev.Server})
	}
}

func (b *zkBackend) SessionID() int64 { return b.conn.SessionID() }
func (b *zkBackend) Close()           { b.conn.Close() }

func (b *zkBackend) Get(p string) ([]byte, Stat, error) {
	d, s, err := b.conn.Get(p)
	return d, toStat(s), translate(err)
}

func (b *zkBackend) GetW(p string) ([]byte, Stat, <-chan WatchEvent, error) {
	d, s, ch, err := b.conn.GetW(p)
	if err != nil {
		return nil, Stat{}, nil, translate(err)
	}
	return d, toStat(s), zkWatch(ch), nil
}

func (b *zkBackend) Children(p string) ([]string, error) {
	n, _, err := b.conn.Children(p)
	return n, translate(err)
}

func (b *zkBackend) ChildrenW(p string) ([]string, <-chan WatchEvent, error) {
	n, _, ch, err := b.conn.ChildrenW(p)
	if err != nil {
		return nil, nil, translate(err)
	}
	return n, zkWatch(ch), nil
}

func (b *zkBackend) Exists(p string) (bool, Stat, error) {
	ok, s, err := b.conn.Exists(p)
	if !ok || err != nil {
		return false, Stat{}, translate(err)
	}
	return true, toStat(s), nil
}

func (b *zkBackend) ExistsW(p string) (bool, Stat, <-chan WatchEvent, error) {
	ok, s, ch, err := b.conn.ExistsW(p)
	if err != nil {
		return false, Stat{}, nil, translate(err)
	}
	if !ok {
		s = nil
	}
	return ok, toStat(s), zkWatch(ch), nil
}

func (b *zkBackend) Create(p string, data []byte, mode Mode, acl []ACL) (string, error) {
	got, err := b.conn.Create(p, data, int32(mode), zkACL(acl))
	return got, translate(err)
}

func (b *zkBackend) Set(p string, data []byte, version int32) (Stat, error) {
	s, err := b.conn.Set(p, data, version)
	return toStat(s), translate(err)
}

func (b *zkBackend) Delete(p string, version int32) error {
	return translate(b.conn.Delete(p, version))
}

func (b *zkBackend) AddAuth(scheme string, auth []byte) error {
	return translate(b.conn.AddAuth(scheme, auth))
}

func (b *zkBackend) GetACL(p string) ([]ACL, error) {
	a, _, err := b.conn.GetACL(p)
	if err != nil {
		return nil, translate(err)
	}
	out := make([]ACL, len(a))
	for i, e := range a {
		out[i] = ACL{Perms: e.Perms, Scheme: e.Scheme, ID: e.ID}
	}
	return out, nil
}

func (b *zkBackend) Multi(ops []Op, acl []ACL) error {
	zops := make([]any, len(ops))
	zacl := zkACL(acl)
	for i, o := range ops {
		switch v := o.(type) {
		case CreateOp:
			zops[i] = &zk.CreateRequest{Path: v.Path, Data: v.Data, Acl: zacl, Flags: int32(v.Mode)}
		case SetOp:
			zops[i] = &zk.SetDataRequest{Path: v.Path, Data: v.Data, Version: v.Version}
		case DeleteOp:
			zops[i] = &zk.DeleteRequest{Path: v.Path, Version: v.Version}
		case CheckOp:
			zops[i] = &zk.CheckVersionRequest{Path: v.Path, Version: v.Version}
		}
	}
	res, err := b.conn.Multi(zops...)
	if err == nil {
		return nil
	}
	for i, r := range res {
		if r.Error != nil { // the first failure; later ops report "not run"
			return &MultiError{Index: i, Path: opPath(ops[i]), Err: translate(r.Error)}
		}
	}
	return translate(err)
}

func zkACL(acl []ACL) []zk.ACL {
	out := make([]zk.ACL, len(acl))
	for i, a := range acl {
		out[i] = zk.ACL{Perms: a.Perms, Scheme: a.Scheme, ID: a.ID}
	}
	return out
}

func toStat(s *zk.Stat) Stat {
	if s == nil {
		return Stat{}
	}
	return Stat{
		Version:        s.Version,
		EphemeralOwner: s.EphemeralOwner,
		Created:        msTime(s.Ctime),
		Modified:       msTime(s.Mtime),
		NumChildren:    s.NumChildren,
		DataLength:     s.DataLength,
		Mzxid:          s.Mzxid,
	}
}

// zkWatch turns the library's one-shot watch channel into ours.
func zkWatch(in <-chan zk.Event) <-chan WatchEvent {
	out := make(chan WatchEvent, 1)
	go func() {
		defer close(out)
		ev, ok := <-in
		if !ok {
			out <- WatchEvent{Type: EventNotWatching, Err: ErrClosed}
			return
		}
		we := WatchEvent{Path: ev.Path, Err: translate(ev.Err)}
		switch ev.Type {
		case zk.EventNodeCreated:
			we.Type = EventCreated
		case zk.EventNodeDeleted:
			we.Type = EventDeleted
		case zk.EventNodeDataChanged:
			we.Type = EventDataChanged
		case zk.EventNodeChildrenChanged:
			we.Type = EventChildrenChanged
		default:
			we.Type = EventNotWatching
		}
		out <- we
	}()
	return out
}

// zkLogger routes the library's log lines to slog at debug level.
type zkLogger struct{ l *slog.Logger }

func (z zkLogger) Printf(format string, args ...any) {
	z.l.Debug(fmt.Sprintf(format, args...))
}

// translate maps the library's errors to coord's.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, zk.ErrNoNode):
		return ErrNoNode
	case errors.Is(err, zk.ErrNodeExists):
		return ErrNodeExists
	case errors.Is(err, zk.ErrBadVersion):
		return ErrBadVersion
	case errors.Is(err, zk.ErrNotEmpty):
		return ErrNotEmpty
	case errors.Is(err, zk.ErrNoChildrenForEphemerals):
		return ErrEphemeralParent
	case errors.Is(err, zk.ErrInvalidPath):
		return fmt.Errorf("%w: %w", ErrInvalidPath, err)
	case errors.Is(err, zk.ErrInvalidACL):
		return ErrInvalidACL
	case errors.Is(err, zk.ErrConnectionClosed), errors.Is(err, zk.ErrNoServer), errors.Is(err, zk.ErrSessionMoved):
		return fmt.Errorf("%w: %w", ErrConnection, err)
	case errors.Is(err, zk.ErrSessionExpired):
		return ErrExpired
	case errors.Is(err, zk.ErrClosing):
		return ErrClosed
	case errors.Is(err, zk.ErrNoAuth):
		return ErrNoAuth
	}
	return fmt.Errorf("coord: %w", err)
}
