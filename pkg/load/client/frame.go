package client

import "github.com/valyala/fasthttp"

// maxHeaderBytes bounds a response's status line and headers: a longer
// head is a broken response (IO), not something to buffer.
const maxHeaderBytes = 16 << 10

// frame reads how the response whose head is h, answering req, is framed,
// and prepares b for its body. An interim response (1xx but 101) has no
// body and is followed by the real one. A body declared longer than the
// request's limit is TooLarge at once.
func frame(h *fasthttp.ResponseHeader, req *Request, b *body) (interim, closeAfter bool, k Kind) {
	status := h.StatusCode()
	if status >= 100 && status < 200 && status != fasthttp.StatusSwitchingProtocols {
		return true, false, OK
	}
	closeAfter = h.ConnectionClose() || req.r.ConnectionClose()
	cl := int64(h.ContentLength())
	mode := bodyLength
	switch {
	case req.head || status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified || status < 200:
		mode, cl = bodyNone, 0
		closeAfter = closeAfter || status < 200 // 101: the connection is no longer HTTP
	case cl == -1:
		mode = bodyChunked
	case cl < 0:
		mode, closeAfter = bodyUntilClose, true
	}
	return false, closeAfter, b.reset(mode, cl, req.maxBody)
}
