package integration

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A websocket handshake written by hand, so these tests see exactly what
// a client sends and what the master answers (the websocket library is
// the live hub's alone).

// wsConn is an accepted websocket connection (server frames are unmasked).
type wsConn struct {
	net.Conn
	r *bufio.Reader
}

// wsDial sends a websocket handshake for path to addr with the extra
// header lines ("Name: value") and returns the answer; on 101 also the
// connection, which the caller closes.
func wsDial(t *testing.T, addr, path string, header ...string) (*http.Response, *wsConn) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	for _, h := range header {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		c.Close()
		t.Fatalf("websocket handshake %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		c.Close()
		return resp, nil
	}
	return resp, &wsConn{Conn: c, r: r}
}

// readText reads one text message within d (control frames are skipped).
func (c *wsConn) readText(d time.Duration) (string, error) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.r, h[:]); err != nil {
			return "", err
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.r, b[:]); err != nil {
				return "", err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.r, b[:]); err != nil {
				return "", err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > 16<<20 {
			return "", fmt.Errorf("frame of %d bytes", n)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return "", err
		}
		switch h[0] & 0x0f {
		case 1:
			return string(buf), nil
		case 8:
			return "", fmt.Errorf("closed by the master: %q", buf)
		}
	}
}

// expectCluster reads the cluster feed's first message.
func (c *wsConn) expectCluster(t *testing.T) {
	t.Helper()
	msg, err := c.readText(10 * time.Second)
	if err != nil {
		t.Fatalf("reading the cluster feed: %v", err)
	}
	if !strings.Contains(msg, `"type":"cluster"`) {
		t.Fatalf("first cluster feed message %.200s, want a cluster message", msg)
	}
}
