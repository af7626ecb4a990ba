package k8s_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
)

// TestManifestsRunAsLocalProcesses runs k8s/overlays/with-target without a
// kubelet: each Stampede container's command, args and environment from the
// rendered manifests, as local processes (see localCluster), against a real
// ZooKeeper. It waits for every readiness probe, checks what the downward
// API wiring should give (worker ids = pod names, masters reachable at
// their STAMPEDE_API_URL), runs a short test through the master Service's
// port against the target Service, and stops everything with SIGTERM within
// the grace periods, workers first (they must deregister).
func TestManifestsRunAsLocalProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ZooKeeper and 6 processes; run without -short")
	}
	lc := startLocalCluster(t)
	api := "http://" + lc.serviceAddr("master", 8080)
	// Worker ids come from the pod names (fieldRef metadata.name).
	wantWorkers := lc.podNames("worker")
	var workers []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	testcluster.EventuallyNoError(t, 60*time.Second, func() error {
		if err := testcluster.FetchJSON(api+"/api/v1/workers", &workers); err != nil {
			return err
		}
		var ids []string
		for _, w := range workers {
			ids = append(ids, w.ID)
		}
		sort.Strings(ids)
		if !slices.Equal(ids, wantWorkers) {
			return fmt.Errorf("GET /api/v1/workers ids %v, want the worker pod names %v", ids, wantWorkers)
		}
		return nil
	})
	t.Logf("GET /api/v1/workers (via Service master): %+v", workers)

	// Each master registers the URL built from $(POD_IP); the leader's must
	// be one of the master pods.
	var cluster struct {
		Leader struct {
			ID     string `json:"id"`
			APIURL string `json:"api_url"`
		} `json:"leader"`
		Masters []json.RawMessage `json:"masters"`
	}
	var masterURLs []string
	for _, p := range lc.pods {
		if p.workload == "master" {
			masterURLs = append(masterURLs, lc.podURL(p))
		}
	}
	testcluster.EventuallyNoError(t, 60*time.Second, func() error {
		if err := testcluster.FetchJSON(api+"/api/v1/cluster", &cluster); err != nil {
			return err
		}
		if len(cluster.Masters) != len(masterURLs) || !slices.Contains(masterURLs, cluster.Leader.APIURL) {
			return fmt.Errorf("GET /api/v1/cluster: %d masters, leader api_url %q; want %d masters and a leader at one of %v",
				len(cluster.Masters), cluster.Leader.APIURL, len(masterURLs), masterURLs)
		}
		return nil
	})
	t.Logf("GET /api/v1/cluster: leader %+v of %d masters", cluster.Leader, len(cluster.Masters))

	// A short test, as docs/kubernetes.md runs it with curl, through the
	// Services: the master's for the API, the target's for the load.
	targetURL := "http://" + lc.serviceAddr("target", 8081)
	before := targetRequests(t, targetURL)
	const total = 300
	spec := lc.rewriteServices(fmt.Sprintf(`{
		"name": "k8s-wiring",
		"request": {"method": "GET", "url": "http://target:8081/ping"},
		"load": {"model": "avalanche", "concurrency": 2, "requests": %d},
		"workers": 0
	}`, total))
	id := postTest(t, api, spec)
	test := waitTest(t, api, id, 120*time.Second)
	t.Logf("test %s: phase %s, summary %+v", id, test.Phase, test.Summary)
	if test.Phase != "completed" || test.Summary.Requests != total || test.Summary.Errors != 0 {
		t.Errorf("test %s: phase %q (%s), %d requests, %d errors; want completed, %d requests, 0 errors",
			id, test.Phase, test.Reason, test.Summary.Requests, test.Summary.Errors, total)
	}
	if got := targetRequests(t, targetURL) - before; got != total {
		t.Errorf("target /stats counted %d requests during the test, want %d", got, total)
	}

	// Delete the workers: each must deregister within its grace period.
	lc.terminate("worker")
	testcluster.EventuallyNoError(t, 30*time.Second, func() error {
		if err := testcluster.FetchJSON(api+"/api/v1/workers", &workers); err != nil {
			return err
		}
		if len(workers) != 0 {
			return fmt.Errorf("GET /api/v1/workers after the workers stopped: %+v", workers)
		}
		return nil
	})
	lc.terminate("master")
	lc.terminate("target")
}

// startLocalCluster runs k8s/overlays/with-target as local processes
// against a real ZooKeeper and waits until every pod is ready.
func startLocalCluster(t *testing.T) *localCluster {
	t.Helper()
	m := render(t, withTargetDir)
	im := buildImages(t)
	zk := zktest.Standalone(t)
	lc := newLocalCluster(t, m, zk.Addr())
	lc.start(im)
	lc.waitReady(120 * time.Second)
	return lc
}

// testView is the part of GET /api/v1/tests/{id} checked here.
type testView struct {
	Phase   string `json:"phase"`
	Reason  string `json:"reason"`
	Workers []struct {
		ID       string `json:"id"`
		State    string `json:"state"`
		Requests int64  `json:"requests"`
	} `json:"workers"`
	Summary struct {
		Requests int64 `json:"requests"`
		Errors   int64 `json:"errors"`
	} `json:"summary"`
}

// postTest creates a test from a JSON spec and returns its id.
func postTest(t *testing.T, api, spec string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, api+"/api/v1/tests", bytes.NewBufferString(spec))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testcluster.OperatorToken) // from the Secret stampede-tokens
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/tests: %s %s", resp.Status, body)
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.ID == "" {
		t.Fatalf("POST /api/v1/tests: body %s: %v", body, err)
	}
	return created.ID
}

// waitTest polls a test until its phase is final.
func waitTest(t *testing.T, api, id string, timeout time.Duration) testView {
	t.Helper()
	var v testView
	terminal := []string{"completed", "stopped", "aborted", "failed"}
	testcluster.EventuallyNoError(t, timeout, func() error {
		if err := testcluster.FetchJSON(api+"/api/v1/tests/"+id, &v); err != nil {
			return err
		}
		if !slices.Contains(terminal, v.Phase) {
			return fmt.Errorf("test %s phase %q", id, v.Phase)
		}
		return nil
	})
	return v
}

// TestWorkerScaleDownDuringTest removes one worker pod while a test runs,
// as `kubectl scale deployment/worker --replicas=2` does: SIGTERM, then
// SIGKILL after terminationGracePeriodSeconds. The worker must exit within
// the grace period having published its final report, so no request it
// sent is lost from the result.
func TestWorkerScaleDownDuringTest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ZooKeeper and 6 processes; run without -short")
	}
	lc := startLocalCluster(t)
	api := "http://" + lc.serviceAddr("master", 8080)
	targetURL := "http://" + lc.serviceAddr("target", 8081)
	testcluster.EventuallyNoError(t, 60*time.Second, func() error {
		var ws []json.RawMessage
		if err := testcluster.FetchJSON(api+"/api/v1/workers", &ws); err != nil {
			return err
		}
		if len(ws) != len(lc.podNames("worker")) {
			return fmt.Errorf("%d workers registered, want %d", len(ws), len(lc.podNames("worker")))
		}
		return nil
	})
	before := targetRequests(t, targetURL)
	id := postTest(t, api, lc.rewriteServices(`{
		"name": "k8s-scale-down",
		"request": {"method": "GET", "url": "http://target:8081/ping"},
		"load": {"model": "constant-rate", "rate": 150, "concurrency": 8, "duration": "8s"},
		"workers": 0
	}`))
	// Remove the worker once the master has seen it send load.
	victim := lc.podNames("worker")[2]
	var v testView
	testcluster.EventuallyNoError(t, 60*time.Second, func() error {
		if err := testcluster.FetchJSON(api+"/api/v1/tests/"+id, &v); err != nil {
			return err
		}
		for _, w := range v.Workers {
			if w.ID == victim && v.Phase == "running" && w.Requests > 0 {
				return nil
			}
		}
		return fmt.Errorf("test %s phase %q, workers %+v: %s not sending yet", id, v.Phase, v.Workers, victim)
	})
	lc.terminatePod(victim)
	v = waitTest(t, api, id, 120*time.Second)
	t.Logf("test %s after %s left: %+v", id, victim, v)
	var sum int64
	for _, w := range v.Workers {
		sum += w.Requests
		if w.ID == victim && (w.State != "done" || w.Requests == 0) {
			t.Errorf("worker %s after SIGTERM: state %q, %d requests; want done with its requests (final report published)", w.ID, w.State, w.Requests)
		}
	}
	got := targetRequests(t, targetURL) - before
	if v.Summary.Requests != got || sum != got || v.Summary.Errors != 0 {
		t.Errorf("test %s: summary %d requests (%d errors), workers sum %d, target counted %d: want all equal, no errors",
			id, v.Summary.Requests, v.Summary.Errors, sum, got)
	}
	lc.terminate("worker")
	lc.terminate("master")
	lc.terminate("target")
}

// targetRequests reads the target's request count through its Service.
func targetRequests(t *testing.T, base string) int64 {
	t.Helper()
	return testcluster.StatsOf(t, base).Requests
}
