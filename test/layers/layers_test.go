// Package layers checks the import rules of the architecture with the Go
// tool itself: what a binary links (go list -deps) and which package may
// import each third-party library (go list's direct imports, tests
// included). .golangci.yml's depguard section states the same rules for the
// linter; this test keeps them true in `make test` too.
package layers

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const mod = "github.com/stampede-load/stampede"

// goList runs `go list` at the module root and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.Fields(string(out)) // no field holds a space
}

// TestLinkedPackages: what each binary or layer links, with every
// transitive dependency. The master coordinates and must not carry the load
// engine (fasthttp, the event loops); the wire format must not depend on
// the engine; neither binary links the other.
func TestLinkedPackages(t *testing.T) {
	tests := []struct {
		pkg       string
		forbidden []string // import path prefixes
	}{
		{"./master", []string{"github.com/valyala/fasthttp", mod + "/pkg/load", mod + "/worker"}},
		{"./pkg/proto", []string{"github.com/valyala/fasthttp", mod + "/pkg/load"}},
		{"./pkg/plan", []string{"github.com/valyala/fasthttp", mod + "/pkg/load"}},
		{"./worker", []string{mod + "/master", "github.com/coder/websocket"}},
		{"./target", []string{mod + "/master", mod + "/worker", mod + "/pkg/load"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			deps := goList(t, "-deps", tt.pkg)
			if len(deps) < 5 {
				t.Fatalf("go list -deps %s listed only %v", tt.pkg, deps)
			}
			for _, d := range deps {
				for _, f := range tt.forbidden {
					if d == f || strings.HasPrefix(d, f+"/") {
						t.Errorf("%s links %s (forbidden: %s)", tt.pkg, d, f)
					}
				}
			}
		})
	}
}

// TestDirectImports: each third-party library is used by one package of
// ours only, pkg/ imports no binary, and worker/ and master/ never import
// each other — tests included.
func TestDirectImports(t *testing.T) {
	// library (or our prefix) -> the only packages allowed to import it
	owners := map[string][]string{
		"github.com/go-zookeeper/zk":              {mod + "/pkg/coord"},
		"github.com/valyala/fasthttp":             {mod + "/pkg/load/client"},
		"github.com/HdrHistogram/hdrhistogram-go": {mod + "/pkg/hist"},
		"github.com/coder/websocket":              {mod + "/master/internal/live"},
	}
	lines := goList(t, "-f", "{{.ImportPath}}|{{join .Imports \",\"}},{{join .TestImports \",\"}},{{join .XTestImports \",\"}}", "./...")
	checked := 0
	for _, line := range lines {
		pkg, imports, ok := strings.Cut(line, "|")
		if !ok {
			t.Fatalf("unexpected go list line %q", line)
		}
		checked++
		for _, imp := range strings.Split(imports, ",") {
			if imp == "" {
				continue
			}
			checkImport(t, pkg, imp, owners)
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d packages", checked)
	}
}

func checkImport(t *testing.T, pkg, imp string, owners map[string][]string) {
	t.Helper()
	under := func(p, prefix string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }
	for lib, allowed := range owners {
		if !under(imp, lib) {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || under(pkg, a)
		}
		if !ok {
			t.Errorf("%s imports %s; only %v may", pkg, imp, allowed)
		}
	}
	binaries := []string{mod + "/master", mod + "/worker", mod + "/target"}
	for _, b := range binaries {
		if !under(imp, b) {
			continue
		}
		switch {
		case under(pkg, mod+"/pkg"):
			t.Errorf("%s imports binary package %s: pkg/ must not depend on a binary", pkg, imp)
		case under(pkg, mod+"/worker") && b == mod+"/master", under(pkg, mod+"/master") && b == mod+"/worker":
			t.Errorf("%s imports %s: master and worker never import each other", pkg, imp)
		}
	}
	if under(pkg, mod+"/master") && under(imp, mod+"/pkg/load") {
		t.Errorf("%s imports the load engine %s", pkg, imp)
	}
}
