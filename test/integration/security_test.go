package integration

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
)

// apiCall is one request to the API and what a user would check of it.
type apiCall struct {
	name, method, path, token, contentType, origin, body string
	forwardedHost                                        string // X-Forwarded-Host, as a reverse proxy sets it
	want                                                 int
}

func (a apiCall) do(t *testing.T, base string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(a.method, base+a.path, strings.NewReader(a.body))
	if err != nil {
		t.Fatal(err)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if a.contentType != "" {
		req.Header.Set("Content-Type", a.contentType)
	}
	if a.origin != "" {
		req.Header.Set("Origin", a.origin)
	}
	if a.forwardedHost != "" {
		req.Header.Set("X-Forwarded-Host", a.forwardedHost)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", a.method, a.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, string(b)
}

// Every API call needs a token of the right role, a mutation a JSON or
// YAML body, and a request from a web page elsewhere is refused: the attack
// of a page posting a text/plain spec with its visitor's browser gets 403
// and starts nothing. Health, readiness, metrics and the dashboard's files
// stay open.
func TestAPIAuthenticationAuthorizationAndOrigin(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	base := c.Masters[0].URL()
	zk := c.ZKClient()
	before, err := zk.Children(context.Background(), c.Paths().Tests())
	if err != nil {
		t.Fatal(err)
	}
	spec := `{"request":{"url":"` + c.TargetURL("/ping") + `"},"load":{"model":"avalanche","requests":10}}`
	op, viewer, evil := tc.OperatorToken, tc.ViewerToken, "http://evil.example"
	const json, tests = "application/json", "/api/v1/tests"
	calls := []apiCall{
		{name: "no token", method: "GET", path: tests, want: 401},
		{name: "unknown token", method: "GET", path: tests, token: "x" + op, want: 401},
		{name: "viewer reads", method: "GET", path: tests, token: viewer, want: 200},
		{name: "viewer reads the cluster", method: "GET", path: "/api/v1/cluster", token: viewer, want: 200},
		{name: "operator reads", method: "GET", path: "/api/v1/workers", token: op, want: 200},
		{name: "no token creates", method: "POST", path: tests, contentType: json, body: spec, want: 401},
		{name: "viewer creates", method: "POST", path: tests, token: viewer, contentType: json, body: spec, want: 403},
		{name: "viewer stops", method: "POST", path: tests + "/nope/stop", token: viewer, want: 403},
		{name: "operator posts text/plain", method: "POST", path: tests, token: op, contentType: "text/plain", body: spec, want: 415},
		{name: "operator posts a form", method: "POST", path: tests, token: op, contentType: "application/x-www-form-urlencoded", body: spec, want: 415},
		{name: "operator posts a body without type", method: "POST", path: tests, token: op, body: spec, want: 415},
		{name: "the attack: text/plain from evil.example", method: "POST", path: tests, contentType: "text/plain", origin: evil, body: spec, want: 403},
		{name: "evil.example with a stolen token", method: "POST", path: tests, token: op, contentType: json, origin: evil, body: spec, want: 403},
		{name: "evil.example reads", method: "GET", path: tests, token: viewer, origin: evil, want: 403},
		{name: "null origin", method: "POST", path: tests, token: op, contentType: json, origin: "null", body: spec, want: 403},
		{name: "same host, other port", method: "POST", path: tests, token: op, contentType: json, origin: "http://127.0.0.1:1", body: spec, want: 403},
		{name: "evil.example behind a reverse proxy", method: "POST", path: tests, token: op, contentType: json,
			origin: evil, forwardedHost: "stampede.example.com", body: spec, want: 403},
		{name: "healthz open", method: "GET", path: "/healthz", want: 200},
		{name: "readyz open", method: "GET", path: "/readyz", want: 200},
		{name: "metrics open", method: "GET", path: "/metrics", want: 200},
		{name: "dashboard open", method: "GET", path: "/", want: 200},
	}
	for _, a := range calls {
		code, h, body := a.do(t, base)
		if code != a.want {
			t.Errorf("%s: %s %s = %d %.200s, want %d", a.name, a.method, a.path, code, body, a.want)
		}
		if code == 401 && h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", a.name)
		}
		if strings.Contains(body, op) || strings.Contains(body, viewer) {
			t.Errorf("%s: the answer shows a token: %.200s", a.name, body)
		}
	}
	after, err := zk.Children(context.Background(), c.Paths().Tests())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("refused requests created tests: %v -> %v", before, after)
	}

	// The dashboard, served by this master, may call it; so may the operator.
	for _, a := range []apiCall{
		{name: "own origin", method: "POST", path: tests, token: op, contentType: json, origin: base, body: spec, want: 201},
		{name: "behind a reverse proxy", method: "POST", path: tests, token: op, contentType: json,
			origin: "https://stampede.example.com", forwardedHost: "stampede.example.com", body: spec, want: 201},
		{name: "YAML", method: "POST", path: tests, token: op, contentType: "application/yaml; charset=utf-8",
			body: "request:\n  url: " + c.TargetURL("/ping") + "\nload:\n  model: avalanche\n  requests: 10\n", want: 201},
	} {
		if code, _, body := a.do(t, base); code != a.want {
			t.Errorf("%s: %s %s = %d %.200s, want %d", a.name, a.method, a.path, code, body, a.want)
		}
	}
	for _, p := range c.Masters {
		if strings.Contains(p.LogTail(100000), op) || strings.Contains(p.LogTail(100000), viewer) {
			t.Errorf("%s's log shows a token", p.Name)
		}
	}
}

// The live feeds take the token from the Authorization header (programs)
// or from a subprotocol (browsers), never from the URL.
func TestWebsocketNeedsAToken(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	addr := c.Masters[0].Addr
	cases := []struct {
		name   string
		path   string
		header []string
		want   int
	}{
		{"no token", "/api/v1/live", nil, 401},
		{"bad header token", "/api/v1/live", []string{"Authorization: Bearer nope-nope-nope-nope"}, 401},
		{"token in the URL", "/api/v1/live?token=" + tc.ViewerToken, nil, 401},
		{"bad subprotocol token", "/api/v1/live", []string{"Sec-WebSocket-Protocol: stampede, stampede.token.nope-nope-nope-nope"}, 401},
		{"viewer header", "/api/v1/live", []string{"Authorization: Bearer " + tc.ViewerToken}, 101},
		{"operator header", "/api/v1/live", []string{"Authorization: Bearer " + tc.OperatorToken}, 101},
		{"viewer subprotocol", "/api/v1/live", []string{"Sec-WebSocket-Protocol: stampede, stampede.token." + tc.ViewerToken}, 101},
		{"evil.example with a token", "/api/v1/live", []string{"Origin: http://evil.example", "Authorization: Bearer " + tc.ViewerToken}, 403},
		{"own origin behind a reverse proxy", "/api/v1/live", []string{"Origin: https://stampede.example.com",
			"X-Forwarded-Host: stampede.example.com", "Sec-WebSocket-Protocol: stampede, stampede.token." + tc.ViewerToken}, 101},
		{"own origin", "/api/v1/live", []string{"Origin: http://" + addr, "Authorization: Bearer " + tc.ViewerToken}, 101},
		{"a test's feed without token", "/api/v1/tests/nope/live", nil, 401},
	}
	for _, tt := range cases {
		resp, conn := wsDial(t, addr, tt.path, tt.header...)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: handshake answered %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
		if conn == nil {
			continue
		}
		conn.expectCluster(t)
		if got, offered := resp.Header.Get("Sec-WebSocket-Protocol"), strings.Contains(strings.Join(tt.header, ""), "Protocol"); offered && got != "stampede" {
			t.Errorf("%s: selected subprotocol %q, want stampede (a browser fails the connection otherwise)", tt.name, got)
		}
		conn.Close()
	}
}

// startMaster starts a master on ZooKeeper zk with args after the usual
// ones.
func startMaster(t *testing.T, zk, name string, args ...string) *tc.Proc {
	t.Helper()
	addr := tc.FreeAddr(t)
	all := append([]string{"--id", name, "--zk", zk, "--listen", addr, "--session-timeout", "4s"}, args...)
	return tc.Start(t, t.TempDir(), name, filepath.Join(tc.Binaries(t), "master"), addr, all...)
}

// A master without a tokens file refuses to start unless told --no-auth
// (or STAMPEDE_NO_AUTH=true), and then warns; an unreadable or malformed
// tokens file stops it too. Without authentication the Origin and
// content-type checks still hold.
func TestMasterRefusesToStartWithoutTokens(t *testing.T) {
	zk := zktest.Standalone(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad-tokens")
	if err := os.WriteFile(bad, []byte("admin 0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		log  string
	}{
		{"no tokens file", nil, "refusing to start without --tokens-file"},
		{"missing tokens file", []string{"--tokens-file", filepath.Join(dir, "none")}, "no such file"},
		{"unknown role", []string{"--tokens-file", bad}, `line 1: unknown role "admin"`},
	} {
		m := startMaster(t, zk.Addr(), "m-"+strings.ReplaceAll(tt.name, " ", "-"), tt.args...)
		tc.Eventually(t, 30*time.Second, tt.name+": the master exits", m.Exited)
		if out := m.LogTail(20); !strings.Contains(out, tt.log) {
			t.Errorf("%s: log lacks %q:\n%s", tt.name, tt.log, out)
		}
	}

	t.Setenv("STAMPEDE_NO_AUTH", "true")
	m := startMaster(t, zk.Addr(), "m-no-auth")
	tc.WaitReady(t, m.URL()+"/readyz", 30*time.Second)
	if out := m.LogTail(50); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "authentication is OFF") {
		t.Errorf("no warning that authentication is off:\n%s", out)
	}
	for _, a := range []apiCall{
		{name: "read without token", method: "GET", path: "/api/v1/cluster", want: 200},
		{name: "the attack", method: "POST", path: "/api/v1/tests", contentType: "text/plain", origin: "http://evil.example", body: "{}", want: 403},
		{name: "text/plain", method: "POST", path: "/api/v1/tests", contentType: "text/plain", body: "{}", want: 415},
	} {
		if code, _, body := a.do(t, m.URL()); code != a.want {
			t.Errorf("--no-auth, %s: %d %.200s, want %d", a.name, code, body, a.want)
		}
	}

	// That master made the root without a ZooKeeper secret: one given a
	// secret later says the root is open.
	_, zkAuth := tc.WriteSecrets(t, t.TempDir())
	late := startMaster(t, zk.Addr(), "m-late-secret", "--zk-auth-file", zkAuth)
	tc.WaitReady(t, late.URL()+"/readyz", 30*time.Second)
	if out := late.LogTail(50); !strings.Contains(out, "ZooKeeper root is open to every client") {
		t.Errorf("no warning about the open root:\n%s", out)
	}
}

// Tokens rotate without a restart: a changed tokens file is read again
// within seconds (a new token works, a removed one gets 401), and a broken
// file keeps the tokens last read.
func TestTokensFileRotatesWithoutRestart(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	base := c.Masters[0].URL()
	write := func(content string) { // atomically, as a Kubernetes Secret volume is updated
		tmp := c.TokensFile + ".new"
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, c.TokensFile); err != nil {
			t.Fatal(err)
		}
	}
	status := func(token string) int {
		code, _, _ := apiCall{method: "GET", path: "/api/v1/tests", token: token}.do(t, base)
		return code
	}
	rotated := "rotated-operator-token-0123456789"
	write("operator " + rotated + "\nviewer " + tc.ViewerToken + "\n")
	tc.Eventually(t, 15*time.Second, "the new token accepted and the removed one refused", func() bool {
		return status(rotated) == 200 && status(tc.OperatorToken) == 401
	})
	if code := status(tc.ViewerToken); code != 200 {
		t.Errorf("the kept viewer token after the rotation: %d, want 200", code)
	}

	write("operator short\n")
	tc.Eventually(t, 15*time.Second, "the broken file reported in the log", func() bool {
		status(rotated) // a lookup looks at the file
		return strings.Contains(c.Masters[0].LogTail(50), "tokens file unusable")
	})
	if code := status(rotated); code != 200 {
		t.Errorf("after a broken tokens file, the token last read: %d, want 200 (kept)", code)
	}
	if strings.Contains(c.Masters[0].LogTail(1000), rotated) {
		t.Error("the master logged a token")
	}
	write(tc.TokensFileContent())
	tc.Eventually(t, 15*time.Second, "the original tokens back", func() bool { return status(tc.OperatorToken) == 200 })
}
