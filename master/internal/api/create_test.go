package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/pkg/proto"
)

// workerReads counts the API's reads of worker registrations since from.
func (at *apiTwin) workerReads(from int) (int, int) {
	reqs := at.srv.Requests()
	n := 0
	for _, r := range reqs[from:] {
		if r.Session == at.api.Session().ID && r.Op == "get" && strings.HasPrefix(r.Paths[0], at.p.Workers()+"/") {
			n++
		}
	}
	return n, len(reqs)
}

// A POST whose spec names its worker count reads no worker registration
// (with 2,000 workers, reading each one took a second of the POST); one
// that runs on every live worker counts them for the limits.
func TestCreateReadsRegistrationsOnlyToCountThem(t *testing.T) {
	at := newAPITwin(t)
	for _, w := range []string{"w1", "w2", "w3"} {
		if _, err := at.zk.Register(context.Background(), at.p.Workers(), "w-", proto.Marshal(proto.WorkerInfo{ID: w})); err != nil {
			t.Fatal(err)
		}
	}
	at.srv.Record()
	named := `{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":10,"duration":"1s"},"workers":2}`
	if code, _ := at.call("POST", "/tests", operatorToken, named, nil); code != http.StatusCreated {
		t.Fatalf("create with workers 2: %d", code)
	}
	reads, mark := at.workerReads(0)
	if reads != 0 {
		t.Errorf("a POST naming its worker count read %d registrations, want none", reads)
	}
	every := `{"request":{"url":"http://127.0.0.1:9/"},"load":{"model":"constant-rate","rate":10,"duration":"1s"}}`
	if code, _ := at.call("POST", "/tests", operatorToken, every, nil); code != http.StatusCreated {
		t.Fatalf("create on every worker: %d", code)
	}
	if reads, _ = at.workerReads(mark); reads != 3 {
		t.Errorf("a POST on every live worker read %d registrations, want the 3 live ones", reads)
	}
}
