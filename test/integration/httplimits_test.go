package integration

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
)

// holdRequest starts a POST whose body never finishes arriving, so the
// master's handler stays busy reading it.
func holdRequest(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.WriteString(c, "POST /api/v1/tests HTTP/1.1\r\nHost: "+addr+"\r\nAuthorization: Bearer "+tc.OperatorToken+
		"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"request\":")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// holdSlot holds the one API slot of m with a trickling request, checked
// by a GET answered 503 with Retry-After. A held request that lost the
// race for the slot to a GET (it is answered 503 itself) is tried again.
func holdSlot(t *testing.T, m *tc.Proc) (net.Conn, time.Time) {
	t.Helper()
	for try := 0; try < 5; try++ {
		held, start := holdRequest(t, m.Addr), time.Now()
		for time.Since(start) < time.Second {
			resp := authGet(t, m.URL()+"/api/v1/tests")
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "1" {
				return held, start
			}
			_ = held.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if b, _ := bufio.NewReader(held).Peek(12); string(b) == "HTTP/1.1 503" {
				break // the held request got the 503
			}
		}
		held.Close()
	}
	t.Fatal("a second API request was never refused while one was held")
	return nil, time.Time{}
}

func authGet(t *testing.T, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tc.ViewerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// The master's HTTP server is bounded: beyond --max-api-requests
// concurrent API requests and --max-websockets open feeds it answers 503
// with Retry-After; a request that trickles in is cut off after
// --read-timeout; an open feed outlives the read and write timeouts.
func TestHTTPServerTimeoutsAndCaps(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1, MasterArgs: []string{
		"--max-api-requests", "1", "--max-websockets", "1", "--read-timeout", "2s", "--write-timeout", "2s"}})
	m := c.Masters[0]

	held, start := holdSlot(t, m)
	defer held.Close()
	if resp := authGet(t, m.URL()+"/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz while the API is busy = %d, want 200", resp.StatusCode)
	}
	// --read-timeout 2s: the trickling request is answered or dropped.
	_ = held.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(held), nil)
	took := time.Since(start)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("the trickling request was answered %d", resp.StatusCode)
		}
	}
	if took < 1500*time.Millisecond || took > 6*time.Second {
		t.Errorf("the trickling request ended after %v (%v), want about the 2 s read timeout", took, err)
	}
	tc.Eventually(t, 10*time.Second, "API requests served again", func() bool {
		return authGet(t, m.URL()+"/api/v1/tests").StatusCode == http.StatusOK
	})

	auth := "Authorization: Bearer " + tc.ViewerToken
	resp1, feed := wsDial(t, m.Addr, "/api/v1/live", auth)
	if feed == nil {
		t.Fatalf("first feed: handshake answered %d, want 101", resp1.StatusCode)
	}
	defer feed.Close()
	feed.expectCluster(t)
	if resp2, second := wsDial(t, m.Addr, "/api/v1/live", auth); second != nil || resp2.StatusCode != 503 || resp2.Header.Get("Retry-After") == "" {
		t.Errorf("second feed beyond --max-websockets 1: %d Retry-After %q, want 503 with Retry-After", resp2.StatusCode, resp2.Header.Get("Retry-After"))
	}
	time.Sleep(3 * time.Second) // past both timeouts
	id := c.Submit(spec("avalanche", map[string]any{"requests": 50}, c.TargetURL("/ping")))
	for {
		msg, err := feed.readText(10 * time.Second)
		if err != nil {
			t.Fatalf("the feed after the read and write timeouts: %v", err)
		}
		if strings.Contains(msg, id) {
			break
		}
	}
}
