package integration

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/report"
)

// liveMsg is a message of the live websocket feeds.
type liveMsg struct {
	Type    string         `json:"type"`
	Test    *tc.Test       `json:"test"`
	Point   *report.Point  `json:"point"`
	Points  []report.Point `json:"points"`
	Workers []tc.Worker    `json:"workers"`
}

func nextLive(t *testing.T, ws *tc.WS, what string) (liveMsg, bool) {
	t.Helper()
	b, err := ws.Next(15 * time.Second)
	if errors.Is(err, tc.ErrWSClosed) {
		return liveMsg{}, false
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var m liveMsg
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v in %s", what, err, b)
	}
	return m, true
}

// The websocket feeds, as a program (not the dashboard) reads them, on the
// leader and on a follower: GET /api/v1/live sends the cluster with its
// workers; GET /api/v1/tests/{id}/live sends a snapshot, then one update
// per merged second, then the final result — the same numbers as the REST
// result and the target — and closes.
func TestLiveFeedsOutsideTheBrowser(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, Workers: 2})
	c.ResetTarget()
	for _, m := range c.Masters {
		cl := tc.DialWS(t, m.URL()+"/api/v1/live")
		msg, ok := nextLive(t, cl, m.Name+" /live")
		if !ok || msg.Type != "cluster" || len(msg.Workers) != 2 {
			t.Errorf("%s /live: first message %+v (open %v), want the cluster with 2 workers", m.Name, msg, ok)
		}
	}
	id := c.Submit(spec("constant-rate", map[string]any{"rate": 400, "duration": "3s"}, c.TargetURL("/ping")))
	feeds := map[string]*tc.WS{}
	for _, m := range c.Masters {
		feeds[m.Name] = tc.DialWS(t, m.URL()+"/api/v1/tests/"+id+"/live")
	}
	res := c.WaitPhase(id, "completed", 60*time.Second)
	for name, ws := range feeds {
		first, ok := nextLive(t, ws, name+" test feed")
		if !ok || first.Type != "snapshot" || first.Test == nil || first.Test.ID != id {
			t.Errorf("%s: first message %+v, want the test's snapshot", name, first)
			continue
		}
		seconds := map[int64]bool{}
		for _, p := range first.Points {
			seconds[p.Second] = true
		}
		var final *tc.Test
		for final == nil {
			m, ok := nextLive(t, ws, name+" test feed")
			if !ok {
				t.Fatalf("%s: the feed closed before its final message", name)
			}
			switch m.Type {
			case "update":
				if m.Point != nil {
					seconds[m.Point.Second] = true
				}
			case "final":
				final = m.Test
			default:
				t.Errorf("%s: unexpected message type %q", name, m.Type)
			}
		}
		if final.Phase != "completed" || final.Summary == nil || final.Summary.Requests != 1200 || res.Summary.Requests != 1200 {
			t.Errorf("%s: final %+v, REST result %d requests; want completed with exactly 1,200", name, final, res.Summary.Requests)
		}
		if len(seconds) < 3 {
			t.Errorf("%s: the feed carried seconds %v, want the 3 seconds of the run", name, seconds)
		}
		if _, ok := nextLive(t, ws, name+" after final"); ok {
			t.Errorf("%s: the feed sent more after its final message, want it closed", name)
		}
	}
	if n := c.TargetRequests(); n != 1200 {
		t.Errorf("the target saw %d requests, want 1,200", n)
	}
}
