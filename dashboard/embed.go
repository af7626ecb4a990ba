// Package dashboard serves Stampede's web front end: the single page built
// from src/ by `make dashboard` (npm ci + esbuild) into dist/, which is
// committed and embedded here so that `go build` and `go test` work on a
// fresh clone without npm.
//
// The page talks only to the master that served it (REST under /api/v1 and
// the websocket feeds); it loads nothing from any other origin, which the
// Content-Security-Policy header enforces.
package dashboard

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist
var dist embed.FS

// csp allows the page's own scripts, styles and feeds only. Inline style
// attributes are allowed (chart and progress-bar geometry); blob: URLs hold
// the result's JSON download, built in the page.
const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; connect-src 'self' blob:; font-src 'self'; object-src 'none'; " +
	"base-uri 'none'; frame-ancestors 'none'"

// Files is the built front end (index.html, app.js, app.css).
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is embedded above: cannot fail
	}
	return sub
}

// Handler serves the dashboard: the built assets by path, and index.html for
// every other GET or HEAD (so hash and deep links load the app). It does not
// serve /api: mount it after the API routes. Safe for concurrent use.
func Handler() http.Handler {
	files := Files()
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic("dashboard: dist/index.html is not embedded: run `make dashboard`")
	}
	modTime := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Asset names carry no content hash: always revalidate.
		h.Set("Cache-Control", "no-cache")
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name != "" && name != "index.html" {
			if b, err := fs.ReadFile(files, name); err == nil {
				http.ServeContent(w, r, name, modTime, bytes.NewReader(b))
				return
			}
			if path.Ext(name) != "" {
				// A missing asset (app.js.map, favicon.ico) is a 404, not the page.
				http.NotFound(w, r)
				return
			}
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, "index.html", modTime, bytes.NewReader(index))
	})
}
