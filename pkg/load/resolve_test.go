package load

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/spec"
)

// TestResolveIsWhereConnectionsGo: with Options.Resolve the engine dials
// the address Resolve returned, not what the URL's name resolves to (the
// name here resolves nowhere), and requests keep the URL's Host header; a
// Resolve error refuses the plan before any connection opens.
func TestResolveIsWhereConnectionsGo(t *testing.T) {
	var mu sync.Mutex
	hosts := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts[r.Host]++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	name := "target.stampede.invalid:" + port
	engines(t, func(t *testing.T) {
		mu.Lock()
		clear(hosts)
		mu.Unlock()
		var asked []string
		resolve := func(_ context.Context, hp string) (string, error) {
			asked = append(asked, hp)
			return srv.Listener.Addr().String(), nil
		}
		s := testSpec("http://"+name+"/p", spec.Load{Model: spec.ModelAvalanche, Requests: 5, Concurrency: 1})
		r, err := PrepareWith(context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}}, Options{Resolve: resolve})
		if err != nil {
			t.Fatalf("PrepareWith: %v", err)
		}
		defer r.Close()
		if err := r.Run(context.Background(), time.Now().Add(10*time.Millisecond)); err != nil {
			t.Fatalf("Run: %v", err)
		}
		c := r.Collect().Counters
		mu.Lock()
		defer mu.Unlock()
		if c.Requests != 5 || c.Errors != 0 || hosts[name] != 5 || len(asked) != 1 || asked[0] != name {
			t.Fatalf("requests %d errors %d %v, server saw Host %v, Resolve asked %v; want 5 requests with Host %s", c.Requests, c.Errors, c.ErrorKinds, hosts, asked, name)
		}
	})
	refuse := errors.New("not allowed")
	s := testSpec(srv.URL+"/p", spec.Load{Model: spec.ModelAvalanche, Requests: 5, Concurrency: 1})
	_, err := PrepareWith(context.Background(), Plan{Spec: s, Share: plan.Share{Of: 1}},
		Options{Resolve: func(context.Context, string) (string, error) { return "", refuse }})
	if !errors.Is(err, refuse) || !errors.Is(err, ErrInvalidPlan) {
		t.Fatalf("PrepareWith with a refusing Resolve = %v, want ErrInvalidPlan wrapping the refusal", err)
	}
}
