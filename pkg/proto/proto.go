// Package proto is the ZooKeeper protocol between masters and workers
// (docs/architecture.md): the namespace under --zk-root and the JSON payloads of its
// nodes. Both binaries import it; neither imports the other.
package proto

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/report"
)

// Phases of a test (contract).
const (
	PhasePending = "pending"
	// PhaseQueued is a test waiting, first in first out, for the workers
	// it asks for to be idle.
	PhaseQueued    = "queued"
	PhasePreparing = "preparing"
	PhaseRunning   = "running"
	PhaseCompleted = "completed"
	PhaseStopped   = "stopped"
	PhaseAborted   = "aborted"
	PhaseFailed    = "failed"
)

// Terminal reports whether a phase is final.
func Terminal(phase string) bool {
	switch phase {
	case PhaseCompleted, PhaseStopped, PhaseAborted, PhaseFailed:
		return true
	}
	return false
}

// Worker states (in the worker's registration data).
const (
	WorkerIdle      = "idle"
	WorkerPreparing = "preparing"
	WorkerReady     = "ready"
	WorkerRunning   = "running"
)

// Paths is the namespace under a root (contract).
type Paths struct{ Root string }

func (p Paths) j(parts ...string) string { return path.Join(append([]string{p.Root}, parts...)...) }

// Masters is the election directory of master candidates.
func (p Paths) Masters() string { return p.j("masters") }

// Workers is the directory of live worker registrations.
func (p Paths) Workers() string { return p.j("workers") }

// Tests is the directory of tests.
func (p Paths) Tests() string { return p.j("tests") }

// Test is a test's node (its spec).
func (p Paths) Test(id string) string { return p.j("tests", id) }

// State is a test's phase and bookkeeping (leader-written).
func (p Paths) State(id string) string { return p.j("tests", id, "state") }

// Plans is the directory of per-worker plans.
func (p Paths) Plans(id string) string { return p.j("tests", id, "plan") }

// Plan is one worker's plan.
func (p Paths) Plan(id, worker string) string { return p.j("tests", id, "plan", worker) }

// RefusedDir is the directory of refusals: a worker that cannot run its
// plan says why in refused/<worker> (a Ready with the error) instead of
// voting in ready/, so that a vote is a name, which the leader never reads.
func (p Paths) RefusedDir(id string) string { return p.j("tests", id, "refused") }

// Refused is a worker's refusal of its plan.
func (p Paths) Refused(id, worker string) string { return p.j("tests", id, "refused", worker) }

// ReadyDir is the directory of ready votes.
func (p Paths) ReadyDir(id string) string { return p.j("tests", id, "ready") }

// Ready is one worker's (ephemeral) ready vote.
func (p Paths) Ready(id, worker string) string { return p.j("tests", id, "ready", worker) }

// Start is the start barrier.
func (p Paths) Start(id string) string { return p.j("tests", id, "start") }

// Stop is the stop request.
func (p Paths) Stop(id string) string { return p.j("tests", id, "stop") }

// MetricsDir is the directory of per-worker latest reports.
func (p Paths) MetricsDir(id string) string { return p.j("tests", id, "metrics") }

// Metrics is one worker's latest report.
func (p Paths) Metrics(id, worker string) string { return p.j("tests", id, "metrics", worker) }

// DoneDir is the directory of final reports.
func (p Paths) DoneDir(id string) string { return p.j("tests", id, "done") }

// Done is one worker's final report.
func (p Paths) Done(id, worker string) string { return p.j("tests", id, "done", worker) }

// Result is the final merged result.
func (p Paths) Result(id string) string { return p.j("tests", id, "result") }

// Verdict is the leader's live judgement of the test's thresholds (a
// LiveVerdict), rewritten as it changes while the test runs.
func (p Paths) Verdict(id string) string { return p.j("tests", id, "verdict") }

// TimelineDir holds the merged timeline in chunks of at most ChunkBytes.
func (p Paths) TimelineDir(id string) string { return p.j("tests", id, "timeline") }

// TimelineChunk is the timeline chunk whose first point is second first.
func (p Paths) TimelineChunk(id string, first int64) string {
	return p.j("tests", id, "timeline", fmt.Sprintf("%08d", first))
}

// Live is the merged live view the leader rewrites each second while a
// test runs (a Live payload): every master serves the running test from
// this one node, never from the workers' reports.
func (p Paths) Live(id string) string { return p.j("tests", id, "live") }

// Merged is the merged-through watermark (a Merged payload), written with
// every timeline update: workers keep each interval after it.
func (p Paths) Merged(id string) string { return p.j("tests", id, "merged") }

// LinesDir holds the per-worker lines of a test (chunks of
// []report.WorkerSummary of at most ChunkBytes), kept beside the result and
// the live view so that neither grows with the fleet.
func (p Paths) LinesDir(id string) string { return p.j("tests", id, "lines") }

// LinesChunk is chunk n of the per-worker lines.
func (p Paths) LinesChunk(id string, n int) string {
	return p.j("tests", id, "lines", fmt.Sprintf("%06d", n))
}

// ChunkBytes bounds the JSON of one timeline or lines chunk, far below
// ZooKeeper's 1 MB request limit whatever the fleet or the test's length.
const ChunkBytes = 64 << 10

// MaxNodeBytes is the bound every node of a test stays under (checked by
// the scale tests).
const MaxNodeBytes = 256 << 10

// Live is the payload of the live node.
type Live struct {
	// MergedThrough is the last second in the timeline (-1 if none).
	MergedThrough int64 `json:"merged_through"`
	UpdatedAt     int64 `json:"updated_at"` // unix ns
	// Points are the newest LivePoints timeline points.
	Points []report.Point `json:"points"`
	// Summary is the exact running merge of every interval seen, without
	// per-worker lines (those are in LinesDir).
	Summary *report.Summary `json:"summary,omitempty"`
}

// LivePoints is how many recent points the live node repeats, so that a
// reader polling once per second misses none.
const LivePoints = 10

// Merged is the merged-through watermark's payload.
type Merged struct {
	Through int64 `json:"through"`
}

// PlanNode is one worker's plan: its share of the test whose spec is in
// the test node (kept out of the plan so a plan stays small however many
// workers there are).
type PlanNode struct {
	Test   string     `json:"test"`
	Worker string     `json:"worker"`
	Share  plan.Share `json:"share"`
}

// MasterInfo is a master candidate's election node data.
type MasterInfo struct {
	ID      string `json:"id"`
	APIURL  string `json:"api_url"`
	Version string `json:"version"`
}

// WorkerInfo is a worker's registration data.
type WorkerInfo struct {
	ID      string `json:"id"`
	Host    string `json:"host"`
	IP      string `json:"ip"`
	Version string `json:"version"`
	Cores   int    `json:"cores"`
	State   string `json:"state"`
	Test    string `json:"test,omitempty"`
}

// MaxWorkerIDLen is the longest worker id, in bytes: as long as a host
// name's first label or a Kubernetes pod's host name can be (63), the
// usual sources of one.
const MaxWorkerIDLen = 64

// CheckWorkerID returns why id cannot name a worker, or nil. A worker id
// names nodes (plan/<id>, metrics/<id>, ...), so it is 1 to
// MaxWorkerIDLen letters, digits, '.', '-' or '_', and never "." or "..":
// a '/' would name a node under another, and a registration holding one
// would be chosen for a test whose plan can never be written.
func CheckWorkerID(id string) error {
	switch {
	case id == "":
		return errors.New("a worker id is empty")
	case len(id) > MaxWorkerIDLen:
		return fmt.Errorf("worker id %.64q... is %d bytes, more than the limit of %d", id, len(id), MaxWorkerIDLen)
	case id == "." || id == "..":
		return fmt.Errorf("worker id %q names no node", id)
	}
	for _, r := range id {
		if !IDRune(r) && r != '.' {
			return fmt.Errorf("worker id %q holds %q: a worker id is letters, digits, '.', '-' or '_'", id, r)
		}
	}
	return nil
}

// IDRune reports whether r may be part of any id that names a node: an
// ASCII letter or digit, '-' or '_' (a worker id may hold '.' too).
func IDRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// TestState is the leader-written state of a test.
type TestState struct {
	Phase     string `json:"phase"`
	Reason    string `json:"reason,omitempty"`
	CreatedAt int64  `json:"created_at"`           // unix ns
	PlannedAt int64  `json:"planned_at,omitempty"` // unix ns
	StartAt   int64  `json:"start_at,omitempty"`   // unix ns
	EndedAt   int64  `json:"ended_at,omitempty"`   // unix ns
	// Chosen is how many workers were chosen; their ids are the names of
	// the test's plan nodes (plan/<worker>), not listed here, so that the
	// state stays small whatever the fleet.
	Chosen int `json:"chosen,omitempty"`
	// Lost names the lost workers, sorted (at most report.MaxLostListed
	// of them), and LostCount says how many there are.
	Lost      []string `json:"lost,omitempty"`
	LostCount int      `json:"lost_count,omitempty"`
	// Gaps lists timeline seconds that no leader merged (leadership moved).
	Gaps []int64 `json:"gaps,omitempty"`
	// Leader is the master id that wrote this state.
	Leader string `json:"leader,omitempty"`
	// Position is a queued test's place in the queue (1 runs next).
	Position int `json:"position,omitempty"`
	// ShortSince is when (unix ns) a waiting test last began asking for
	// more workers than are live (0 while enough are live).
	ShortSince int64 `json:"short_since,omitempty"`
	// RerunOf is the test this one was created from by a rerun.
	RerunOf string `json:"rerun_of,omitempty"`
}

// Start is the start barrier's data.
type Start struct {
	StartAt int64 `json:"start_at"` // unix ns
}

// StopRequest is the stop node's data.
type StopRequest struct {
	Reason string `json:"reason"`
	// Abort marks an abort (phase aborted) rather than a user stop.
	Abort bool `json:"abort,omitempty"`
}

// Ready is a worker's vote: OK, or the reason it cannot run the plan.
type Ready struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Marshal encodes a payload (all payloads here always encode).
func Marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("proto: marshal %T: %v", v, err))
	}
	return b
}

// PhaseOf is the phase of an encoded TestState. Marshal writes the phase
// first (it is TestState's first field), so PhaseOf reads it from the
// start of the node instead of decoding the whole state, which lists every
// chosen worker: at 2,000 workers each of them read 2,000 ids to learn one
// word, the fleet 48 MB of JSON at the moment the test prepares. A state
// that does not begin so (written by something else) is decoded whole.
func PhaseOf(data []byte) (string, error) {
	const key = `{"phase":"`
	if rest, ok := bytes.CutPrefix(data, []byte(key)); ok {
		if i := bytes.IndexByte(rest, '"'); i >= 0 && bytes.IndexByte(rest[:i], '\\') < 0 {
			return string(rest[:i]), nil
		}
	}
	var st struct {
		Phase string `json:"phase"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return "", fmt.Errorf("proto: test state: %w", err)
	}
	return st.Phase, nil
}

// NewTestID returns a new test id that sorts by creation time.
func NewTestID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}
