package coord

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemServer is an in-memory coordination server, the twin of a ZooKeeper
// ensemble for tests: clients opened on it with DialMemory are ordinary
// *Client values, so registrations, elections and fenced writes run
// unchanged, in one process, without a ZooKeeper. It keeps what the
// recipes depend on as ZooKeeper does: versions and stats, sequence
// numbers taken from the parent's child-change count, ephemeral owners,
// one-shot watches with ZooKeeper's event types, atomic multis that name
// the failing op, digest ACLs and the size limit. The conformance suite
// runs the same cases on it and on a real ZooKeeper.
//
// Faults a test needs are methods: Expire ends a session (its ephemerals
// vanish, watches fire, the client opens a new session as go-zookeeper
// does), Partition cuts a client off until Heal (its session expires after
// its timeout, as a server would decide).
type MemServer struct {
	mu       sync.Mutex
	nodes    map[string]*memNode
	sessions map[int64]*memSession // live sessions
	clients  map[int64]*memBackend // the client of every session ever opened
	lastID   int64
	zxid     int64 // the last transaction's id
	// recording: requests keeps every request a client sent (Record)
	recording bool
	requests  []MemRequest
}

// MemRequest is one request a client sent, as Record keeps it: its
// session, its kind (get, getw, children, childrenw, exists, existsw,
// create, set, delete, multi) and the node it names; a multi names each
// op's node in Paths and its kind (create, set, delete, check) in Kinds.
type MemRequest struct {
	Session int64
	Op      string
	Paths   []string
	Kinds   []string
}

// Record starts keeping every request clients send, for a test that counts
// what a client asks; Requests returns them. Off by default (the log grows
// with every request).
func (s *MemServer) Record() {
	s.mu.Lock()
	s.recording = true
	s.mu.Unlock()
}

// Requests is every request sent since Record, oldest first.
func (s *MemServer) Requests() []MemRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

type memNode struct {
	data     []byte
	version  int32
	cversion int32 // children created so far: the next sequence number
	owner    int64
	ctime    int64 // ms
	mtime    int64
	mzxid    int64 // the transaction that last changed it
	acl      []ACL
	kids     map[string]struct{}
}

func (n *memNode) stat() Stat {
	return Stat{
		Version: n.version, EphemeralOwner: n.owner,
		Created: msTime(n.ctime), Modified: msTime(n.mtime),
		NumChildren: int32(len(n.kids)), DataLength: int32(len(n.data)),
		Mzxid: n.mzxid,
	}
}

// watchKind is the kind of a client watch, as go-zookeeper keeps them.
type watchKind int

const (
	watchData  watchKind = iota // GetW, ExistsW of an existing node
	watchExist                  // ExistsW of a missing node
	watchChild                  // ChildrenW
)

type watchKey struct {
	path string
	kind watchKind
}

// memSession is one session on the server.
type memSession struct {
	id      int64
	timeout time.Duration
	auth    map[string]bool // digest identities added with AddAuth
	watches map[watchKey][]chan WatchEvent
	ended   bool        // expired or closed on the server
	conn    *memBackend // the client holding it
}

// maxRequest is ZooKeeper's default request limit (jute.maxbuffer).
const maxRequest = 0xfffff

// NewMemServer returns an empty server holding only "/" and ZooKeeper's own
// "/zookeeper" nodes.
func NewMemServer() *MemServer {
	s := &MemServer{nodes: map[string]*memNode{}, sessions: map[int64]*memSession{}, clients: map[int64]*memBackend{}, lastID: 0x7a00000000}
	open := []ACL{{Perms: PermAll, Scheme: "world", ID: "anyone"}}
	for _, p := range []string{"/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"} {
		s.nodes[p] = &memNode{acl: open, kids: map[string]struct{}{}}
		if p != "/" {
			s.nodes[path.Dir(p)].kids[path.Base(p)] = struct{}{}
		}
	}
	return s
}

// Expire ends a session now, as the server does when it hears nothing for
// a session timeout: its ephemeral nodes are deleted (firing the watches of
// every other session) and its client, when connected, learns it, gets a
// new session and has its own watches end with ErrExpired. A partitioned
// client learns it when healed. Unknown ids are ignored.
func (s *MemServer) Expire(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	if sess == nil {
		return
	}
	s.endLocked(sess)
	if b := sess.conn; b != nil && b.connected && b.sess == sess {
		b.expiredLocked()
	}
}

// Partition cuts the client of session id off the server: its calls wait,
// its session events say Disconnected, and the server expires its session
// after the session timeout unless Heal comes first. Its watches stay and
// fire after Heal for what changed meanwhile.
func (s *MemServer) Partition(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	if sess == nil || sess.conn == nil || !sess.conn.connected || sess.conn.sess != sess {
		return
	}
	sess.conn.disconnectLocked()
	time.AfterFunc(sess.timeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if b := sess.conn; !sess.ended && !b.connected && b.sess == sess {
			s.endLocked(sess)
		}
	})
}

// Heal reconnects the client that held session id: it finds its session
// alive (and gets the watch events it missed) or expired (and opens a new
// one).
func (s *MemServer) Heal(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.clients[id]
	if b != nil && !b.connected && !b.closed && b.sess.id == id {
		b.reconnectLocked()
	}
}

// openLocked starts a session for b.
func (s *MemServer) openLocked(b *memBackend) *memSession {
	s.lastID++
	sess := &memSession{id: s.lastID, timeout: b.timeout, auth: map[string]bool{}, watches: map[watchKey][]chan WatchEvent{}, conn: b}
	s.sessions[sess.id] = sess
	s.clients[sess.id] = b
	return sess
}

// endLocked ends a session on the server: its ephemerals are deleted and
// it is forgotten (its watches are ended by its client, see memBackend).
func (s *MemServer) endLocked(sess *memSession) {
	if sess.ended {
		return
	}
	sess.ended = true
	delete(s.sessions, sess.id) // its own watches no longer fire
	var mine []string
	for p, n := range s.nodes {
		if n.owner == sess.id {
			mine = append(mine, p)
		}
	}
	slices.Sort(mine)
	for _, p := range mine {
		fx := &effects{}
		s.remove(p, fx)
		s.fire(fx)
	}
}

// effects are what one mutation did: how to undo it and which events it
// fires if it stands.
type effects struct {
	undo   []func()
	events []WatchEvent
}

func (fx *effects) rollback() {
	for i := len(fx.undo) - 1; i >= 0; i-- {
		fx.undo[i]()
	}
}

// fire delivers the events of a mutation that stands.
func (s *MemServer) fire(fx *effects) {
	for _, ev := range fx.events {
		var kinds []watchKind
		switch ev.Type {
		case EventCreated:
			kinds = []watchKind{watchExist}
		case EventDataChanged:
			kinds = []watchKind{watchExist, watchData}
		case EventChildrenChanged:
			kinds = []watchKind{watchChild}
		case EventDeleted:
			kinds = []watchKind{watchExist, watchData, watchChild}
		}
		for _, sess := range s.sessions {
			for _, k := range kinds {
				key := watchKey{ev.Path, k}
				for _, ch := range sess.watches[key] {
					sess.conn.deliverLocked(ch, ev)
				}
				delete(sess.watches, key)
			}
		}
	}
}

// now is the server's clock in milliseconds.
func now() int64 { return time.Now().UnixMilli() }

// allowed reports whether sess holds perm on an ACL.
func (sess *memSession) allowed(acl []ACL, perm int32) bool {
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.Scheme == "world" && a.ID == "anyone" || a.Scheme == "digest" && sess.auth[a.ID] {
			return true
		}
	}
	return false
}

// validPath checks a node path as go-zookeeper does before sending it.
func validPath(p string, sequential bool) error {
	bad := p == "" || p[0] != '/' || strings.ContainsRune(p, 0)
	if !bad && p != "/" {
		body := p[1:]
		if sequential && strings.HasSuffix(body, "/") {
			body = strings.TrimSuffix(body, "/") + "/x"
		}
		for _, part := range strings.Split(body, "/") {
			if part == "" || part == "." || part == ".." {
				bad = true
			}
		}
	}
	if bad {
		return fmt.Errorf("%w: %q", ErrInvalidPath, p)
	}
	return nil
}

// create adds a node; the returned path carries the sequence suffix.
func (s *MemServer) create(sess *memSession, p string, data []byte, mode Mode, acl []ACL, fx *effects) (string, error) {
	seq := mode&PersistentSequential != 0
	if err := validPath(p, seq); err != nil {
		return "", err
	}
	if p == "/" {
		return "", ErrNodeExists
	}
	if len(data) > maxRequest {
		return "", ErrDataTooLong
	}
	if len(acl) == 0 {
		return "", ErrInvalidACL
	}
	dir := p[:strings.LastIndexByte(p, '/')]
	if dir == "" {
		dir = "/"
	}
	parent := s.nodes[dir]
	if parent == nil {
		return "", ErrNoNode
	}
	if !sess.allowed(parent.acl, PermCreate) {
		return "", ErrNoAuth
	}
	if seq {
		p += fmt.Sprintf("%010d", parent.cversion)
	}
	if s.nodes[p] != nil {
		return "", ErrNodeExists
	}
	if parent.owner != 0 {
		return "", ErrEphemeralParent
	}
	t := now()
	s.zxid++
	n := &memNode{data: slices.Clone(data), ctime: t, mtime: t, mzxid: s.zxid, acl: slices.Clone(acl), kids: map[string]struct{}{}}
	if mode&Ephemeral != 0 {
		n.owner = sess.id
	}
	name := path.Base(p)
	s.nodes[p] = n
	parent.kids[name] = struct{}{}
	parent.cversion++
	fx.undo = append(fx.undo, func() {
		delete(s.nodes, p)
		delete(parent.kids, name)
		parent.cversion--
	})
	fx.events = append(fx.events, WatchEvent{Type: EventCreated, Path: p}, WatchEvent{Type: EventChildrenChanged, Path: dir})
	return p, nil
}

// set replaces a node's data if version matches (-1: any).
func (s *MemServer) set(sess *memSession, p string, data []byte, version int32, fx *effects) (Stat, error) {
	if err := validPath(p, false); err != nil {
		return Stat{}, err
	}
	if len(data) > maxRequest {
		return Stat{}, ErrDataTooLong
	}
	n := s.nodes[p]
	switch {
	case n == nil:
		return Stat{}, ErrNoNode
	case !sess.allowed(n.acl, PermWrite):
		return Stat{}, ErrNoAuth
	case version != -1 && version != n.version:
		return Stat{}, ErrBadVersion
	}
	old, oldMtime, oldZxid := n.data, n.mtime, n.mzxid
	s.zxid++
	n.data, n.mtime, n.mzxid = slices.Clone(data), now(), s.zxid
	n.version++
	fx.undo = append(fx.undo, func() {
		n.data, n.mtime, n.mzxid = old, oldMtime, oldZxid
		n.version--
	})
	fx.events = append(fx.events, WatchEvent{Type: EventDataChanged, Path: p})
	return n.stat(), nil
}

// del deletes a childless node if version matches (-1: any).
func (s *MemServer) del(sess *memSession, p string, version int32, fx *effects) error {
	if err := validPath(p, false); err != nil {
		return err
	}
	if p == "/" {
		return fmt.Errorf("%w: %q", ErrInvalidPath, p)
	}
	parent := s.nodes[path.Dir(p)]
	if parent == nil {
		return ErrNoNode
	}
	if !sess.allowed(parent.acl, PermDelete) {
		return ErrNoAuth
	}
	n := s.nodes[p]
	switch {
	case n == nil:
		return ErrNoNode
	case version != -1 && version != n.version:
		return ErrBadVersion
	case len(n.kids) > 0:
		return ErrNotEmpty
	}
	s.remove(p, fx)
	return nil
}

// remove deletes node p (which exists and has no children).
func (s *MemServer) remove(p string, fx *effects) {
	n, dir, name := s.nodes[p], path.Dir(p), path.Base(p)
	parent := s.nodes[dir]
	delete(s.nodes, p) // the parent's cversion counts creations only, as in ZooKeeper 3.8
	delete(parent.kids, name)
	fx.undo = append(fx.undo, func() {
		s.nodes[p] = n
		parent.kids[name] = struct{}{}
	})
	fx.events = append(fx.events, WatchEvent{Type: EventDeleted, Path: p}, WatchEvent{Type: EventChildrenChanged, Path: dir})
}

// check asserts a node's version (-1: that it exists).
func (s *MemServer) check(sess *memSession, p string, version int32) error {
	if err := validPath(p, false); err != nil {
		return err
	}
	n := s.nodes[p]
	switch {
	case n == nil:
		return ErrNoNode
	case !sess.allowed(n.acl, PermRead):
		return ErrNoAuth
	case version != -1 && version != n.version:
		return ErrBadVersion
	}
	return nil
}

// multi applies ops atomically.
func (s *MemServer) multi(sess *memSession, ops []Op, acl []ACL) error {
	fx := &effects{}
	size := 0
	for i, o := range ops {
		var err error
		switch v := o.(type) {
		case CreateOp:
			size += len(v.Data)
			_, err = s.create(sess, v.Path, v.Data, v.Mode, acl, fx)
		case SetOp:
			size += len(v.Data)
			_, err = s.set(sess, v.Path, v.Data, v.Version, fx)
		case DeleteOp:
			err = s.del(sess, v.Path, v.Version, fx)
		case CheckOp:
			err = s.check(sess, v.Path, v.Version)
		default:
			err = fmt.Errorf("coord: unknown op %T", o)
		}
		if err == nil && size > maxRequest {
			err = ErrDataTooLong
		}
		if err != nil {
			fx.rollback()
			return &MultiError{Index: i, Path: opPath(o), Err: err}
		}
	}
	s.fire(fx)
	return nil
}

// read returns a node with the permission checked.
func (s *MemServer) read(sess *memSession, p string, perm int32) (*memNode, error) {
	if err := validPath(p, false); err != nil {
		return nil, err
	}
	n := s.nodes[p]
	if n == nil {
		return nil, ErrNoNode
	}
	if !sess.allowed(n.acl, perm) {
		return nil, ErrNoAuth
	}
	return n, nil
}

func (n *memNode) children() []string {
	out := make([]string, 0, len(n.kids))
	for k := range n.kids {
		out = append(out, k)
	}
	return out
}

// watch registers a one-shot watch of sess.
func (sess *memSession) watch(p string, kind watchKind) <-chan WatchEvent {
	ch := make(chan WatchEvent, 1)
	key := watchKey{p, kind}
	sess.watches[key] = append(sess.watches[key], ch)
	return ch
}
