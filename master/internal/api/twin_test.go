package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stampede-load/stampede/internal/twintest"
	"github.com/stampede-load/stampede/master/internal/view"
	"github.com/stampede-load/stampede/pkg/coord"
	"github.com/stampede-load/stampede/pkg/proto"
)

// The API's handlers over HTTP, served from the in-memory coordination
// twin: what each call answers and what it leaves in ZooKeeper. No leader
// runs here; the tests write what a leader would where a phase must move.

const (
	operatorToken = "operator-token-0123456789"
	viewerToken   = "viewer-token-0123456789ab"
)

// apiTwin is one master's API on a twin, and a second session to look at
// (and write) ZooKeeper as a leader or a worker would.
type apiTwin struct {
	t   *testing.T
	srv *coord.MemServer
	api *coord.Client // the API's own session
	zk  *coord.Client
	p   proto.Paths
	url string
}

func newAPITwin(t *testing.T) *apiTwin {
	log := twintest.Quiet()
	srv := coord.NewMemServer()
	dial := func() *coord.Client {
		cfg := twintest.Config()
		cfg.OpTimeout = 300 * time.Millisecond // how long a call waits while cut off
		return twintest.DialWith(t, srv, cfg)
	}
	at := &apiTwin{t: t, srv: srv, api: dial(), zk: dial(), p: proto.Paths{Root: "/stampede"}}
	for _, d := range []string{at.p.Masters(), at.p.Workers(), at.p.Tests()} {
		if err := at.zk.EnsurePath(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	tokens, err := ParseTokens([]byte("operator " + operatorToken + "\nviewer " + viewerToken + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{C: at.api, P: at.p, View: &view.Reader{C: at.api, P: at.p}, Log: log,
		Self: proto.MasterInfo{ID: "m1", APIURL: "http://m1"}, Auth: &Auth{Tokens: tokens, Log: log}}
	r := chi.NewRouter()
	s.Routes(r)
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	at.url = ts.URL + "/api/v1"
	return at
}

// call sends a request with token ("" for none) and decodes a JSON answer
// into out (if not nil); it returns the status and the response.
func (at *apiTwin) call(method, path, token, body string, out any) (int, *http.Response) {
	at.t.Helper()
	req, err := http.NewRequest(method, at.url+path, strings.NewReader(body))
	if err != nil {
		at.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		at.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		at.t.Fatal(err)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			at.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, resp
}

// state reads a test's state node; ok is false if it does not exist.
func (at *apiTwin) state(id string) (proto.TestState, int32, bool) {
	at.t.Helper()
	d, st, err := at.zk.Get(context.Background(), at.p.State(id))
	if err != nil {
		return proto.TestState{}, 0, false
	}
	var s proto.TestState
	if err := json.Unmarshal(d, &s); err != nil {
		at.t.Fatal(err)
	}
	return s, st.Version, true
}

// setPhase writes a phase as the leader would.
func (at *apiTwin) setPhase(id, phase string) {
	at.t.Helper()
	st, ver, _ := at.state(id)
	st.Phase = phase
	if _, err := at.zk.Set(context.Background(), at.p.State(id), proto.Marshal(st), ver); err != nil {
		at.t.Fatal(err)
	}
}

const validSpec = `{"name":"smoke","request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":10,"duration":"1s"}}`

func TestAuthOnTheTwin(t *testing.T) {
	at := newAPITwin(t)
	for _, tt := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/tests", "", "", http.StatusUnauthorized},
		{"GET", "/tests", "not-a-token-0123456789", "", http.StatusUnauthorized},
		{"GET", "/tests", viewerToken, "", http.StatusOK},
		{"POST", "/tests", viewerToken, validSpec, http.StatusForbidden},
		{"POST", "/tests/x/stop", viewerToken, "", http.StatusForbidden},
		{"GET", "/no-such-route", operatorToken, "", http.StatusNotFound},
	} {
		if got, _ := at.call(tt.method, tt.path, tt.token, tt.body, nil); got != tt.want {
			t.Errorf("%s %s with token %q: %d, want %d", tt.method, tt.path, tt.token, got, tt.want)
		}
	}
	kids, err := at.zk.Children(context.Background(), at.p.Tests())
	if err != nil || len(kids) != 0 {
		t.Errorf("tests after refused calls: %v (%v), want none", kids, err)
	}
}

// A test's life through the API: created pending with its nodes, listed
// and shown, stopped (a stop node), refused deletion while running,
// refused a stop once ended, deleted with everything under it.
func TestTestLifecycleOnTheTwin(t *testing.T) {
	at := newAPITwin(t)
	var bad struct {
		Fields []struct{ Field, Problem string } `json:"fields"`
	}
	if code, _ := at.call("POST", "/tests", operatorToken, `{"load":{"model":"constant-rate","rate":10,"duration":"1s"}}`, &bad); code != http.StatusBadRequest ||
		len(bad.Fields) != 1 || bad.Fields[0].Field != "request.url" {
		t.Errorf("invalid spec: %d %+v, want 400 naming request.url only", code, bad)
	}
	var created struct{ ID string }
	code, resp := at.call("POST", "/tests", operatorToken, validSpec, &created)
	if code != http.StatusCreated || created.ID == "" || resp.Header.Get("Location") != "/api/v1/tests/"+created.ID {
		t.Fatalf("create: %d %+v Location %q", code, created, resp.Header.Get("Location"))
	}
	id := created.ID
	if st, _, ok := at.state(id); !ok || st.Phase != proto.PhasePending || st.CreatedAt == 0 {
		t.Errorf("stored state %+v (%v), want pending with its creation time", st, ok)
	}
	for _, dir := range []string{at.p.Plans(id), at.p.ReadyDir(id), at.p.MetricsDir(id), at.p.DoneDir(id)} {
		if ok, _, err := at.zk.Exists(context.Background(), dir); !ok || err != nil {
			t.Errorf("%s not created with the test (%v)", dir, err)
		}
	}
	var list []view.ListItem
	if code, _ := at.call("GET", "/tests", viewerToken, "", &list); code != http.StatusOK || len(list) != 1 || list[0].ID != id || list[0].Phase != proto.PhasePending || list[0].Name != "smoke" {
		t.Errorf("list: %d %+v, want the one pending test", code, list)
	}
	var shown view.Test
	if code, _ := at.call("GET", "/tests/"+id, viewerToken, "", &shown); code != http.StatusOK || shown.ID != id || shown.Spec == nil || shown.Spec.Load.Rate != 10 {
		t.Errorf("show: %d %+v", code, shown)
	}
	if code, _ := at.call("GET", "/tests/20990101-000000-nothere", viewerToken, "", nil); code != http.StatusNotFound {
		t.Errorf("show of an unknown test: %d, want 404", code)
	}
	at.setPhase(id, proto.PhaseRunning)
	if code, _ := at.call("POST", "/tests/"+id+"/stop", operatorToken, "", nil); code != http.StatusAccepted {
		t.Errorf("stop: %d, want 202", code)
	}
	d, _, err := at.zk.Get(context.Background(), at.p.Stop(id))
	var stop proto.StopRequest
	if err != nil || json.Unmarshal(d, &stop) != nil || stop.Reason != "stopped by user" {
		t.Errorf("stop node %s (%v), want reason \"stopped by user\"", d, err)
	}
	if code, _ := at.call("DELETE", "/tests/"+id, operatorToken, "", nil); code != http.StatusConflict {
		t.Errorf("delete while running: %d, want 409", code)
	}
	at.setPhase(id, proto.PhaseStopped)
	if code, _ := at.call("POST", "/tests/"+id+"/stop", operatorToken, "", nil); code != http.StatusConflict {
		t.Errorf("stop of an ended test: %d, want 409", code)
	}
	if code, _ := at.call("DELETE", "/tests/"+id, operatorToken, "", nil); code != http.StatusNoContent {
		t.Errorf("delete: %d, want 204", code)
	}
	if ok, _, err := at.zk.Exists(context.Background(), at.p.Test(id)); ok || err != nil {
		t.Errorf("the deleted test's node is still there (%v)", err)
	}
	if code, _ := at.call("GET", "/tests/"+id, viewerToken, "", nil); code != http.StatusNotFound {
		t.Errorf("show after delete: %d, want 404", code)
	}
}

// A pending test deleted through the API is marked stopped (so a leader
// planning it meanwhile loses) before its nodes go.
func TestDeletePendingOnTheTwin(t *testing.T) {
	at := newAPITwin(t)
	var created struct{ ID string }
	if code, _ := at.call("POST", "/tests", operatorToken, validSpec, &created); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	_, _, w, err := at.zk.GetW(context.Background(), at.p.State(created.ID))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := at.call("DELETE", "/tests/"+created.ID, operatorToken, "", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d, want 204", code)
	}
	if ev := <-w; ev.Type != coord.EventDataChanged {
		t.Errorf("the state's first change is %+v, want it rewritten (stopped) before it is deleted", ev)
	}
}

// The cluster and workers views come from the registrations; with
// ZooKeeper unreachable every call answers 503 within the call timeout.
func TestViewsAndUnavailableOnTheTwin(t *testing.T) {
	at := newAPITwin(t)
	ctx := context.Background()
	if _, err := at.zk.Register(ctx, at.p.Masters(), "n_", proto.Marshal(proto.MasterInfo{ID: "m1", APIURL: "http://m1"})); err != nil {
		t.Fatal(err)
	}
	if _, err := at.zk.Register(ctx, at.p.Workers(), "w-", proto.Marshal(proto.WorkerInfo{ID: "w1", State: proto.WorkerIdle, Cores: 2})); err != nil {
		t.Fatal(err)
	}
	var cv ClusterView
	if code, _ := at.call("GET", "/cluster", viewerToken, "", &cv); code != http.StatusOK || cv.Leader == nil || cv.Leader.ID != "m1" || cv.ZooKeeper.State != "connected" {
		t.Errorf("cluster: %d %+v, want m1 leading and a connected session", code, cv)
	}
	var ws []view.Worker
	if code, _ := at.call("GET", "/workers", viewerToken, "", &ws); code != http.StatusOK || len(ws) != 1 || ws[0].ID != "w1" || ws[0].State != proto.WorkerIdle {
		t.Errorf("workers: %d %+v, want w1 idle", code, ws)
	}
	at.srv.Partition(at.api.Session().ID)
	began := time.Now()
	for _, path := range []string{"/tests", "/workers", "/cluster"} {
		if code, _ := at.call("GET", path, viewerToken, "", nil); code != http.StatusServiceUnavailable {
			t.Errorf("GET %s cut off from ZooKeeper: %d, want 503", path, code)
		}
	}
	if code, _ := at.call("POST", "/tests", operatorToken, validSpec, nil); code != http.StatusServiceUnavailable {
		t.Errorf("POST /tests cut off from ZooKeeper: %d, want 503", code)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("four calls cut off took %v, want each bounded by the 300 ms call timeout", d)
	}
}
