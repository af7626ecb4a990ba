// Package canned is a minimal HTTP/1.1 server for the engine's benchmarks:
// it answers every request (GET, no body) with the same bytes and allocates
// nothing per request, so that a benchmark's allocation count is the
// client's alone.
package canned

import (
	"net"
	"sync"
)

// Response is what the server answers to every request.
const Response = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Type: text/plain\r\n\r\npong"

// Server is a running canned server.
type Server struct {
	ln net.Listener
	wg sync.WaitGroup
}

// Start listens on a loopback port.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops the server and waits for its goroutines.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	var mu sync.Mutex
	var conns []net.Conn
	defer func() {
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	}()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

// serve counts request ends ("\r\n\r\n") and writes one response for each.
func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	in := make([]byte, 64<<10)
	out := make([]byte, 0, 64<<10)
	match := 0 // how much of "\r\n\r\n" the stream currently ends with
	const end = "\r\n\r\n"
	for {
		n, err := c.Read(in)
		if err != nil {
			return
		}
		out = out[:0]
		for _, b := range in[:n] {
			switch b {
			case end[match]:
				match++
			case '\r':
				match = 1
			default:
				match = 0
			}
			if match == len(end) {
				match = 0
				out = append(out, Response...)
			}
		}
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}
}
