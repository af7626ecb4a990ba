package api

import (
	"net/http"
	"strconv"
	"time"
)

// RetryAfter is what a refused caller is told to wait.
const RetryAfter = time.Second

// Limit returns a middleware that serves at most n requests at a time
// across every handler it wraps; one more is answered 503 with a
// Retry-After header at once instead of queueing, so a flood of requests
// cannot pile up goroutines, ZooKeeper reads and memory. The websocket
// routes are not behind it: the live hub caps its connections. n <= 0
// means no limit.
func Limit(n int) func(http.Handler) http.Handler {
	if n <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	slots := make(chan struct{}, n) // shared by every wrapped route
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				next.ServeHTTP(w, r)
			default:
				Busy(w, "too many concurrent API requests; retry shortly")
			}
		})
	}
}

// Busy answers 503 with Retry-After.
func Busy(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
	writeError(w, http.StatusServiceUnavailable, msg)
}
