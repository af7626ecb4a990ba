package coord

import (
	"net"
	"time"
)

// go-zookeeper gives its session handshake a read and write deadline of ten
// receive timeouts (about 6.7 session timeouts). A handshake sent into a
// network partition is lost, so after the partition heals the client sits
// on the dead connection that long before it redials and learns whether its
// session survived: a master cut off for a few seconds would stay away for
// half a minute, and a SIGTERM during that wait could not close the
// connection. Capping every deadline the library sets at two session
// timeouts bounds that wait without touching the library's regular per-read
// deadlines (2/3 of the session timeout), and still leaves a slow server
// (a session is created by a logged transaction, which can wait seconds
// for fsync) more than a session timeout to answer a healthy handshake.

// cappedDialer returns a dialer whose connections clamp read and write
// deadlines to at most limit from the moment they are set.
func cappedDialer(limit time.Duration) func(network, address string, timeout time.Duration) (net.Conn, error) {
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		c, err := net.DialTimeout(network, address, timeout)
		if err != nil {
			return nil, err
		}
		return &cappedConn{Conn: c, limit: limit}, nil
	}
}

// cappedConn is a net.Conn whose non-zero deadlines are at most limit away.
type cappedConn struct {
	net.Conn
	limit time.Duration
}

func (c *cappedConn) clamp(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	if max := time.Now().Add(c.limit); t.After(max) {
		return max
	}
	return t
}

func (c *cappedConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.clamp(t)) }
func (c *cappedConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.clamp(t)) }
func (c *cappedConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.clamp(t)) }
