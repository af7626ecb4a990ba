package zktest

import "testing"

func TestParseSS(t *testing.T) {
	out := "0      0      127.0.0.1:2181 127.0.0.1:48276\n" +
		"\t bbr wscale:10,10 rto:204 bytes_sent:300 bytes_acked:300 bytes_received:1000 segs_out:2\n" +
		"0      0      127.0.0.1:2181 127.0.0.1:48280\n" +
		"\t cubic bytes_acked:7 bytes_received:9\n"
	got := parseSS(out)
	if len(got) != 2 || got["127.0.0.1:48276"] != (Traffic{1000, 300}) || got["127.0.0.1:48280"] != (Traffic{9, 7}) {
		t.Fatalf("parsed %+v", got)
	}
	later := map[string]Traffic{"127.0.0.1:48276": {1500, 400}, "127.0.0.1:50000": {10, 20}}
	if s := TrafficSince(got, later); s != (Traffic{510, 120}) {
		t.Errorf("traffic since %+v, want {510 120}", s)
	}
}
