package client

import "testing"

// TestBodyFraming: the streaming body reader counts exactly the body bytes
// of every framing, wherever the reads split the bytes, leaves what follows
// the body unconsumed, and stops broken or over-long bodies.
func TestBodyFraming(t *testing.T) {
	tests := []struct {
		name     string
		mode     bodyMode
		cl, max  int64
		wire     string
		wantN    int64
		wantUsed int  // bytes of wire that are body
		complete bool // complete before the connection closes
		wantKind Kind
	}{
		{"length", bodyLength, 5, 0, "helloNEXT", 5, 5, true, OK},
		{"length short", bodyLength, 9, 0, "hello", 5, 5, false, OK},
		{"length over the limit", bodyLength, 11, 10, "", 0, 0, false, TooLarge},
		{"length at the limit", bodyLength, 10, 10, "0123456789", 10, 10, true, OK},
		{"chunked", bodyChunked, -1, 0, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT", 11, 26, true, OK},
		{"chunked hex and extension", bodyChunked, -1, 0, "A;name=v\r\n0123456789\r\n0\r\n\r\n", 10, 27, true, OK},
		{"chunked trailers", bodyChunked, -1, 0, "3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-B: 2\r\n\r\n", 3, 31, true, OK},
		{"chunked bare newlines", bodyChunked, -1, 0, "3\nabc\n0\n\n", 3, 9, true, OK},
		{"chunked incomplete", bodyChunked, -1, 0, "5\r\nhel", 3, 6, false, OK},
		{"chunked bad size", bodyChunked, -1, 0, "zz\r\n", 0, 1, false, IO},
		{"chunked empty size line", bodyChunked, -1, 0, "\r\n", 0, 2, false, IO},
		{"chunked no CRLF after data", bodyChunked, -1, 0, "1\r\naXX", 1, 5, false, IO},
		{"chunked over the limit", bodyChunked, -1, 8, "5\r\nhello\r\n5\r\n", 5, 13, false, TooLarge},
		{"until close", bodyUntilClose, -2, 0, "everything", 10, 10, false, OK},
		{"until close over the limit", bodyUntilClose, -2, 4, "everything", 10, 10, false, TooLarge},
		{"none", bodyNone, 0, 0, "NEXT", 0, 0, true, OK},
	}
	for _, tt := range tests {
		for _, step := range []int{1, 2, 3, 7, 1 << 20} {
			var b body
			k := b.reset(tt.mode, tt.cl, tt.max)
			used, complete := 0, b.done()
			for k == OK && !complete && used < len(tt.wire) {
				end := min(used+step, len(tt.wire))
				n, c, kk := b.feed([]byte(tt.wire[used:end]))
				used, complete, k = used+n, c, kk
				if n < end-(used-n) && k == OK && !complete {
					t.Fatalf("%s (reads of %d): feed took %d of %d bytes without completing", tt.name, step, n, end-(used-n))
				}
			}
			if k != tt.wantKind || (k == OK && (b.n != tt.wantN || used != tt.wantUsed || complete != tt.complete)) {
				t.Errorf("%s (reads of %d): n %d used %d complete %v kind %v; want n %d used %d complete %v kind %v",
					tt.name, step, b.n, used, complete, k, tt.wantN, tt.wantUsed, tt.complete, tt.wantKind)
			}
		}
	}
}
