package testcluster

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 6455 defines the accept key with SHA-1
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// MaxWSMessage bounds one message a WS reads.
const MaxWSMessage = 16 << 20

// WS is a minimal websocket client (RFC 6455) for the live feeds: it reads
// text or binary messages, answers pings and reports a close. It is written
// here because only master/internal/live may import a websocket library.
// A WS is used by one goroutine.
type WS struct {
	conn net.Conn
	br   *bufio.Reader
}

// ErrWSClosed is what Next returns once the server closed the connection.
var ErrWSClosed = errors.New("websocket closed by the server")

// DialWS opens a websocket to rawURL (http://host:port/path) with the
// viewer token, and closes it at cleanup.
func DialWS(t testing.TB, rawURL string) *WS {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatalf("websocket %s: %v", rawURL, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		t.Fatal(err)
	}
	key := base64.StdEncoding.EncodeToString(nonce[:])
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
		u.RequestURI(), u.Host, key, ViewerToken); err != nil {
		t.Fatalf("websocket %s: %v", rawURL, err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("websocket %s: %v", rawURL, err)
	}
	defer resp.Body.Close() // a 101's body is empty: the connection is the websocket
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("websocket %s: handshake answered %s %s", rawURL, resp.Status, body)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) //nolint:gosec // protocol
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Fatalf("websocket %s: Sec-WebSocket-Accept %q, want %q", rawURL, got, want)
	}
	return &WS{conn: conn, br: br}
}

// Next returns the next message, waiting at most d; ErrWSClosed once the
// server closed the connection.
func (w *WS) Next(d time.Duration) ([]byte, error) {
	if err := w.conn.SetDeadline(time.Now().Add(d)); err != nil {
		return nil, err
	}
	var msg []byte
	for {
		fin, op, payload, err := w.frame()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x8:
			return nil, ErrWSClosed
		case 0x9:
			if err := w.write(0xA, payload); err != nil {
				return nil, err
			}
			continue
		case 0xA:
			continue
		}
		if len(msg)+len(payload) > MaxWSMessage {
			return nil, fmt.Errorf("websocket message over %d bytes", MaxWSMessage)
		}
		msg = append(msg, payload...)
		if fin {
			return msg, nil
		}
	}
}

// frame reads one frame.
func (w *WS) frame() (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(w.br, h[:]); err != nil {
		return
	}
	fin, op = h[0]&0x80 != 0, h[0]&0x0f
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, err = io.ReadFull(w.br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, err = io.ReadFull(w.br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	if err != nil {
		return
	}
	if n > MaxWSMessage {
		return false, 0, nil, fmt.Errorf("websocket frame of %d bytes", n)
	}
	var mask [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err = io.ReadFull(w.br, mask[:]); err != nil {
			return
		}
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(w.br, payload); err != nil {
		return
	}
	if masked {
		for i := range payload {
			payload[i] ^= mask[i%4]
		}
	}
	return fin, op, payload, nil
}

// write sends one masked frame (control frames only: at most 125 bytes).
func (w *WS) write(op byte, payload []byte) error {
	if len(payload) > 125 {
		return fmt.Errorf("websocket control frame of %d bytes", len(payload))
	}
	var mask [4]byte
	if _, err := rand.Read(mask[:]); err != nil {
		return err
	}
	out := append([]byte{0x80 | op, 0x80 | byte(len(payload))}, mask[:]...)
	for i, b := range payload {
		out = append(out, b^mask[i%4])
	}
	_, err := w.conn.Write(out)
	return err
}
