package client

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// scripted is a raw TCP server that answers each request on a connection
// with the next response of a script, written in pieces of `piece` bytes
// with a pause between them, so that the client reads a head or a body
// in many parts.
func scripted(t *testing.T, responses []string, piece int) string {
	t.Helper()
	return serveConns(t, func(_ int, c net.Conn) { serveScript(c, responses, piece) })
}

// serveConns starts a raw TCP server for the test that hands its n-th
// accepted connection (from 0) to serve, in a goroutine of its own, and
// returns its address.
func serveConns(t *testing.T, serve func(n int, c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serve(n, c) })
		}
	})
	return ln.Addr().String()
}

func serveScript(c net.Conn, responses []string, piece int) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for _, resp := range responses {
		if !readHead(br) {
			return
		}
		for off := 0; off < len(resp); off += piece {
			if _, err := c.Write([]byte(resp[off:min(off+piece, len(resp))])); err != nil {
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
}

// readHead reads one request head (the tests send no bodies); false at
// the end of the connection.
func readHead(br *bufio.Reader) bool {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return false
		}
		if line == "\r\n" {
			return true
		}
	}
}

// sequence is a Driver that sends n requests, one after another, on
// connection 0 and keeps every outcome.
type sequence struct {
	req  *Request
	n    int
	sent int
	got  []Result
}

func (s *sequence) Next(i int, _ time.Time) Step {
	if i != 0 || s.sent == s.n {
		return Step{}
	}
	s.sent++
	return Step{Req: s.req}
}

func (s *sequence) Done(_ int, res Result, _, _ time.Time) { s.got = append(s.got, res) }

// transport is what the tests drive: a Loop or a Serial.
type transport interface {
	Run(stop <-chan struct{}, cutoff time.Time, d Driver)
	Close()
}

// transportCase is one transport under test, made for an endpoint.
type transportCase struct {
	name string
	make func(t *testing.T, ep Endpoint) transport
}

func serialCase() transportCase {
	return transportCase{"serial", func(_ *testing.T, ep Endpoint) transport {
		return NewSerial([]Endpoint{ep}, 5*time.Second)
	}}
}

// TestResponsesInPieces: responses whose heads and bodies arrive in many
// small reads, interim 100 Continue responses, chunked bodies with
// trailers, and a body that lasts until the server closes are each read
// exactly, on every transport.
func TestResponsesInPieces(t *testing.T) {
	script := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Long: " + strings.Repeat("h", 600) + "\r\n\r\nhello world",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
	}
	want := []Result{{Status: 200, BytesIn: 11}, {Status: 201, BytesIn: 3}, {Status: 200, BytesIn: 9}, {Status: 204}, {Status: 200, BytesIn: 13}}
	for _, tc := range transportCases() {
		for _, piece := range []int{1, 7, 1 << 20} {
			t.Run(fmt.Sprintf("%s-pieces-%d", tc.name, piece), func(t *testing.T) {
				addr := scripted(t, script, piece)
				ep := Endpoint{Addr: addr}
				tr := tc.make(t, ep)
				defer tr.Close()
				d := &sequence{req: NewRequest(Spec{Method: "GET", URL: "http://" + addr + "/", KeepAlive: true}), n: len(script)}
				tr.Run(make(chan struct{}), time.Time{}, d)
				if len(d.got) != len(want) {
					t.Fatalf("pieces of %d: %d outcomes %+v, want %d", piece, len(d.got), d.got, len(want))
				}
				for i, g := range d.got {
					if g.Kind != OK || g.Status != want[i].Status || g.BytesIn != want[i].BytesIn || g.BytesOut == 0 {
						t.Errorf("pieces of %d: response %d = %+v, want %+v with request bytes out", piece, i, g, want[i])
					}
				}
			})
		}
	}
}
