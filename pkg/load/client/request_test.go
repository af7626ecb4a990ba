package client

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// TestRequestBytes: a request goes out as fasthttp writes it; it is
// serialized once while it does not change, and again after each Set*.
func TestRequestBytes(t *testing.T) {
	q := NewRequest(Spec{Method: "POST", URL: "http://example.com:8080/a?x=1", Headers: [][2]string{{"X-Id", "1"}},
		Body: []byte("one"), KeepAlive: true})
	check := func(step string, want ...string) {
		t.Helper()
		got, err := q.bytes()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		var direct bytes.Buffer
		bw := bufio.NewWriter(&direct)
		if err := q.r.Write(bw); err != nil || bw.Flush() != nil {
			t.Fatalf("%s: fasthttp's Write: %v", step, err)
		}
		if !bytes.Equal(got, direct.Bytes()) {
			t.Errorf("%s: sends %q, fasthttp writes %q", step, got, direct.Bytes())
		}
		for _, w := range want {
			if !strings.Contains(string(got), w) {
				t.Errorf("%s: %q does not hold %q", step, got, w)
			}
		}
	}
	check("new", "POST /a?x=1 HTTP/1.1\r\n", "X-Id: 1\r\n", "\r\n\r\none")
	first, _ := q.bytes()
	if again, _ := q.bytes(); &again[0] != &first[0] || q.stale {
		t.Error("an unchanged request was serialized again")
	}
	if a := testing.AllocsPerRun(100, func() { _, _ = q.bytes() }); a != 0 {
		t.Errorf("sending an unchanged request allocates %v times", a)
	}
	q.SetURI([]byte("http://example.com:8080/b"))
	check("SetURI", "POST /b HTTP/1.1\r\n")
	q.SetHeader("X-Id", []byte("2"))
	check("SetHeader", "X-Id: 2\r\n")
	q.SetBody([]byte("second"))
	check("SetBody", "Content-Length: 6\r\n", "\r\n\r\nsecond")
}
