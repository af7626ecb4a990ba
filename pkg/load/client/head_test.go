package client

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// headCase is a response head and what parsing it must give.
type headCase struct {
	name   string
	wire   string
	n      int // the head's length; 0: incomplete; -1: all of wire
	kind   Kind
	status int
	length int64
	te     teMode
	close  bool
}

const okHead = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Type: text/plain\r\n\r\n"

var headCases = []headCase{
	{"canned", okHead + "pong", len(okHead), OK, 200, 4, teNone, false},
	{"bare newlines", "HTTP/1.1 200 OK\nContent-Length: 4\n\n", -1, OK, 200, 4, teNone, false},
	{"mixed line ends", "HTTP/1.1 200 OK\r\nContent-Length: 4\n\r\n", -1, OK, 200, 4, teNone, false},
	{"no reason", "HTTP/1.1 204\r\n\r\n", -1, OK, 204, -1, teNone, false},
	{"empty reason", "HTTP/1.1 404 \r\n\r\n", -1, OK, 404, -1, teNone, false},
	{"reason with spaces", "HTTP/1.1 503 Service Unavailable\r\n\r\n", -1, OK, 503, -1, teNone, false},
	{"interim", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 25, OK, 100, -1, teNone, false},
	{"status 999", "HTTP/1.1 999 Odd\r\n\r\n", -1, OK, 999, -1, teNone, false},
	{"names in any case", "HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 3\r\ntransfer-encoding: CHUNKED\r\nConnection: Close\r\n\r\n", -1, OK, 200, 3, teChunked, true},
	{"length with whitespace", "HTTP/1.1 200 OK\r\nContent-Length: \t 12 \t\r\n\r\n", -1, OK, 200, 12, teNone, false},
	{"length zero", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", -1, OK, 200, 0, teNone, false},
	{"length repeated, agreeing", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", -1, OK, 200, 5, teNone, false},
	{"length list, agreeing", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5,5\r\n\r\n", -1, OK, 200, 5, teNone, false},
	{"length at int64's max", "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n", -1, OK, 200, 1<<63 - 1, teNone, false},
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", -1, OK, 200, -1, teChunked, false},
	{"chunked last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -1, OK, 200, -1, teChunked, false},
	{"chunked with a parameter", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked ; x=y\r\n\r\n", -1, OK, 200, -1, teChunked, false},
	{"chunked in a later field", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", -1, OK, 200, -1, teChunked, false},
	{"chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", -1, OK, 200, -1, teChunked, false},
	{"chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", -1, OK, 200, -1, teOther, false},
	{"coding without chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n", -1, OK, 200, 5, teOther, false},
	{"identity", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\n", -1, OK, 200, 5, teNone, false},
	{"empty list elements", "HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked,\r\nConnection: ,\r\n\r\n", -1, OK, 200, -1, teChunked, false},
	{"close in a list", "HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\n\r\n", -1, OK, 200, -1, teNone, true},
	{"other options", "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n", -1, OK, 101, -1, teNone, false},
	{"HTTP/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", -1, OK, 200, 2, teNone, true},
	{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\n", -1, OK, 200, 2, teNone, false},
	{"HTTP/1.0 keep-alive and close", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", -1, OK, 200, -1, teNone, true},
	{"fold after another field", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\t3\r\nContent-Length: 1\r\n\r\n", -1, OK, 200, 1, teNone, false},
	{"names like framing ones", "HTTP/1.1 200 OK\r\nContent-Lengths: x\r\nX-Content-Length: y\r\nConnectionx: close\r\n\r\n", -1, OK, 200, -1, teNone, false},
	{"other values are not read", "HTTP/1.1 200 OK\r\nX-Bin: \x00\x7f\xff\r\nContent-Length: 1\r\n\r\n", -1, OK, 200, 1, teNone, false},

	{"empty", "", 0, OK, 0, 0, 0, false},
	{"status line in part", "HTTP/1.1 20", 0, OK, 0, 0, 0, false},
	{"no empty line yet", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n", 0, OK, 0, 0, 0, false},
	{"half an empty line", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r", 0, OK, 0, 0, 0, false},

	{"lengths disagree", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"length list disagrees", "HTTP/1.1 200 OK\r\nContent-Length: 4, 5\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"length negative", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"length signed", "HTTP/1.1 200 OK\r\nContent-Length: +4\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"length hex", "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"length empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"length two numbers", "HTTP/1.1 200 OK\r\nContent-Length: 4 4\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"length empty element", "HTTP/1.1 200 OK\r\nContent-Length: 4,\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"length overflows", "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"length far too long", "HTTP/1.1 200 OK\r\nContent-Length: " + strings.Repeat("9", 40) + "\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"status two digits", "HTTP/1.1 20 OK\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"status four digits", "HTTP/1.1 2000 OK\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"status not digits", "HTTP/1.1 2x0 OK\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"status under 100", "HTTP/1.1 099 OK\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"version 2", "HTTP/2.0 200 OK\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"version 1.2", "HTTP/1.2 200 OK\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"version in lower case", "http/1.1 200 OK\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"two spaces", "HTTP/1.1  200 OK\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"not HTTP", "ICY 200 OK\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"empty status line", "\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"line without a colon", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"empty name", "HTTP/1.1 200 OK\r\n: x\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 4\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"control byte in a name", "HTTP/1.1 200 OK\r\nX\x01Y: 4\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"a lone CR line", "HTTP/1.1 200 OK\r\n\r\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"fold after the status line", "HTTP/1.1 200 OK\r\n Content-Length: 4\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"fold after a length", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n 5\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"fold after a coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\tchunked\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"fold after connection", "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n close\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"head too long", "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("h", maxHeaderBytes) + "\r\n\r\n", 0, IO, 0, 0, 0, false},
	{"incomplete and too long", "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("h", maxHeaderBytes), 0, IO, 0, 0, 0, false},
}

// TestParseHead: the status and the framing fields of valid heads, in
// every spelling HTTP/1.x allows; incomplete heads wait; hostile heads
// are broken responses (IO).
func TestParseHead(t *testing.T) {
	for _, tt := range headCases {
		want := tt.n
		if want < 0 {
			want = len(tt.wire)
		}
		var h respHead
		n, k := h.parse([]byte(tt.wire))
		if n != want || k != tt.kind {
			t.Errorf("%s: parse = %d, %v; want %d, %v", tt.name, n, k, want, tt.kind)
			continue
		}
		if n > 0 && (h.status != tt.status || h.length != tt.length || h.te != tt.te || h.close != tt.close) {
			t.Errorf("%s: status %d length %d te %d close %v; want %d %d %d %v",
				tt.name, h.status, h.length, h.te, h.close, tt.status, tt.length, tt.te, tt.close)
		}
	}
}

// TestParseHeadPrefixes: every proper prefix of a valid head is
// incomplete, never a shorter head; the head parses the same whatever
// follows it.
func TestParseHeadPrefixes(t *testing.T) {
	for _, tt := range headCases {
		if tt.kind != OK || tt.n == 0 {
			continue
		}
		wire := []byte(tt.wire)
		var whole respHead
		n, _ := whole.parse(wire)
		for i := range n {
			var h respHead
			if m, k := h.parse(wire[:i]); m != 0 || k != OK {
				t.Errorf("%s: the first %d of %d bytes parse as %d, %v; want incomplete", tt.name, i, n, m, k)
			}
		}
		var h respHead
		if m, k := h.parse([]byte(tt.wire[:n] + "HTTP/1.1 500 X\r\n\r\ntrailing")); m != n || k != OK || h != whole {
			t.Errorf("%s: with bytes after it: %d, %v, %+v; want %d, %+v", tt.name, m, k, h, n, whole)
		}
	}
}

// TestParseHeadAllocatesNothing: parsing a head allocates nothing.
func TestParseHeadAllocatesNothing(t *testing.T) {
	wire := []byte("HTTP/1.1 200 OK\r\nDate: x\r\nTransfer-Encoding: gzip, chunked\r\nConnection: keep-alive, close\r\nContent-Length: 5, 5\r\n\r\n")
	var h respHead
	if a := testing.AllocsPerRun(100, func() { h.parse(wire) }); a != 0 {
		t.Errorf("parse allocates %v times", a)
	}
}

// TestFrame: how each head frames its body, and whether its connection
// is kept.
func TestFrame(t *testing.T) {
	get := NewRequest(Spec{Method: "GET", URL: "http://h/", KeepAlive: true})
	head := NewRequest(Spec{Method: "HEAD", URL: "http://h/", KeepAlive: true})
	closing := NewRequest(Spec{Method: "GET", URL: "http://h/"})
	tests := []struct {
		wire       string
		req        *Request
		interim    bool
		mode       bodyMode
		closeAfter bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", get, false, bodyLength, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", get, false, bodyNone, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", closing, false, bodyLength, true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", head, false, bodyNone, false},
		{"HTTP/1.1 100 Continue\r\n\r\n", get, true, bodyNone, false},
		{"HTTP/1.1 103 Early Hints\r\n\r\n", get, true, bodyNone, false},
		{"HTTP/1.1 101 Switching Protocols\r\n\r\n", get, false, bodyNone, true},
		{"HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\n", get, false, bodyNone, false},
		{"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", get, false, bodyNone, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", get, false, bodyChunked, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", get, false, bodyChunked, true},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 4\r\n\r\n", get, false, bodyUntilClose, true},
		{"HTTP/1.1 200 OK\r\n\r\n", get, false, bodyUntilClose, true},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 4\r\n\r\n", get, false, bodyLength, true},
		{"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\n", get, false, bodyLength, true},
		{"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\n", get, false, bodyLength, false},
	}
	for _, tt := range tests {
		var h respHead
		if _, k := h.parse([]byte(tt.wire)); k != OK {
			t.Fatalf("%q: %v", tt.wire, k)
		}
		var b body
		interim, closeAfter, k := frame(&h, tt.req, &b)
		if k != OK || interim != tt.interim || closeAfter != tt.closeAfter || (!interim && b.mode != tt.mode) {
			t.Errorf("%q (%s): interim %v close %v mode %d kind %v; want %v %v %d OK",
				tt.wire, tt.req.r.Header.Method(), interim, closeAfter, b.mode, k, tt.interim, tt.closeAfter, tt.mode)
		}
	}
}

// TestHostileHeads: a hostile or odd head is read the same by every
// transport, whether it arrives at once or a few bytes at a time: a broken
// one fails the exchange as IO (and nothing panics), an odd but valid one
// is framed as HTTP/1.1 says.
func TestHostileHeads(t *testing.T) {
	long := "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("h", maxHeaderBytes) + "\r\nContent-Length: 1\r\n\r\nx"
	tests := []struct {
		name   string
		wire   string
		pieces []int
		want   Result
	}{
		{"lengths disagree", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", nil, Result{Kind: IO}},
		{"length overflows", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nabc", nil, Result{Kind: IO}},
		{"garbage line", "HTTP/1.1 200 OK\r\n\x00\x01garbage\r\nContent-Length: 1\r\n\r\nx", nil, Result{Kind: IO}},
		{"bad status line", "HTTP/1.1 2OO OK\r\nContent-Length: 1\r\n\r\nx", nil, Result{Kind: IO}},
		{"not HTTP at all", "SSH-2.0-OpenSSH_9.2\r\n\r\n", nil, Result{Kind: IO}},
		{"folded length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 0\r\n\r\nx", nil, Result{Kind: IO}},
		{"head too long", long, []int{4096, 1 << 20}, Result{Kind: IO}},
		{"closed in the head", "HTTP/1.1 200 OK\r\nContent-Le", nil, Result{Kind: IO}},
		{"coding until the close", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcdef", nil, Result{Status: 200, BytesIn: 6}},
		{"HTTP/1.0 until the close", "HTTP/1.0 200 OK\n\nbody", nil, Result{Status: 200, BytesIn: 4}},
		{"chunked over a length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", nil, Result{Status: 200, BytesIn: 3}},
		{"lower-case names, bare newlines", "HTTP/1.1 202 Accepted\ncontent-length: 3\nconnection: keep-alive\n\nabc", nil, Result{Status: 202, BytesIn: 3}},
	}
	for _, tc := range transportCases() {
		for _, tt := range tests {
			pieces := tt.pieces
			if pieces == nil {
				pieces = []int{1, 1 << 20}
			}
			for _, piece := range pieces {
				t.Run(fmt.Sprintf("%s/%s/pieces-%d", tc.name, tt.name, piece), func(t *testing.T) {
					addr := scripted(t, []string{tt.wire}, piece)
					tr := tc.make(t, Endpoint{Addr: addr})
					defer tr.Close()
					d := &sequence{req: NewRequest(Spec{Method: "GET", URL: "http://" + addr + "/", KeepAlive: true}), n: 1}
					tr.Run(make(chan struct{}), time.Now().Add(5*time.Second), d)
					if len(d.got) != 1 {
						t.Fatalf("%d outcomes %+v, want 1", len(d.got), d.got)
					}
					g := d.got[0]
					if g.Kind != tt.want.Kind || g.Status != tt.want.Status || g.BytesIn != tt.want.BytesIn || g.BytesOut == 0 {
						t.Errorf("got %+v, want %+v with request bytes out", g, tt.want)
					}
				})
			}
		}
	}
}

// BenchmarkParseHead is the parse of the canned server's head, the one
// every closed-loop benchmark reads: the client's parser, and for
// comparison fasthttp's ResponseHeader.Read through a bufio.Reader over
// the head, which the loop and Conn used before it.
func BenchmarkParseHead(b *testing.B) {
	wire := []byte(okHead + "pong")
	b.Run("client", func(b *testing.B) {
		var h respHead
		b.ReportAllocs()
		for b.Loop() {
			if n, k := h.parse(wire); n != len(okHead) || k != OK || h.length != 4 {
				b.Fatalf("parse = %d, %v", n, k)
			}
		}
	})
	b.Run("fasthttp", func(b *testing.B) {
		var rd bytes.Reader
		br := bufio.NewReaderSize(&rd, maxHeaderBytes)
		var h fasthttp.ResponseHeader
		b.ReportAllocs()
		for b.Loop() {
			rd.Reset(wire[:len(okHead)])
			br.Reset(&rd)
			if err := h.Read(br); err != nil || h.ContentLength() != 4 || h.ConnectionClose() {
				b.Fatalf("Read: %v", err)
			}
		}
	})
}
