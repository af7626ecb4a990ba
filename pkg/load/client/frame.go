package client

// maxHeaderBytes bounds a response's status line and headers: a longer
// head is a broken response (IO), not something to buffer.
const maxHeaderBytes = 16 << 10

const (
	statusSwitchingProtocols = 101
	statusNoContent          = 204
	statusNotModified        = 304
)

// frame reads how the response whose head is h, answering req, is framed,
// and prepares b for its body. An interim response (1xx but 101) has no
// body and is followed by the real one. A body declared longer than the
// request's limit is TooLarge at once. A response with both a chunked
// Transfer-Encoding and a Content-Length is read as chunked (the coding
// overrides the length) and its connection is not reused: it is out of
// the ordinary, and a server sending it may disagree with itself.
func frame(h *respHead, req *Request, b *body) (interim, closeAfter bool, k Kind) {
	status := h.status
	if status >= 100 && status < 200 && status != statusSwitchingProtocols {
		return true, false, OK
	}
	closeAfter = h.close || req.r.ConnectionClose()
	cl := h.length
	mode := bodyLength
	switch {
	case req.head || status == statusNoContent || status == statusNotModified || status < 200:
		mode, cl = bodyNone, 0
		closeAfter = closeAfter || status < 200 // 101: the connection is no longer HTTP
	case h.te == teChunked:
		mode = bodyChunked
		closeAfter = closeAfter || cl >= 0
	case h.te == teOther || cl < 0:
		mode, closeAfter = bodyUntilClose, true
	}
	return false, closeAfter, b.reset(mode, cl, req.maxBody)
}
