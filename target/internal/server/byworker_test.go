package server

import (
	"net/http"
	"testing"
)

// /stats splits the load requests by the X-Stampede-Worker header value;
// requests without it count only in the total, and a reset clears the split.
func TestStatsCountsPerWorkerHeader(t *testing.T) {
	_, base := startTarget(t)
	send := func(worker string, n int) {
		for range n {
			req, _ := http.NewRequest(http.MethodGet, base+"/ping", nil)
			if worker != "" {
				req.Header.Set(WorkerHeader, worker)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	send("w1", 3)
	send("w2", 2)
	send("", 4)
	s := stats(t, base)
	if s.Requests != 9 || s.ByWorker["w1"] != 3 || s.ByWorker["w2"] != 2 || len(s.ByWorker) != 2 {
		t.Errorf("requests %d by worker %v, want 9 with w1:3 w2:2", s.Requests, s.ByWorker)
	}
	post(t, base+"/stats/reset")
	if s := stats(t, base); s.Requests != 0 || len(s.ByWorker) != 0 {
		t.Errorf("after reset: requests %d by worker %v, want 0 and none", s.Requests, s.ByWorker)
	}
}
