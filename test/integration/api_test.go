package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
	"github.com/stampede-load/stampede/pkg/proto"
)

func TestBadSpecsAreRejectedNamingTheField(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 2})
	zk := c.ZKClient()
	p := proto.Paths{Root: c.Root}
	before, err := zk.Children(context.Background(), p.Tests())
	if err != nil {
		t.Fatal(err)
	}
	url := c.TargetURL("/ping")
	tests := []struct {
		name, body, field string
	}{
		{"missing url", `{"request":{},"load":{"model":"avalanche","duration":"1s"}}`, "request.url"},
		{"non-http url", `{"request":{"url":"ftp://x/y"},"load":{"model":"avalanche","duration":"1s"}}`, "request.url"},
		{"unknown method", `{"request":{"url":"` + url + `","method":"FETCH"},"load":{"model":"avalanche","duration":"1s"}}`, "request.method"},
		{"unknown model", `{"request":{"url":"` + url + `"},"load":{"model":"tornado","duration":"1s"}}`, "load.model"},
		{"zero rate", `{"request":{"url":"` + url + `"},"load":{"model":"constant-rate","rate":0,"duration":"1s"}}`, "load.rate"},
		{"negative rate", `{"request":{"url":"` + url + `"},"load":{"model":"constant-rate","rate":-5,"duration":"1s"}}`, "load.rate"},
		{"unparsable duration", `{"request":{"url":"` + url + `"},"load":{"model":"avalanche","duration":"ten seconds"}}`, "load.duration"},
		{"no bound", `{"request":{"url":"` + url + `"},"load":{"model":"avalanche"}}`, "load.duration"},
		{"negative workers", `{"request":{"url":"` + url + `"},"load":{"model":"avalanche","duration":"1s"},"workers":-1}`, "workers"},
		{"unknown top-level field", `{"request":{"url":"` + url + `"},"load":{"model":"avalanche","duration":"1s"},"wrokers":2}`, "wrokers"},
		{"template error", `{"request":{"url":"` + url + `?n={{sq}}"},"load":{"model":"avalanche","duration":"1s"}}`, "request.url"},
		{"not json", `{"request":`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out struct {
				Error  string `json:"error"`
				Fields []struct {
					Field   string `json:"field"`
					Problem string `json:"problem"`
				} `json:"fields"`
			}
			code := tc.PostJSON(t, c.API()+"/tests", tt.body, &out)
			if code != http.StatusBadRequest {
				t.Fatalf("POST %s = %d, want 400", tt.body, code)
			}
			found := false
			for _, f := range out.Fields {
				if f.Field == tt.field && f.Problem != "" {
					found = true
				}
			}
			if !found {
				t.Errorf("POST %s: fields %+v, want one naming %q", tt.body, out.Fields, tt.field)
			}
		})
	}
	after, err := zk.Children(context.Background(), p.Tests())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("rejected specs wrote to ZooKeeper: tests %v -> %v", before, after)
	}
	for _, path := range []string{"/tests/nope", "/tests/nope/timeline"} {
		if code := tc.GetJSON(t, c.API()+path, nil); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, code)
		}
	}
	if code := tc.PostJSON(t, c.API()+"/tests/nope/stop", nil, nil); code != http.StatusNotFound {
		t.Errorf("POST /tests/nope/stop = %d, want 404", code)
	}
}

func TestYAMLSpecAccepted(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	body := "request:\n  url: " + c.TargetURL("/ping") + "\nload:\n  model: avalanche\n  requests: 50\n"
	req, err := http.NewRequest(http.MethodPost, c.API()+"/tests", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/yaml")
	req.Header.Set("Authorization", "Bearer "+tc.OperatorToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST YAML = %d, want 201", resp.StatusCode)
	}
}

func TestWorkerSessionExpiryReregistersAndRunsNextTest(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1, SessionTimeout: 2 * time.Second})
	proxy := zktest.NewProxy(t, c.ZK)
	c.AddWorker("wp", proxy.Addr())
	c.WaitWorkers(2, 30*time.Second)

	expireWorkerSession(t, c, proxy, "wp")
	c.WaitWorkers(2, 60*time.Second) // re-registered with a new session

	c.ResetTarget()
	id := c.Submit(spec("avalanche", map[string]any{"requests": 2000, "concurrency": 4}, c.TargetURL("/ping")))
	res := c.WaitPhase(id, "completed", 60*time.Second)
	var wp *tc.WorkerStatus
	for i := range res.Workers {
		if res.Workers[i].ID == "wp" {
			wp = &res.Workers[i]
		}
	}
	if wp == nil || wp.Requests != 1000 || wp.State != "done" {
		t.Fatalf("worker wp in the next test: %+v, want done with 1000 requests", wp)
	}
	if got := c.TargetRequests(); got != 2000 || res.Summary.Requests != 2000 {
		t.Errorf("result %d, target %d, want 2000 and 2000", res.Summary.Requests, got)
	}
}
