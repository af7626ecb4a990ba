package coord

// A Client's recipes (kept ephemerals, election, fenced multis) run over a
// backend: one connection to a coordination server with its session. Two
// implement it: zkBackend, over go-zookeeper and a real ZooKeeper ensemble
// (Dial), and memBackend, a session of an in-memory MemServer (DialMemory)
// that behaves as ZooKeeper does for everything the recipes use, so that
// the master's and the worker's protocol can be tested in one process in
// seconds. Both pass one conformance suite (conformance_test.go), which is
// what keeps the twin honest.
//
// The contract, which is ZooKeeper's as go-zookeeper presents it:
//   - Every call returns coord's own errors (ErrNoNode, ErrBadVersion, …);
//     a call made while disconnected waits for the connection to come back
//     (the Client bounds it with its context); after Close it fails with
//     ErrClosed.
//   - A watch channel receives exactly one WatchEvent and is then closed.
//     Creating a node fires the exists watches on it and the child watches
//     on its parent; changing its data fires its data and exists watches;
//     deleting it fires its data, exists and child watches and the child
//     watches on its parent. Watches survive a disconnection (events that
//     happened meanwhile arrive after the reconnection); when the session
//     expires or the connection is closed, each gets EventNotWatching with
//     ErrExpired or ErrClosed.
//   - Session events are handed to Start's handle in order, never two at
//     once, until Close: Disconnected when the connection drops, Expired
//     when the client learns that its session is gone (then a new session
//     is opened), HasSession when a session (old or new) is usable. The
//     client hears of a disconnection and an expiry before the watches
//     that end with them do, and before a new session serves a call.
//   - Multi applies every op or none; when an op fails the error is a
//     *MultiError naming the first failing op.
type backend interface {
	Get(p string) ([]byte, Stat, error)
	GetW(p string) ([]byte, Stat, <-chan WatchEvent, error)
	Children(p string) ([]string, error)
	ChildrenW(p string) ([]string, <-chan WatchEvent, error)
	// Exists and ExistsW return ok=false and no error for a missing node.
	Exists(p string) (bool, Stat, error)
	ExistsW(p string) (bool, Stat, <-chan WatchEvent, error)
	Create(p string, data []byte, mode Mode, acl []ACL) (string, error)
	Set(p string, data []byte, version int32) (Stat, error)
	Delete(p string, version int32) error
	Multi(ops []Op, acl []ACL) error
	AddAuth(scheme string, auth []byte) error
	GetACL(p string) ([]ACL, error)
	// SessionID is the current session's id (0 before the first).
	SessionID() int64
	// Start begins handing session events to handle (see above); done is
	// called once after the last one.
	Start(handle func(sessionEvent), done func())
	Close()
}

// sessionState is what a session event says.
type sessionState int

const (
	stateDisconnected sessionState = iota + 1
	stateExpired
	stateHasSession
)

// sessionEvent is one change of the backend's connection or session.
type sessionEvent struct {
	State  sessionState
	Server string
}

// ACL is one access control entry of a node: the permissions Perms granted
// to the identity ID under Scheme ("world"/"anyone", "digest"/"user:hash").
type ACL struct {
	Perms  int32
	Scheme string
	ID     string
}

// Permissions of an ACL entry (ZooKeeper's bits).
const (
	PermRead   int32 = 1 << 0
	PermWrite  int32 = 1 << 1
	PermCreate int32 = 1 << 2
	PermDelete int32 = 1 << 3
	PermAdmin  int32 = 1 << 4
	PermAll          = PermRead | PermWrite | PermCreate | PermDelete | PermAdmin
)
