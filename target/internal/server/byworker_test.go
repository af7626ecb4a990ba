package server

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// sendAs sends n load requests carrying worker in WorkerHeader (none if "").
func sendAs(t *testing.T, base, worker string, n int) {
	t.Helper()
	for range n {
		req, err := http.NewRequest(http.MethodGet, base+"/ping", nil)
		if err != nil {
			t.Fatal(err)
		}
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

// /stats splits the load requests by the X-Stampede-Worker header value;
// requests without it count only in the total, and a reset clears the split.
func TestStatsCountsPerWorkerHeader(t *testing.T) {
	_, base := startTarget(t)
	sendAs(t, base, "w1", 3)
	sendAs(t, base, "w2", 2)
	sendAs(t, base, "", 4)
	s := stats(t, base)
	if s.Requests != 9 || s.ByWorker["w1"] != 3 || s.ByWorker["w2"] != 2 || len(s.ByWorker) != 2 {
		t.Errorf("requests %d by worker %v, want 9 with w1:3 w2:2", s.Requests, s.ByWorker)
	}
	post(t, base+"/stats/reset")
	if s := stats(t, base); s.Requests != 0 || len(s.ByWorker) != 0 || len(s.ByWorkerSpan) != 0 || s.FirstUnixNs != 0 || s.LastUnixNs != 0 {
		t.Errorf("after reset: %+v, want no requests, no split, no times", s)
	}
}

// /stats records, on the target's own clock, when the first and the last
// load request began, overall and per worker header value.
func TestStatsRecordsFirstAndLastRequestTimes(t *testing.T) {
	_, base := startTarget(t)
	before := time.Now().UnixNano()
	sendAs(t, base, "w1", 2)
	mid := time.Now().UnixNano()
	sendAs(t, base, "w2", 1)
	sendAs(t, base, "w1", 1)
	sendAs(t, base, "", 1)
	after := time.Now().UnixNano()
	s := stats(t, base)
	w1, w2 := s.ByWorkerSpan["w1"], s.ByWorkerSpan["w2"]
	if len(s.ByWorkerSpan) != 2 {
		t.Fatalf("by_worker_span %v, want w1 and w2", s.ByWorkerSpan)
	}
	for _, c := range []struct {
		what            string
		got, from, upTo int64
	}{
		{"w1 first", w1.FirstUnixNs, before, mid},
		{"w2 first", w2.FirstUnixNs, mid, w1.LastUnixNs},
		{"w2 last", w2.LastUnixNs, w2.FirstUnixNs, w2.FirstUnixNs},
		{"w1 last", w1.LastUnixNs, w2.LastUnixNs, s.LastUnixNs},
		{"overall first", s.FirstUnixNs, w1.FirstUnixNs, w1.FirstUnixNs},
		{"overall last", s.LastUnixNs, w1.LastUnixNs + 1, after},
	} {
		if c.got < c.from || c.got > c.upTo {
			t.Errorf("%s = %d, want in [%d, %d]", c.what, c.got, c.from, c.upTo)
		}
	}
}

// At most MaxWorkerValues distinct header values are tracked; requests
// with further values still count in the total.
func TestStatsBoundsDistinctWorkerValues(t *testing.T) {
	srv, base := startTarget(t)
	for i := range MaxWorkerValues + 5 {
		srv.stats.begin("v" + strconv.Itoa(i))
	}
	sendAs(t, base, "one-more", 1)
	s := stats(t, base)
	if s.Requests != MaxWorkerValues+6 || len(s.ByWorker) != MaxWorkerValues || len(s.ByWorkerSpan) != MaxWorkerValues {
		t.Errorf("requests %d, %d values split, %d spans; want %d requests and %d values",
			s.Requests, len(s.ByWorker), len(s.ByWorkerSpan), MaxWorkerValues+6, MaxWorkerValues)
	}
	if _, ok := s.ByWorker["one-more"]; ok {
		t.Error("a value past the limit was tracked")
	}
}
