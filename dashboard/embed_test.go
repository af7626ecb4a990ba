package dashboard

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantType           string
		wantBody           string
	}{
		{"index", "GET", "/", 200, "text/html", `<script src="app.js">`},
		{"index by name", "GET", "/index.html", 200, "text/html", `<main id="app">`},
		{"script", "GET", "/app.js", 200, "javascript", "api/v1"},
		{"styles", "GET", "/app.css", 200, "text/css", ".uplot"},
		{"deep link falls back to the page", "GET", "/tests/abc", 200, "text/html", `<script src="app.js">`},
		{"missing asset", "GET", "/app.js.map", 404, "", ""},
		{"head", "HEAD", "/", 200, "text/html", ""},
		{"post", "POST", "/", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s: status %d, want %d", tt.method, tt.path, resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Content-Type"); !strings.Contains(got, tt.wantType) {
				t.Errorf("%s %s: Content-Type %q, want it to contain %q", tt.method, tt.path, got, tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("%s %s: body does not contain %q", tt.method, tt.path, tt.wantBody)
			}
			if tt.wantStatus == 200 {
				if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'self'") {
					t.Errorf("%s %s: Content-Security-Policy %q, want default-src 'self'", tt.method, tt.path, got)
				}
			}
		})
	}
}

// The built page must not reference any other origin (no CDN, no web fonts).
func TestNoExternalReferences(t *testing.T) {
	for _, name := range []string{"index.html", "app.css"} {
		b, err := fs.ReadFile(Files(), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"http://", "https://", "//fonts.", "@import"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s contains %q: the page must load nothing from the network", name, bad)
			}
		}
	}
}
