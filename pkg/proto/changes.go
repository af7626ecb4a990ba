package proto

import (
	"encoding/json"
	"fmt"

	"github.com/stampede-load/stampede/pkg/plan"
)

// Changes is a running test's live changes node (a ChangesNode): written
// by the leader only, in one fenced write per change whatever the fleet's
// size; every worker watches it and derives its own exact share from it
// (plan.Follow, plan.Reshare).
func (p Paths) Changes(id string) string { return p.j("tests", id, "changes") }

// AsksDir holds the change requests (plan.Ask) any master's API leaves for the
// leader, as persistent sequential nodes; the leader deletes each one in
// the transaction that answers it.
func (p Paths) AsksDir(id string) string { return p.j("tests", id, "asks") }

// Ask is one change request node.
func (p Paths) Ask(id, name string) string { return p.j("tests", id, "asks", name) }

// ChangesNode is the payload of the changes node.
type ChangesNode struct {
	Changes []plan.Change `json:"changes"`
	// Refused lists the asks the leader did not apply, newest last (at
	// most MaxRefused), with why, so the API can answer its caller.
	Refused []Refusal `json:"refused,omitempty"`
}

// MaxRefused bounds the refusals the changes node keeps.
const MaxRefused = 16

// Refusal is an ask the leader could not apply.
type Refusal struct {
	Ask    string `json:"ask"`
	Reason string `json:"reason"`
}

// DecodeChanges reads a changes node, checking what a worker relies on:
// at most plan.MaxChanges, numbered from 1 in order, seconds not going
// back.
func DecodeChanges(data []byte) (ChangesNode, error) {
	var n ChangesNode
	if len(data) == 0 {
		return n, nil
	}
	if err := json.Unmarshal(data, &n); err != nil {
		return ChangesNode{}, fmt.Errorf("proto: changes node: %w", err)
	}
	if len(n.Changes) > plan.MaxChanges {
		return ChangesNode{}, fmt.Errorf("proto: changes node holds %d changes; at most %d", len(n.Changes), plan.MaxChanges)
	}
	for i, c := range n.Changes {
		if c.Seq != i+1 || c.At < 0 || (i > 0 && c.At < n.Changes[i-1].At) {
			return ChangesNode{}, fmt.Errorf("proto: changes node: change %d (seq %d, second %d) is out of order", i, c.Seq, c.At)
		}
	}
	return n, nil
}
