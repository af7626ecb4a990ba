package coord

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Registration is an ephemeral node that this client keeps alive: when the
// session expires (the server deletes the node) or the node is deleted by
// someone else, it is created again, with the latest data, as soon as a
// session is available. Sequential registrations get a new sequence number.
type Registration struct {
	c          *Client
	dir        string // sequential: parent dir; fixed: unused
	prefix     string // sequential: name prefix
	fixed      string // fixed path, or ""
	sequential bool

	mu     sync.Mutex
	data   []byte
	path   string // current node path; "" while being re-created
	gen    int64  // session generation the node belongs to
	kickCh chan struct{}
	stopCh chan struct{}
	done   chan struct{}
	once   sync.Once
}

// Register creates a protected ephemeral sequential node dir/_c_<guid>-prefix<seq>
// and keeps it (see Registration).
func (c *Client) Register(ctx context.Context, dir, prefix string, data []byte) (*Registration, error) {
	r := c.newReg(data)
	r.dir, r.prefix, r.sequential = dir, prefix, true
	return r, r.start(ctx)
}

// RegisterAt creates the ephemeral node p and keeps it (see Registration).
// If p exists and belongs to this session it is adopted; if it belongs to
// another session, ErrNodeExists is returned.
func (c *Client) RegisterAt(ctx context.Context, p string, data []byte) (*Registration, error) {
	r := c.newReg(data)
	r.fixed = p
	return r, r.start(ctx)
}

func (c *Client) newReg(data []byte) *Registration {
	return &Registration{
		c: c, data: data,
		kickCh: make(chan struct{}, 1),
		stopCh: make(chan struct{}),
		done:   make(chan struct{}),
	}
}

func (r *Registration) start(ctx context.Context) error {
	if err := r.create(ctx); err != nil {
		return err
	}
	r.c.mu.Lock()
	if r.c.closed {
		r.c.mu.Unlock()
		return ErrClosed
	}
	r.c.regs[r] = struct{}{}
	r.c.wg.Add(1)
	r.c.mu.Unlock()
	go r.keep() //nolint:contextcheck // the registration outlives the call that created it; Close ends it
	return nil
}

// Path is the node's current path ("" while it is being re-created).
func (r *Registration) Path() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.path
}

func (r *Registration) current() (string, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.path, r.gen
}

// Update replaces the node's data (and the data used to re-create it).
func (r *Registration) Update(ctx context.Context, data []byte) error {
	r.mu.Lock()
	r.data = data
	p := r.path
	r.mu.Unlock()
	if p == "" {
		return nil // keep() will create it with the new data
	}
	_, err := r.c.Set(ctx, p, data, -1)
	if errors.Is(err, ErrNoNode) {
		r.kick()
		return nil
	}
	return err
}

// Close stops keeping the node and deletes it.
func (r *Registration) Close(ctx context.Context) error {
	r.stop()
	r.c.mu.Lock()
	delete(r.c.regs, r)
	r.c.mu.Unlock()
	p := r.Path()
	if p == "" {
		return nil
	}
	err := r.c.Delete(ctx, p, -1)
	if errors.Is(err, ErrNoNode) || errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

func (r *Registration) stop() {
	r.once.Do(func() { close(r.stopCh) })
	<-r.done
}

func (r *Registration) kick() {
	select {
	case r.kickCh <- struct{}{}:
	default:
	}
}

// keep watches the node and re-creates it when it is gone.
func (r *Registration) keep() {
	defer r.c.wg.Done()
	defer close(r.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-r.stopCh
		cancel()
	}()
	for ctx.Err() == nil {
		if err := r.c.WaitConnected(ctx); err != nil {
			return
		}
		p := r.Path()
		r.mu.Lock()
		stale := r.gen != r.c.Session().Generation
		r.mu.Unlock()
		if p != "" && !stale {
			ok, w, err := r.c.ExistsW(ctx, p)
			if err != nil { // connection trouble: the node may well exist
				select {
				case <-time.After(200 * time.Millisecond):
				case <-r.kickCh:
				case <-ctx.Done():
					return
				}
				continue
			}
			if ok {
				select {
				case <-w: // look again
				case <-r.kickCh:
				case <-ctx.Done():
					return
				}
				continue
			}
		}
		// the node is gone, or belongs to a dead session: create it again
		r.mu.Lock()
		r.path = ""
		r.mu.Unlock()
		if err := r.create(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.c.log.Warn("re-creating ephemeral node failed; retrying", "node", r.describe(), "err", err)
			select {
			case <-time.After(500 * time.Millisecond):
			case <-ctx.Done():
				return
			}
			continue
		}
		r.c.log.Info("ephemeral node re-created", "node", r.Path())
	}
}

func (r *Registration) describe() string {
	if r.fixed != "" {
		return r.fixed
	}
	return path.Join(r.dir, r.prefix)
}

func (r *Registration) create(ctx context.Context) error {
	r.mu.Lock()
	data := r.data
	r.mu.Unlock()
	sess := r.c.Session()
	var p string
	var err error
	if r.sequential {
		p, err = r.c.createProtected(ctx, r.dir, r.prefix, data)
	} else {
		p, err = r.c.createOwned(ctx, r.fixed, data)
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.path, r.gen = p, sess.Generation
	r.mu.Unlock()
	return nil
}

// createOwned creates an ephemeral node at p; a node already there that this
// session owns is adopted (a retried create whose first reply was lost); one
// left by this client's previous session is replaced.
func (c *Client) createOwned(ctx context.Context, p string, data []byte) (string, error) {
	for attempt := 0; ; attempt++ {
		_, err := c.Create(ctx, p, data, Ephemeral)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, ErrNodeExists) && !errors.Is(err, ErrConnection) && !errors.Is(err, ErrTimeout) || attempt >= 3 {
			return "", err
		}
		if err := c.WaitConnected(ctx); err != nil {
			return "", err
		}
		_, st, gerr := c.Get(ctx, p)
		switch {
		case errors.Is(gerr, ErrNoNode):
			continue
		case gerr != nil:
			return "", gerr
		case st.EphemeralOwner == c.Session().ID:
			_, err := c.Set(ctx, p, data, -1)
			return p, err
		case errors.Is(err, ErrNodeExists):
			return "", err // someone else's
		}
	}
}

// createProtected creates dir/_c_<guid>-prefix<seq>. When the reply is lost,
// it finds the node by its GUID and keeps it only if this session owns it
// (go-zookeeper's own protected create skips that check).
func (c *Client) createProtected(ctx context.Context, dir, prefix string, data []byte) (string, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	guid := hex.EncodeToString(b[:])
	base := dir + "/_c_" + guid + "-" + prefix
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		p, err := c.Create(ctx, base, data, EphemeralSequential)
		if err == nil {
			return p, nil
		}
		lastErr = err
		if !errors.Is(err, ErrConnection) && !errors.Is(err, ErrTimeout) {
			return "", err
		}
		if err := c.WaitConnected(ctx); err != nil {
			return "", err
		}
		kids, err := c.Children(ctx, dir)
		if err != nil {
			lastErr = err
			continue
		}
		for _, k := range kids {
			if !strings.Contains(k, guid) {
				continue
			}
			p := dir + "/" + k
			_, st, err := c.Get(ctx, p)
			if err != nil {
				continue
			}
			if st.EphemeralOwner == c.Session().ID {
				return p, nil
			}
			_ = c.Delete(ctx, p, -1) // an orphan of an earlier session
		}
	}
	return "", lastErr
}

// Seq is the sequence number at the end of a sequential node's name, or -1.
func Seq(name string) int64 {
	if len(name) < 10 {
		return -1
	}
	n, err := strconv.ParseInt(name[len(name)-10:], 10, 64)
	if err != nil {
		return -1
	}
	return n
}
