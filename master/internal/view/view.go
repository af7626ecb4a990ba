// Package view is the master's read model: everything the REST API, the
// live feed and the leader need to know, read from ZooKeeper (masters keep
// no state another master could not rebuild).
package view

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sort"
	"sync"
	"time"

	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
)

// ErrNotFound means the test does not exist (or the id is not one a test
// can have).
var ErrNotFound = errors.New("view: not found")

// ErrInvalid means a node holds data that does not decode or validate: it
// was not written by Stampede, and it is never trusted.
var ErrInvalid = errors.New("view: invalid node data")

// ValidID reports whether id can name a test: 1 to 64 letters, digits,
// '-' or '_' (so never "." or "..", and never a path).
func ValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !proto.IDRune(r) {
			return false
		}
	}
	return true
}

// Forget drops what the reader remembers of a deleted test.
func (r *Reader) Forget(id string) {
	r.mu.Lock()
	delete(r.finished, id)
	delete(r.names, id)
	r.forgetLines(id)
	r.forgetChosen(id)
	r.mu.Unlock()
}

// name is a test's name, read from its spec once (a spec is at most the
// stored spec limit, and a list of unfinished tests would otherwise read
// every one of them each time).
func (r *Reader) name(ctx context.Context, id string) (string, error) {
	r.mu.Lock()
	n, ok := r.names[id]
	r.mu.Unlock()
	if ok {
		return n, nil
	}
	s, err := r.spec(ctx, id)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	if r.names == nil || len(r.names) >= maxNames {
		r.names = map[string]string{} // a simple bound: start over
	}
	r.names[id] = s.Name
	r.mu.Unlock()
	return s.Name, nil
}

const maxNames = 10000

// Reader reads cluster and test state. It is safe for concurrent use.
type Reader struct {
	C *coord.Client
	P proto.Paths
	// Log, if set, says once per node which registrations Workers
	// ignores.
	Log *slog.Logger

	mu       sync.Mutex
	finished map[string]ListItem // list items of terminal tests never change
	names    map[string]string   // test names (a spec never changes), so a list reads no spec twice
	// lines are the decoded per-worker lines chunks by test and node
	// (lines.go), lineBytes the size of their nodes
	lines     map[string]map[string]lineChunk
	lineBytes int
	ignored   map[string]bool // registration nodes Workers ignored and logged
	// chosen are the tests' chosen workers (chosen.go), chosenIDs how many
	// ids they hold
	chosen    map[string]chosenList
	chosenIDs int
}

// Worker is a live worker registration.
type Worker struct {
	proto.WorkerInfo
	Node string `json:"node"`
}

// Workers lists live workers by id. If a worker id is registered twice
// (a new session's node while the old one expires) the newest one counts.
// A registration that does not decode, or whose id cannot name a worker
// (proto.CheckWorkerID; no Stampede worker registers one), is no worker:
// chosen for a test, its plan could never be written.
func (r *Reader) Workers(ctx context.Context) ([]Worker, error) {
	cands, err := r.C.Candidates(ctx, r.P.Workers())
	if err != nil {
		return nil, err
	}
	byID := map[string]Worker{}
	for _, c := range cands { // increasing sequence: later ones win
		var wi proto.WorkerInfo
		err := json.Unmarshal(c.Data, &wi)
		if err == nil {
			err = proto.CheckWorkerID(wi.ID)
		}
		if err != nil {
			r.ignore(c.Node, err)
			continue
		}
		byID[wi.ID] = Worker{WorkerInfo: wi, Node: path.Base(c.Node)}
	}
	out := make([]Worker, 0, len(byID))
	for _, w := range byID {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ignore logs, once per node, a registration Workers ignores.
func (r *Reader) ignore(node string, why error) {
	if r.Log == nil {
		return
	}
	r.mu.Lock()
	seen := r.ignored[node]
	if !seen {
		if r.ignored == nil || len(r.ignored) >= maxIgnored {
			r.ignored = map[string]bool{} // bounded: a flood is logged again, not kept
		}
		r.ignored[node] = true
	}
	r.mu.Unlock()
	if !seen {
		r.Log.Warn("ignoring a worker registration", "node", node, "err", why)
	}
}

// maxIgnored bounds the registrations a Reader remembers having logged.
const maxIgnored = 1024

// Master is one master candidate.
type Master struct {
	proto.MasterInfo
	Leader bool `json:"leader"`
}

// Masters lists master candidates; the first leads.
func (r *Reader) Masters(ctx context.Context) ([]Master, error) {
	cands, err := r.C.Candidates(ctx, r.P.Masters())
	if err != nil {
		return nil, err
	}
	out := make([]Master, 0, len(cands))
	for i, c := range cands {
		var mi proto.MasterInfo
		if json.Unmarshal(c.Data, &mi) != nil || mi.ID == "" {
			mi = proto.MasterInfo{ID: "(invalid candidate " + path.Base(c.Node) + ")"}
		}
		out = append(out, Master{MasterInfo: mi, Leader: i == 0})
	}
	return out, nil
}

// TestIDs lists test ids, newest first.
func (r *Reader) TestIDs(ctx context.Context) ([]string, error) {
	ids, err := r.C.Children(ctx, r.P.Tests())
	if err != nil {
		return nil, err
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	return ids, nil
}

// Spec reads a test's spec.
func (r *Reader) Spec(ctx context.Context, id string) (*spec.Spec, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	d, _, err := r.C.Get(ctx, r.P.Test(id))
	if errors.Is(err, coord.ErrNoNode) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s, errs := spec.Parse(d)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: stored spec of %s: %w", ErrInvalid, id, errs)
	}
	return &s, nil
}

// State reads a test's state and its version. A state that does not
// decode, or names no known phase, is ErrInvalid (with its version, so
// that the leader can overwrite it).
func (r *Reader) State(ctx context.Context, id string) (*proto.TestState, int32, error) {
	if !ValidID(id) {
		return nil, 0, ErrNotFound
	}
	d, st, err := r.C.Get(ctx, r.P.State(id))
	if errors.Is(err, coord.ErrNoNode) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	var s proto.TestState
	if err := json.Unmarshal(d, &s); err != nil {
		return &proto.TestState{}, st.Version, fmt.Errorf("%w: state of %s: %w", ErrInvalid, id, err)
	}
	if !knownPhase(s.Phase) {
		return &s, st.Version, fmt.Errorf("%w: state of %s has phase %.40q", ErrInvalid, id, s.Phase)
	}
	return &s, st.Version, nil
}

// Live reads a running test's live node (nil if the leader has not
// written it yet).
func (r *Reader) Live(ctx context.Context, id string) (*proto.Live, error) {
	d, _, err := r.C.Get(ctx, r.P.Live(id))
	if errors.Is(err, coord.ErrNoNode) || (err == nil && len(d) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l proto.Live
	if err := json.Unmarshal(d, &l); err != nil {
		return nil, fmt.Errorf("view: live node of %s: %w", id, err)
	}
	return &l, nil
}

// Result reads a finished test's result (nil if there is none yet).
func (r *Reader) Result(ctx context.Context, id string) (*report.Summary, error) {
	d, _, err := r.C.Get(ctx, r.P.Result(id))
	if errors.Is(err, coord.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s report.Summary
	if err := json.Unmarshal(d, &s); err != nil {
		return nil, fmt.Errorf("%w: result of %s: %w", ErrInvalid, id, err)
	}
	return &s, nil
}

// Timeline reads the merged timeline the leader persisted.
func (r *Reader) Timeline(ctx context.Context, id string) ([]report.Point, error) {
	out := []report.Point{}
	found, err := proto.ReadChunks(ctx, r.C, r.P.TimelineDir(id), func(_ string, pts []report.Point, _ int) {
		out = append(out, pts...)
	})
	if err != nil {
		return nil, err
	}
	if !found {
		if _, _, err := r.C.Get(ctx, r.P.Test(id)); errors.Is(err, coord.ErrNoNode) {
			return nil, ErrNotFound
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Second < out[j].Second })
	return out, nil
}

// Exists reports whether a test exists.
func (r *Reader) Exists(ctx context.Context, id string) (bool, error) {
	if !ValidID(id) {
		return false, nil
	}
	ok, _, err := r.C.Exists(ctx, r.P.Test(id))
	return ok, err
}

func knownPhase(p string) bool {
	switch p {
	case proto.PhasePending, proto.PhaseQueued, proto.PhasePreparing, proto.PhaseRunning:
		return true
	}
	return proto.Terminal(p)
}

func rfc3339(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}
