package k8s_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// There is no container engine on the build machines, so the Dockerfile is
// checked by parsing it and running its build stages' commands on the host
// (dockerbuild_test.go), with the same working directories, environment and
// copies (.dockerignore included). What that cannot check — the base images
// and their node and Go versions, the final images' file systems — is listed
// in docs/kubernetes.md.

// Instruction is one Dockerfile instruction, continuation lines joined.
type Instruction struct {
	Cmd  string // upper case: FROM, RUN, COPY, ...
	Args string
	Line int
}

// Stage is one FROM ... [AS name] section.
type Stage struct {
	Name  string
	Base  string // with global ARG defaults substituted
	Steps []Instruction
}

// Dockerfile is a parsed Dockerfile.
type Dockerfile struct {
	GlobalArgs map[string]string
	Stages     []*Stage
}

// Stage returns the named stage, failing the test if absent.
func (d *Dockerfile) Stage(t testing.TB, name string) *Stage {
	t.Helper()
	for _, s := range d.Stages {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("Dockerfile has no stage %q", name)
	return nil
}

// All returns the stage's instructions of one kind.
func (s *Stage) All(cmd string) []Instruction {
	var out []Instruction
	for _, in := range s.Steps {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

var argRef = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// substitute replaces ${NAME} and $NAME with vars[NAME] (unknown names stay).
func substitute(s string, vars map[string]string) string {
	return argRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := strings.Trim(ref, "${}")
		if v, ok := vars[name]; ok {
			return v
		}
		return ref
	})
}

// parseDockerfile reads the instructions this project's Dockerfile uses.
func parseDockerfile(t testing.TB, path string) *Dockerfile {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := &Dockerfile{GlobalArgs: map[string]string{}}
	var cur *Stage
	lines := strings.Split(string(raw), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(lines[i])
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := Instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start}
		switch {
		case in.Cmd == "FROM":
			f := strings.Fields(in.Args)
			s := &Stage{Base: substitute(f[0], d.GlobalArgs)}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.Name = f[2]
			}
			d.Stages = append(d.Stages, s)
			cur = s
		case cur == nil && in.Cmd == "ARG":
			k, v, _ := strings.Cut(in.Args, "=")
			d.GlobalArgs[k] = v
		case cur == nil:
			t.Fatalf("Dockerfile:%d: %s before the first FROM", start, in.Cmd)
		default:
			cur.Steps = append(cur.Steps, in)
		}
	}
	return d
}

// entrypoint decodes an exec-form ENTRYPOINT.
func entrypoint(t testing.TB, s *Stage) []string {
	t.Helper()
	eps := s.All("ENTRYPOINT")
	if len(eps) != 1 {
		t.Fatalf("stage %s: %d ENTRYPOINTs, want 1", s.Name, len(eps))
	}
	var ep []string
	if err := json.Unmarshal([]byte(eps[0].Args), &ep); err != nil {
		t.Fatalf("stage %s: ENTRYPOINT %s is not exec form: %v", s.Name, eps[0].Args, err)
	}
	return ep
}

// copyFrom splits `COPY --from=STAGE SRC DEST`.
func copyFrom(in Instruction) (stage, src, dest string, ok bool) {
	f := strings.Fields(in.Args)
	if len(f) != 3 || !strings.HasPrefix(f[0], "--from=") {
		return "", "", "", false
	}
	return strings.TrimPrefix(f[0], "--from="), f[1], f[2], true
}

// imageTargets are the Dockerfile's final stages, one image each; the
// Makefile tags them REGISTRY/stampede-<target>.
var imageTargets = []string{"master", "worker", "target"}

// TestDockerfileFinalStages checks each image: distroless static base, a
// non-root numeric user (so runAsNonRoot can verify it), only its own static
// binary, copied from the build stage and used as the entrypoint.
func TestDockerfileFinalStages(t *testing.T) {
	d := parseDockerfile(t, filepath.Join(repoRoot(t), "Dockerfile"))
	for _, name := range imageTargets {
		s := d.Stage(t, name)
		if !strings.HasPrefix(s.Base, "gcr.io/distroless/static") || !strings.HasSuffix(s.Base, ":nonroot") {
			t.Errorf("stage %s FROM %s, want gcr.io/distroless/static...:nonroot", name, s.Base)
		}
		users := s.All("USER")
		if len(users) != 1 || users[0].Args != "65532:65532" {
			t.Errorf("stage %s USER %v, want 65532:65532 (distroless nonroot, numeric)", name, users)
		}
		ep := entrypoint(t, s)
		copies := s.All("COPY")
		if len(copies) != 1 {
			t.Fatalf("stage %s has %d COPYs, want exactly its binary", name, len(copies))
		}
		from, src, dest, ok := copyFrom(copies[0])
		if !ok || from != "build" || src != "/out/"+name || dest != ep[0] || len(ep) != 1 {
			t.Errorf("stage %s: COPY %s, ENTRYPOINT %q; want COPY --from=build /out/%s <entrypoint>", name, copies[0].Args, ep, name)
		}
		if runs := s.All("RUN"); len(runs) > 0 {
			t.Errorf("stage %s runs %q: distroless has no shell", name, runs[0].Args)
		}
	}
	if s := d.Stage(t, "build"); !strings.Contains(fmt.Sprint(s.All("ENV")), "CGO_ENABLED=0") {
		t.Errorf("build stage ENV %v lacks CGO_ENABLED=0 (static binaries for distroless/static)", s.All("ENV"))
	}
}

// TestImagesMatchMakefile checks that the manifests' images are the ones
// `make images` tags: REGISTRY/stampede-<target>:TAG with the Makefile's
// default REGISTRY and TAG, and that each names a Dockerfile target.
func TestImagesMatchMakefile(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join(repoRoot(t), "mk", "k8s.mk"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(REGISTRY|TAG) \?= (\S+)$`).FindAllStringSubmatch(string(mk), -1) {
		vars[m[1]] = m[2]
	}
	if vars["REGISTRY"] == "" || vars["TAG"] == "" {
		t.Fatalf("mk/k8s.mk: REGISTRY ?= and TAG ?= not found (got %v)", vars)
	}
	m := render(t, withTargetDir)
	seen := map[string]bool{}
	for _, o := range m.OfKind("Deployment") {
		c := workload(t, o).Template.Spec.Containers[0]
		target := o.Metadata.Name
		want := fmt.Sprintf("%s/stampede-%s:%s", vars["REGISTRY"], target, vars["TAG"])
		if c.Image != want {
			t.Errorf("Deployment/%s image %q, want %q (what make images tags)", o.Metadata.Name, c.Image, want)
		}
		seen[target] = true
	}
	for _, target := range imageTargets {
		if !seen[target] {
			t.Errorf("Dockerfile target %s is used by no Deployment", target)
		}
	}
}

// shellWords splits a command line on spaces, honouring double quotes.
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, inWord = !inQuote, true
		case r == ' ' && !inQuote:
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
			}
			inWord = false
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// goBuild is what a `go build` line asks for.
type goBuild struct {
	ldflags  string
	trimpath bool
	packages []string
}

func parseGoBuild(t *testing.T, where string, words []string, goflags string) goBuild {
	t.Helper()
	var b goBuild
	b.trimpath = strings.Contains(goflags, "-trimpath")
	for i := 0; i < len(words); i++ {
		switch w := words[i]; {
		case w == "-trimpath":
			b.trimpath = true
		case w == "-ldflags" && i+1 < len(words):
			b.ldflags = words[i+1]
			i++
		case w == "-o":
			i++
		case strings.HasPrefix(w, "./"):
			b.packages = append(b.packages, w)
		}
	}
	if len(b.packages) == 0 {
		t.Fatalf("%s: no packages in %q", where, words)
	}
	return b
}

// TestDockerfileBuildMatchesMakefile checks that the images' binaries are
// built like `make build`'s: the same packages, -trimpath, the same ldflags
// (the version variable aside).
func TestDockerfileBuildMatchesMakefile(t *testing.T) {
	root := repoRoot(t)
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	ld := regexp.MustCompile(`(?m)^LDFLAGS :?= (.*)$`).FindStringSubmatch(string(mk))
	recipe := regexp.MustCompile(`(?m)^build:.*\n\t\$\(GO\) build (.*)$`).FindStringSubmatch(string(mk))
	if ld == nil || recipe == nil {
		t.Fatalf("Makefile: LDFLAGS or the build recipe not found")
	}
	makeLine := strings.ReplaceAll(recipe[1], "$(LDFLAGS)", strings.ReplaceAll(ld[1], "$(VERSION)", "VERSION"))
	fromMake := parseGoBuild(t, "Makefile build", shellWords(makeLine), "")

	d := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	s := d.Stage(t, "build")
	env := map[string]string{}
	for _, in := range s.All("ENV") {
		for _, kv := range strings.Fields(in.Args) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	var fromDocker *goBuild
	for _, in := range s.All("RUN") {
		if rest, ok := strings.CutPrefix(in.Args, "go build "); ok {
			b := parseGoBuild(t, "Dockerfile build stage", shellWords(strings.ReplaceAll(rest, "${VERSION}", "VERSION")), env["GOFLAGS"])
			fromDocker = &b
		}
	}
	if fromDocker == nil {
		t.Fatal("Dockerfile build stage runs no go build")
	}
	if !slices.Equal(fromDocker.packages, fromMake.packages) || fromDocker.ldflags != fromMake.ldflags || fromDocker.trimpath != fromMake.trimpath {
		t.Errorf("Dockerfile builds %+v,\nmake build builds %+v", *fromDocker, fromMake)
	}
}
