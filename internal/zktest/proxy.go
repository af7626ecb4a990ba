package zktest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy for partition tests. While blocked it black-holes
// traffic in both directions and keeps the sockets open, which is what a
// network partition looks like to a ZooKeeper client: no reset, no data.
type Proxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	blocked bool
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
	// toServer and toClient count the bytes forwarded each way.
	toServer, toClient atomic.Int64
}

// Bytes is how many bytes the proxy forwarded to the server (written by
// its clients) and to the clients (read by them) so far.
func (p *Proxy) Bytes() (toServer, toClient int64) {
	return p.toServer.Load(), p.toClient.Load()
}

// NewProxy listens on a free loopback port and forwards to target.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Block starts black-holing all traffic (and new connections hang).
func (p *Proxy) Block() {
	p.mu.Lock()
	p.blocked = true
	p.mu.Unlock()
}

// Unblock lets traffic flow again; data held during the block is dropped.
func (p *Proxy) Unblock() {
	p.mu.Lock()
	p.blocked = false
	p.mu.Unlock()
}

// Reset closes every connection the proxy holds (as a reset would), so that
// a client redials at once instead of waiting on a dead one.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.blocked = false
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			u.Close()
			return
		}
		p.conns[c], p.conns[u] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, u, &p.toClient)
		go p.pipe(u, c, &p.toServer)
	}
}

// pipe copies src to dst, discarding what arrives while blocked, and
// counts what it forwards.
func (p *Proxy) pipe(dst, src net.Conn, count *atomic.Int64) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			drop := p.blocked
			closed := p.closed
			p.mu.Unlock()
			if closed {
				return
			}
			if !drop {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
				count.Add(int64(n))
			}
		}
		if err != nil { // EOF or closed: the other direction ends too
			return
		}
	}
}
