package integration

import (
	"net/http"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
)

func TestWorkersRegisterLeaveAndReturn(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 3})
	ws := c.LiveWorkers()
	if len(ws) != 3 {
		t.Fatalf("GET /workers = %+v, want 3 workers", ws)
	}
	w2 := c.Workers[1]
	killed := time.Now()
	w2.Kill()
	tc.Eventually(t, c.Session+5*time.Second, "killed worker leaves GET /workers within the session timeout", func() bool {
		for _, w := range c.LiveWorkers() {
			if w.ID == "w2" {
				return false
			}
		}
		return true
	})
	t.Logf("kill -9 of w2 noticed after %v (session timeout %v)", time.Since(killed).Round(time.Millisecond), c.Session)
	w2.Restart()
	c.WaitWorkers(3, 30*time.Second)
}

func TestTwoMastersOneLeaderAndFailover(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, NoTarget: true})
	type cluster struct {
		Self    struct{ ID string }  `json:"self"`
		Leader  *struct{ ID string } `json:"leader"`
		Masters []struct {
			ID     string
			Leader bool
		} `json:"masters"`
	}
	var views [2]cluster
	tc.Eventually(t, 20*time.Second, "both masters report the same single leader", func() bool {
		for i, m := range c.Masters {
			views[i] = cluster{}
			tc.GetJSON(t, m.URL()+"/api/v1/cluster", &views[i])
		}
		if views[0].Leader == nil || views[1].Leader == nil || views[0].Leader.ID != views[1].Leader.ID {
			return false
		}
		leaders := 0
		for _, m := range views[0].Masters {
			if m.Leader {
				leaders++
			}
		}
		return leaders == 1 && len(views[0].Masters) == 2
	})
	leaderID := views[0].Leader.ID
	var leader, other *tc.Proc
	for _, m := range c.Masters {
		if m.Name == leaderID {
			leader = m
		} else {
			other = m
		}
	}
	killed := time.Now()
	leader.Kill()
	tc.Eventually(t, c.Session+5*time.Second, "the other master leads after the leader is killed", func() bool {
		var v cluster
		tc.GetJSON(t, other.URL()+"/api/v1/cluster", &v)
		return v.Leader != nil && v.Leader.ID == other.Name && len(v.Masters) == 1
	})
	t.Logf("leadership moved %v after kill -9", time.Since(killed).Round(time.Millisecond))
}

func TestSIGTERMDeregistersAndExits(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 2, Workers: 2})
	w := c.Workers[0]
	took := w.Stop(10 * time.Second)
	if took > 5*time.Second {
		t.Errorf("worker took %v to exit after SIGTERM", took)
	}
	// deregistered at once (its session closed), not after the session timeout
	var ids []string
	for _, x := range c.LiveWorkers() {
		ids = append(ids, x.ID)
	}
	if len(ids) != 1 || ids[0] != "w2" {
		t.Errorf("after SIGTERM of w1, GET /workers = %v, want [w2]", ids)
	}
	for _, p := range []*tc.Proc{c.Masters[0], c.Target} {
		if took := p.Stop(10 * time.Second); took > 5*time.Second {
			t.Errorf("%s took %v to exit after SIGTERM", p.Name, took)
		}
	}
	var v struct {
		Masters []struct{ ID string } `json:"masters"`
	}
	if code := tc.GetJSON(t, c.Masters[1].URL()+"/api/v1/cluster", &v); code != http.StatusOK || len(v.Masters) != 1 {
		t.Errorf("after SIGTERM of m1, cluster masters = %+v (status %d), want only m2", v.Masters, code)
	}
}
