package browser

import (
	"strings"
	"testing"

	"github.com/stampede-load/stampede/internal/testcluster"
)

// cluster is a real local Stampede cluster (internal/testcluster): one
// ZooKeeper, one target, two masters and three workers, each its own
// process, stopped at cleanup.
type cluster struct {
	*testcluster.Cluster
	t *testing.T
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{Cluster: testcluster.New(t, testcluster.Options{Masters: 2, Workers: 3}), t: t}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, p := range append(append([]*testcluster.Proc{c.Target}, c.Masters...), c.Workers...) {
			t.Logf("--- %s log (last lines):\n%s", p.Name, p.LogTail(30))
		}
	})
	testcluster.Eventually(t, waitLong, "a leader", func() bool {
		var cl clusterBody
		return testcluster.GetJSON(t, c.API()+"/cluster", &cl) == 200 && cl.Leader != nil && cl.Leader.ID != ""
	})
	return c
}

// leader returns the leading master and the other one, as the API says.
func (c *cluster) leader() (leader, follower *testcluster.Proc) {
	c.t.Helper()
	var cl clusterBody
	if testcluster.GetJSON(c.t, c.API()+"/cluster", &cl) != 200 || cl.Leader == nil {
		c.t.Fatal("no master reports a leader")
	}
	for i, m := range c.Masters {
		if m.Name == cl.Leader.ID {
			return m, c.Masters[1-i]
		}
	}
	c.t.Fatalf("leader %q is not one of this cluster's masters", cl.Leader.ID)
	return nil, nil
}

// The API bodies the tests read (docs/api.md).
type clusterBody struct {
	Self    *masterBody  `json:"self"`
	Leader  *masterBody  `json:"leader"`
	Masters []masterBody `json:"masters"`
}

type masterBody struct {
	ID     string `json:"id"`
	APIURL string `json:"api_url"`
}

type testBody struct {
	ID      string `json:"id"`
	Phase   string `json:"phase"`
	Reason  string `json:"reason"`
	Workers []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"workers"`
	Summary *struct {
		Requests  int64              `json:"requests"`
		Errors    int64              `json:"errors"`
		RPS       float64            `json:"rps"`
		LatencyMs map[string]float64 `json:"latency_ms"`
		Workers   []struct {
			ID       string `json:"id"`
			Requests int64  `json:"requests"`
		} `json:"workers"`
		Distribution []struct {
			Percentile float64 `json:"percentile"`
			Ms         float64 `json:"ms"`
		} `json:"distribution"`
	} `json:"summary"`
}

// waitPhase waits until master m reports one of phases for test id.
func (c *cluster) waitPhase(m *testcluster.Proc, id string, phases ...string) testBody {
	c.t.Helper()
	var tb testBody
	testcluster.WaitPhaseAt(c.t, m.URL()+"/api/v1", id, strings.Join(phases, "|"), waitLong, &tb)
	return tb
}
