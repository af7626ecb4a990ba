// Throwaway dev server (not committed): dashboard + synthetic API.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stampede-load/stampede/dashboard"
	"github.com/stampede-load/stampede/master/internal/live"
)

type M = map[string]any

var (
	mu     sync.Mutex
	points []M
	start  = time.Now()
	phase  = "running"
	hub    = live.NewHub(live.Options{})
	dur    = 15
)

func lat(base float64) M {
	return M{"min": base * 0.2, "mean": base, "p50": base * 0.9, "p90": base * 1.5, "p95": base * 1.8, "p99": base * 3, "p999": base * 5, "max": base * 8}
}

func point(i int) M {
	ws := M{}
	total := 0.0
	for w, id := range []string{"worker-1", "worker-2", "worker-3"} {
		r := 300 + 50*math.Sin(float64(i)/3+float64(w)) + rand.Float64()*20
		total += r
		ws[id] = M{"requests": int(r), "errors": 2, "rps": r, "p99_ms": 12.5}
	}
	return M{"second": i, "t": start.Add(time.Duration(i+1) * time.Second).UnixMilli(), "requests": int(total), "rps": total,
		"errors": 6 + i%4, "error_kinds": M{"unexpected_status": 5, "timeout": 1 + i%4}, "status_codes": M{"200": int(total) - 5, "503": 5},
		"latency_ms": lat(4 + rand.Float64()), "workers": ws}
}

func test() M {
	mu.Lock()
	defer mu.Unlock()
	n := len(points)
	reqs := n * 950
	w := []M{}
	for _, id := range []string{"worker-1", "worker-2", "worker-3"} {
		st := "running"
		if phase != "running" {
			st = "done"
		}
		w = append(w, M{"id": id, "state": st, "requests": reqs / 3, "errors": n * 2, "rps": 316.7, "p99_ms": 12.4, "start_skew_ms": 0.42})
	}
	dist := []M{}
	for _, p := range []float64{0, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100} {
		dist = append(dist, M{"percentile": p, "ms": 1 + math.Pow(p/100, 40)*60})
	}
	ended := ""
	if phase != "running" {
		ended = start.Add(time.Duration(n) * time.Second).Format(time.RFC3339)
	}
	return M{"id": "t-20261122-abc", "name": "checkout-smoke", "phase": phase, "reason": "",
		"created_at": start.Add(-2 * time.Second).Format(time.RFC3339), "start_at": start.Format(time.RFC3339), "ended_at": ended,
		"spec":    M{"request": M{"method": "GET", "url": "http://127.0.0.1:8081/ping"}, "load": M{"model": "constant-rate", "rate": 900, "duration": fmt.Sprintf("%ds", dur)}},
		"workers": w,
		"summary": M{"requests": reqs, "errors": n * 6, "rps": 950.3, "duration_s": float64(n), "latency_ms": lat(4.2),
			"status_codes": M{"200": reqs - n*5, "503": n * 5}, "error_kinds": M{"unexpected_status": n * 5, "timeout": n}, "bytes_in": reqs * 120, "bytes_out": reqs * 80,
			"max_start_skew_ms": 0.42, "target_rate": 900, "workers": w, "distribution": dist}}
}

func js(v any) []byte { b, _ := json.Marshal(v); return b }

func main() {
	go func() {
		for i := 0; ; i++ {
			time.Sleep(time.Second)
			mu.Lock()
			if phase != "running" {
				mu.Unlock()
				continue
			}
			p := point(i)
			points = append(points, p)
			if len(points) >= dur {
				phase = "completed"
			}
			ph := phase
			mu.Unlock()
			if ph == "running" {
				hub.Publish("t", js(M{"type": "update", "test": test(), "point": p}))
			} else {
				hub.Finish("t", js(M{"type": "final", "test": test()}))
			}
		}
	}()
	cluster := M{"self": M{"id": "master-b", "api_url": "http://127.0.0.1:8090"}, "leader": M{"id": "master-a", "api_url": "http://127.0.0.1:8080"},
		"masters":   []M{{"id": "master-a", "api_url": "http://127.0.0.1:8080", "version": "dev", "leader": true}, {"id": "master-b", "api_url": "http://127.0.0.1:8090", "version": "dev", "leader": false}},
		"zookeeper": M{"servers": "127.0.0.1:2181", "state": "connected", "session_id": "0x1000abc"}}
	workers := []M{{"id": "worker-1", "state": "running", "test": "t-20261122-abc", "host": "h1", "ip": "127.0.0.1", "version": "dev", "cores": 2},
		{"id": "worker-2", "state": "running", "test": "t-20261122-abc", "host": "h1", "ip": "127.0.0.1", "version": "dev", "cores": 2},
		{"id": "worker-3", "state": "idle", "host": "h1", "ip": "127.0.0.1", "version": "dev", "cores": 2}}
	list := func() []M {
		t := test()
		return []M{{"id": t["id"], "name": t["name"], "phase": t["phase"], "created_at": t["created_at"], "start_at": t["start_at"], "ended_at": t["ended_at"], "summary": t["summary"]},
			{"id": "t-old", "name": "", "phase": "failed", "reason": "workers not ready within 30s", "created_at": "2026-11-21T10:00:00Z"}}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/cluster", func(w http.ResponseWriter, r *http.Request) { w.Write(js(cluster)) })
	mux.HandleFunc("GET /api/v1/workers", func(w http.ResponseWriter, r *http.Request) { w.Write(js(workers)) })
	mux.HandleFunc("GET /api/v1/tests", func(w http.ResponseWriter, r *http.Request) { w.Write(js(list())) })
	mux.HandleFunc("GET /api/v1/tests/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "t-20261122-abc" {
			w.WriteHeader(404)
			w.Write([]byte(`{"error":"no such test"}`))
			return
		}
		w.Write(js(test()))
	})
	mux.HandleFunc("GET /api/v1/tests/{id}/timeline", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Write(js(M{"id": "x", "points": points}))
	})
	mux.HandleFunc("POST /api/v1/tests/{id}/stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		phase = "stopped"
		mu.Unlock()
		w.WriteHeader(202)
		w.Write([]byte(`{"id":"x","phase":"running"}`))
	})
	mux.HandleFunc("POST /api/v1/tests", func(w http.ResponseWriter, r *http.Request) {
		var b M
		json.NewDecoder(r.Body).Decode(&b)
		ld, _ := b["load"].(M)
		_ = ld
		if strings.Contains(fmt.Sprint(b), "rate:0") || strings.Contains(fmt.Sprint(b), "bad") {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"invalid spec","fields":[{"field":"load.rate","problem":"must be a positive number of requests per second for model \"constant-rate\""},{"field":"requests_mix[1].url","problem":"is not a valid URL"}]}`))
			return
		}
		w.WriteHeader(201)
		w.Write([]byte(`{"id":"t-20261122-abc"}`))
	})
	mux.Handle("GET /api/v1/tests/{id}/live", hub.Handler(func(r *http.Request) (string, error) { return "t", nil }, func(string) ([][]byte, bool) {
		t := test()
		mu.Lock()
		defer mu.Unlock()
		return [][]byte{js(M{"type": "snapshot", "test": t, "points": points})}, phase != "running"
	}))
	mux.Handle("GET /api/v1/live", hub.Handler(func(r *http.Request) (string, error) { return "cluster", nil }, func(string) ([][]byte, bool) {
		return [][]byte{js(M{"type": "cluster", "cluster": cluster, "workers": workers, "tests": list()})}, false
	}))
	mux.Handle("/", dashboard.Handler())
	fmt.Println("listening :18999")
	http.ListenAndServe("127.0.0.1:18999", mux)
}
