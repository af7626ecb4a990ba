package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/oapi"
	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/export"
)

// TestOpenAPIMatchesRealResponses calls every documented route of a real
// master and checks each answer (status and body) against the document the
// master serves at /api/v1/openapi.json.
func TestOpenAPIMatchesRealResponses(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	var raw json.RawMessage
	if code := tc.GetJSON(t, c.API()+"/openapi.json", &raw); code != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d", code)
	}
	doc, err := oapi.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	checked := map[oapi.Route]bool{}
	check := func(method, path, concrete string, status int, body []byte) {
		t.Helper()
		rt := oapi.Route{Method: method, Path: path}
		if err := doc.Check(rt, status, body); err != nil {
			t.Errorf("%s %s: %v\nbody: %.2000s", method, concrete, err, body)
		}
		checked[rt] = true
	}
	get := func(path, concrete string, want int) {
		t.Helper()
		var b json.RawMessage
		code := tc.GetJSON(t, c.API()+concrete, &b)
		if code != want {
			t.Errorf("GET %s = %d, want %d (%s)", concrete, code, want, b)
		}
		check("GET", path, concrete, code, b)
	}
	post := func(path, concrete string, body any, want int) string {
		t.Helper()
		var b json.RawMessage
		code := tc.PostJSON(t, c.API()+concrete, body, &b)
		if code != want {
			t.Errorf("POST %s = %d, want %d (%s)", concrete, code, want, b)
		}
		check("POST", path, concrete, code, b)
		var created struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(b, &created)
		return created.ID
	}
	send := func(method, path, concrete string, body any, want int) {
		t.Helper()
		var b json.RawMessage
		code := tc.SendJSON(t, method, c.API()+concrete, body, &b)
		if code != want {
			t.Errorf("%s %s = %d, want %d (%s)", method, concrete, code, want, b)
		}
		check(method, path, concrete, code, b)
	}

	del := func(concrete string, want int) {
		t.Helper()
		req, err := http.NewRequest(http.MethodDelete, c.API()+concrete, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tc.OperatorToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("DELETE %s: %v", concrete, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("DELETE %s: %v", concrete, err)
		}
		if resp.StatusCode != want {
			t.Errorf("DELETE %s = %d, want %d (%s)", concrete, resp.StatusCode, want, b)
		}
		check("DELETE", "/tests/{id}", concrete, resp.StatusCode, b)
	}

	get("/openapi.json", "/openapi.json", 200)
	get("/cluster", "/cluster", 200)
	get("/workers", "/workers", 200)
	post("/tests", "/tests", `{"request":{"url":"ftp://x"},"load":{"model":"avalanche"}}`, 400)
	get("/tests/{id}", "/tests/nope", 404)
	get("/tests/{id}/timeline", "/tests/nope/timeline", 404)
	post("/tests/{id}/stop", "/tests/nope/stop", nil, 404)
	send("PATCH", "/tests/{id}", "/tests/nope", map[string]any{"load": map[string]any{"rate": 10}}, 404)
	post("/tests/{id}/pause", "/tests/nope/pause", nil, 404)
	post("/tests/{id}/resume", "/tests/nope/resume", nil, 404)

	long := post("/tests", "/tests", map[string]any{
		"name":    "openapi-long",
		"request": map[string]any{"url": c.TargetURL("/ping")},
		"load":    map[string]any{"model": "constant-rate", "rate": 50, "duration": "30s"},
	}, 201)
	c.WaitPhase(long, "running", 30*time.Second)
	time.Sleep(1500 * time.Millisecond) // at least one merged second
	get("/tests/{id}", "/tests/"+long, 200)
	get("/tests/{id}/timeline", "/tests/"+long+"/timeline", 200)
	get("/tests", "/tests", 200)
	websocket(t, c, "/tests/"+long+"/live", func(code int) { check("GET", "/tests/{id}/live", "/tests/"+long+"/live", code, nil) })
	websocket(t, c, "/live", func(code int) { check("GET", "/live", "/live", code, nil) })
	del("/tests/"+long, http.StatusConflict) // running: stop it first
	send("PATCH", "/tests/{id}", "/tests/"+long, map[string]any{"load": map[string]any{"rate": 40}}, 200)
	send("PATCH", "/tests/{id}", "/tests/"+long, map[string]any{"load": map[string]any{"rate": -1}}, 400)
	post("/tests/{id}/resume", "/tests/"+long+"/resume", nil, 409) // not paused
	post("/tests/{id}/pause", "/tests/"+long+"/pause", nil, 200)
	post("/tests/{id}/resume", "/tests/"+long+"/resume", nil, 200)
	get("/tests/{id}", "/tests/"+long, 200)
	get("/tests/{id}/timeline", "/tests/"+long+"/timeline", 200)
	post("/tests/{id}/rerun", "/tests/nope/rerun", nil, 404)
	again := post("/tests/{id}/rerun", "/tests/"+long+"/rerun", nil, 201) // its one worker is busy: queued
	c.WaitPhase(again, "queued", 30*time.Second)
	get("/tests/{id}", "/tests/"+again, 200)
	get("/tests", "/tests", 200)
	post("/tests/{id}/stop", "/tests/"+again+"/stop", nil, 202)
	c.WaitPhase(again, "stopped", 30*time.Second)
	del("/tests/"+again, http.StatusNoContent)
	post("/tests/{id}/stop", "/tests/"+long+"/stop", nil, 202)
	c.WaitPhase(long, "stopped", 30*time.Second)
	post("/tests/{id}/stop", "/tests/"+long+"/stop", nil, 409)
	send("PATCH", "/tests/{id}", "/tests/"+long, map[string]any{"load": map[string]any{"rate": 40}}, 409)
	get("/tests/{id}", "/tests/"+long, 200)
	get("/tests/{id}/timeline", "/tests/"+long+"/timeline", 200)
	get("/tests", "/tests", 200)
	get("/tests/compare", "/tests/compare?base="+long+"&head="+long, 200)
	get("/tests/compare", "/tests/compare?base="+long+"&head=nope", 404)
	get("/tests/compare", "/tests/compare?base="+long, 400)
	for _, kind := range export.Kinds { // not JSON: the status is checked
		for concrete, want := range map[string]int{"/tests/nope/" + kind: 404, "/tests/" + long + "/" + kind: 200} {
			code, _, body := rawGet(t, c.API()+concrete)
			if code != want {
				t.Errorf("GET %s = %d, want %d", concrete, code, want)
			}
			check("GET", "/tests/{id}/"+kind, concrete, code, body)
		}
	}
	del("/tests/"+long, http.StatusNoContent)
	del("/tests/"+long, http.StatusNotFound)

	for _, rt := range doc.Routes() {
		if !checked[rt] {
			t.Errorf("%s %s is documented but this test never called it", rt.Method, rt.Path)
		}
	}
}

// websocket performs a websocket handshake on path and reports the status.
func websocket(t *testing.T, c *tc.Cluster, path string, report func(int)) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.API()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Authorization", "Bearer "+tc.ViewerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("websocket handshake %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		t.Errorf("websocket handshake %s = %d (Upgrade %q), want 101", path, resp.StatusCode, resp.Header.Get("Upgrade"))
	}
	report(resp.StatusCode)
}
