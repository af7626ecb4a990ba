package coord

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// Stat is the metadata of a znode.
type Stat struct {
	Version        int32
	EphemeralOwner int64
	Created        time.Time
	Modified       time.Time
	NumChildren    int32
	DataLength     int32
	// Mzxid is the transaction id of the node's last change. Unlike
	// Version it never repeats for a path, even across a delete and a
	// re-create, so (path, Mzxid) names one content of a node.
	Mzxid int64
}

// msTime is a server timestamp in milliseconds since the epoch.
func msTime(ms int64) time.Time { return time.UnixMilli(ms) }

// EventType says what a watch saw.
type EventType int

// Watch event types.
const (
	EventCreated EventType = iota + 1
	EventDeleted
	EventDataChanged
	EventChildrenChanged
	// EventNotWatching: the watch ended without a change (session expired
	// or client closed); re-read and re-arm.
	EventNotWatching
)

// WatchEvent is delivered once on a watch channel, which is then closed.
type WatchEvent struct {
	Type EventType
	Path string
	Err  error
}

// call runs f with the context's deadline (or OpTimeout). A backend call
// cannot be cancelled: an abandoned call finishes in the background (the
// ZooKeeper library flushes it when it can), and its outcome is unknown to
// the caller.
func call[T any](ctx context.Context, c *Client, f func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return zero, ErrClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.OpTimeout)
		defer cancel()
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return zero, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
		}
		return zero, ctx.Err()
	}
}

// Get reads a node.
func (c *Client) Get(ctx context.Context, p string) ([]byte, Stat, error) {
	r, err := call(ctx, c, func() (nodeResult, error) {
		d, s, err := c.conn.Get(p)
		return nodeResult{data: d, stat: s}, err
	})
	return r.data, r.stat, err
}

// Read is one node's answer to GetMany.
type Read struct {
	Data []byte
	Stat Stat
	Err  error
}

// getManyWidth is how many requests GetMany and ExistsMany have in flight at once: one at a
// time, a round trip each, the 2,000 registrations or votes of a large
// fleet took one to two seconds.
const getManyWidth = 16

// GetMany reads every node of paths, a few at a time (pipelined on the one
// connection), and returns their answers in the order of paths.
func (c *Client) GetMany(ctx context.Context, paths []string) []Read {
	out := make([]Read, len(paths))
	many(len(paths), func(i int) {
		r := &out[i]
		r.Data, r.Stat, r.Err = c.Get(ctx, paths[i])
	})
	return out
}

// ExistsMany checks every node of paths as GetMany reads them, answering
// each with its Stat, or ErrNoNode if it does not exist (no Data).
func (c *Client) ExistsMany(ctx context.Context, paths []string) []Read {
	out := make([]Read, len(paths))
	many(len(paths), func(i int) {
		r := &out[i]
		var ok bool
		ok, r.Stat, r.Err = c.Exists(ctx, paths[i])
		if r.Err == nil && !ok {
			r.Err = ErrNoNode
		}
	})
	return out
}

// many calls do(i) for every i below n, getManyWidth at a time.
func many(n int, do func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(getManyWidth, n) {
		wg.Go(func() {
			for i := range next {
				do(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// nodeResult is what a read returns through call.
type nodeResult struct {
	data  []byte
	names []string
	stat  Stat
	ok    bool
	ch    <-chan WatchEvent
}

// GetW reads a node and watches it for a change or deletion.
func (c *Client) GetW(ctx context.Context, p string) ([]byte, Stat, <-chan WatchEvent, error) {
	r, err := call(ctx, c, func() (nodeResult, error) {
		d, s, ch, err := c.conn.GetW(p)
		return nodeResult{data: d, stat: s, ch: ch}, err
	})
	if err != nil {
		return nil, Stat{}, nil, err
	}
	return r.data, r.stat, r.ch, nil
}

// Children lists a node's children, sorted.
func (c *Client) Children(ctx context.Context, p string) ([]string, error) {
	r, err := call(ctx, c, func() (nodeResult, error) {
		n, err := c.conn.Children(p)
		return nodeResult{names: n}, err
	})
	sort.Strings(r.names)
	return r.names, err
}

// ChildrenW lists a node's children and watches the list.
func (c *Client) ChildrenW(ctx context.Context, p string) ([]string, <-chan WatchEvent, error) {
	r, err := call(ctx, c, func() (nodeResult, error) {
		n, ch, err := c.conn.ChildrenW(p)
		return nodeResult{names: n, ch: ch}, err
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(r.names)
	return r.names, r.ch, nil
}

// Exists reports whether a node exists.
func (c *Client) Exists(ctx context.Context, p string) (bool, Stat, error) {
	r, err := call(ctx, c, func() (nodeResult, error) {
		ok, s, err := c.conn.Exists(p)
		return nodeResult{ok: ok, stat: s}, err
	})
	return r.ok, r.stat, err
}

// ExistsW reports whether a node exists and watches for its creation,
// change or deletion.
func (c *Client) ExistsW(ctx context.Context, p string) (bool, <-chan WatchEvent, error) {
	ok, _, ch, err := c.ExistsWStat(ctx, p)
	return ok, ch, err
}

// ExistsWStat is ExistsW with the node's stat (zero if it does not exist),
// in the one request.
func (c *Client) ExistsWStat(ctx context.Context, p string) (bool, Stat, <-chan WatchEvent, error) {
	r, err := call(ctx, c, func() (nodeResult, error) {
		ok, s, ch, err := c.conn.ExistsW(p)
		return nodeResult{ok: ok, stat: s, ch: ch}, err
	})
	if err != nil {
		return false, Stat{}, nil, err
	}
	return r.ok, r.stat, r.ch, nil
}

// Mode is how a node is created.
type Mode int32

// Creation modes.
const (
	Persistent           Mode = 0
	Ephemeral            Mode = 1
	PersistentSequential Mode = 2
	EphemeralSequential  Mode = Ephemeral | PersistentSequential
)

// Create creates a node and returns its actual path.
func (c *Client) Create(ctx context.Context, p string, data []byte, mode Mode) (string, error) {
	if len(data) > MaxData {
		return "", fmt.Errorf("%w: %s is %d bytes", ErrDataTooLong, p, len(data))
	}
	return call(ctx, c, func() (string, error) { return c.conn.Create(p, data, mode, c.acl) })
}

// EnsurePath creates p and its missing parents as empty persistent nodes.
func (c *Client) EnsurePath(ctx context.Context, p string) error {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	cur := ""
	for _, part := range parts {
		cur += "/" + part
		_, err := c.Create(ctx, cur, nil, Persistent)
		if err != nil && !errors.Is(err, ErrNodeExists) {
			return fmt.Errorf("coord: ensure %s: %w", cur, err)
		}
	}
	return nil
}

// Set writes a node's data if its version matches (-1: any version).
func (c *Client) Set(ctx context.Context, p string, data []byte, version int32) (Stat, error) {
	if len(data) > MaxData {
		return Stat{}, fmt.Errorf("%w: %s is %d bytes", ErrDataTooLong, p, len(data))
	}
	return call(ctx, c, func() (Stat, error) { return c.conn.Set(p, data, version) })
}

// Delete removes a node if its version matches (-1: any version).
func (c *Client) Delete(ctx context.Context, p string, version int32) error {
	_, err := call(ctx, c, func() (struct{}, error) { return struct{}{}, c.conn.Delete(p, version) })
	return err
}

// DeleteTree removes a node and everything below it. Missing nodes are not
// an error.
func (c *Client) DeleteTree(ctx context.Context, p string) error {
	kids, err := c.Children(ctx, p)
	if errors.Is(err, ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, k := range kids {
		if err := c.DeleteTree(ctx, path.Join(p, k)); err != nil {
			return err
		}
	}
	err = c.Delete(ctx, p, -1)
	if errors.Is(err, ErrNoNode) {
		return nil
	}
	return err
}

// Op is one operation of a Multi.
type Op interface{ isOp() }

// CreateOp creates a node.
type CreateOp struct {
	Path string
	Data []byte
	Mode Mode
}

// SetOp writes a node's data.
type SetOp struct {
	Path    string
	Data    []byte
	Version int32
}

// DeleteOp deletes a node.
type DeleteOp struct {
	Path    string
	Version int32
}

// CheckOp asserts a node's version (-1: that it exists).
type CheckOp struct {
	Path    string
	Version int32
}

func (CreateOp) isOp() {}
func (SetOp) isOp()    {}
func (DeleteOp) isOp() {}
func (CheckOp) isOp()  {}

// opPath is the node an op acts on.
func opPath(o Op) string {
	switch v := o.(type) {
	case CreateOp:
		return v.Path
	case SetOp:
		return v.Path
	case DeleteOp:
		return v.Path
	case CheckOp:
		return v.Path
	}
	return ""
}

// MultiError says which operation of a failed Multi failed. Nothing of the
// transaction was applied.
type MultiError struct {
	Index int
	Path  string // the failed op's node
	Err   error
}

func (e *MultiError) Error() string {
	return fmt.Sprintf("coord: multi op %d (%s): %v", e.Index, e.Path, e.Err)
}
func (e *MultiError) Unwrap() error { return e.Err }

// Multi applies every op or none.
func (c *Client) Multi(ctx context.Context, ops ...Op) error {
	size := 0
	for _, o := range ops {
		switch v := o.(type) {
		case CreateOp:
			size += len(v.Data)
		case SetOp:
			size += len(v.Data)
		}
	}
	if size > MaxData {
		return fmt.Errorf("%w: multi of %d bytes", ErrDataTooLong, size)
	}
	_, err := call(ctx, c, func() (struct{}, error) { return struct{}{}, c.conn.Multi(ops, c.acl) })
	return err
}
