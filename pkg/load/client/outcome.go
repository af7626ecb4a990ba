package client

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/stampede-load/stampede/pkg/tlsopt"
	"github.com/valyala/fasthttp"
)

// Kind classifies a failed exchange. Per-request outcomes are data: an
// exchange never returns a Go error, it returns a Kind.
type Kind uint8

// Kinds of failure. OK means a response arrived (its status may still be
// unexpected; the caller judges that).
const (
	OK Kind = iota
	Timeout
	Refused
	Reset
	IO
	Other
	// TooLarge: the response body was longer than the request's
	// MaxResponseBytes (the rest is not read; the connection is closed).
	TooLarge
	// TLS failures (pkg/tlsopt names them): a failed handshake, a server
	// certificate of an unknown authority, an expired one, one for another
	// name.
	TLSHandshake
	TLSUnknownAuthority
	TLSExpired
	TLSNameMismatch
	NumKinds
)

var kindNames = [NumKinds]string{"ok", "timeout", "connection_refused", "connection_reset", "io", "other", "response_too_large",
	tlsopt.KindHandshake, tlsopt.KindUnknownAuthority, tlsopt.KindExpired, tlsopt.KindNameMismatch}

var tlsKinds = map[string]Kind{
	tlsopt.KindHandshake: TLSHandshake, tlsopt.KindUnknownAuthority: TLSUnknownAuthority,
	tlsopt.KindExpired: TLSExpired, tlsopt.KindNameMismatch: TLSNameMismatch,
}

// String is the counter name of the kind (report.Err* for failures).
func (k Kind) String() string {
	if k < NumKinds {
		return kindNames[k]
	}
	return "other"
}

// Classify maps an error of a dial, write or read to its Kind.
func Classify(err error) Kind {
	var ne net.Error
	switch {
	case err == nil:
		return OK
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, fasthttp.ErrTimeout),
		errors.Is(err, fasthttp.ErrDialTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return Timeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, fasthttp.ErrConnectionClosed):
		return Reset
	case isTLS(err):
		return tlsKinds[tlsopt.Kind(err)]
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return IO
	default:
		var oe *net.OpError
		if errors.As(err, &oe) {
			return IO
		}
		return Other
	}
}

func isTLS(err error) bool { return tlsopt.Kind(err) != "" }
