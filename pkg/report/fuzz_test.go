package report

import (
	"testing"
)

// FuzzDecodeReport: any bytes decode to a report or an error, without a
// panic, and a decoded report encodes and decodes to the same report.
func FuzzDecodeReport(f *testing.F) {
	r := &Report{Test: "t", Worker: "w1", Seq: 3, State: StateRunning, Interval: Counters{Requests: 5, Status: map[string]int64{"200": 5}},
		Recent: []Interval{{Seq: 2, Counters: Counters{Requests: 4}}}, Name: "GET /"}
	f.Add(r.Encode())
	f.Add([]byte(`{"seq":100000000}`))
	f.Add([]byte(`{"recent":[{"seq":-1}],"totals":{"errors":-5}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeReport(data)
		if err != nil {
			return
		}
		again, err := DecodeReport(r.Encode())
		if err != nil {
			t.Fatalf("a decoded report does not decode again: %v", err)
		}
		if string(again.Encode()) != string(r.Encode()) {
			t.Fatalf("encoding is not stable")
		}
	})
}
