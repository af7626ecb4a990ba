package k8s_test

import (
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// builder runs a Dockerfile's build stages on the host: each stage gets its
// own directory standing for its root file system; WORKDIR, ENV, ARG and
// COPY (from the context, minus .dockerignore, or from an earlier stage)
// behave as in a container build; RUN runs with sh in the mapped working
// directory, with the stage's ENV and ARGs over the host environment and the
// container paths the Dockerfile uses rewritten into the stage directory.
// The host's Go and node stand in for the base images' toolchains.
type builder struct {
	context string
	ignore  []string
	roots   map[string]string // stage name -> host directory
	tmp     string
	log     strings.Builder
}

func (b *builder) host(stage, p string) string {
	return filepath.Join(b.roots[stage], filepath.FromSlash(p))
}

// ignored reports whether a context-relative slash path is excluded.
func (b *builder) ignored(rel string) bool {
	for _, pat := range b.ignore {
		for p := rel; p != "." && p != ""; p = path.Dir(p) {
			if ok, _ := path.Match(pat, p); ok {
				return true
			}
			if sub, ok := strings.CutPrefix(pat, "**/"); ok {
				if m, _ := path.Match(sub, path.Base(p)); m {
					return true
				}
			}
		}
	}
	return false
}

func readIgnore(file string) ([]string, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "!") {
			return nil, fmt.Errorf(".dockerignore exception %q is not emulated", l)
		}
		out = append(out, strings.TrimPrefix(path.Clean(l), "/"))
	}
	return out, nil
}

// copyTree copies src (file or directory) to dst; skip filters context paths.
func copyTree(src, dst string, skip func(string) bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if skip != nil && skip(p) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		info, _ := in.Stat()
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// copyStep runs one COPY in stage at workdir.
func (b *builder) copyStep(stage, workdir string, in Instruction) error {
	f := strings.Fields(in.Args)
	from := ""
	if v, ok := strings.CutPrefix(f[0], "--from="); ok {
		from, f = v, f[1:]
	}
	srcs, dest := f[:len(f)-1], f[len(f)-1]
	if !path.IsAbs(dest) {
		dest = path.Join(workdir, dest) + map[bool]string{true: "/"}[strings.HasSuffix(dest, "/") || dest == "."]
	}
	for _, src := range srcs {
		var hostSrc string
		var skip func(string) bool
		if from != "" {
			if _, ok := b.roots[from]; !ok {
				return fmt.Errorf("COPY --from=%s: no such earlier stage", from)
			}
			hostSrc = b.host(from, src)
		} else {
			hostSrc = filepath.Join(b.context, filepath.FromSlash(src))
			skip = func(p string) bool {
				rel, _ := filepath.Rel(b.context, p)
				return rel != "." && b.ignored(filepath.ToSlash(rel))
			}
			if skip(hostSrc) {
				return fmt.Errorf("COPY %s: excluded by .dockerignore", src)
			}
		}
		info, err := os.Stat(hostSrc)
		if err != nil {
			return fmt.Errorf("COPY %s: %w", src, err)
		}
		to := b.host(stage, dest)
		if !info.IsDir() && (strings.HasSuffix(dest, "/") || len(srcs) > 1) {
			to = filepath.Join(to, filepath.Base(hostSrc))
		}
		if err := copyTree(hostSrc, to, skip); err != nil {
			return err
		}
	}
	return nil
}

// containerPaths matches absolute paths under the top directories the
// Dockerfile uses (WORKDIRs, COPY sources and destinations).
func containerPaths(d *Dockerfile) *regexp.Regexp {
	tops := map[string]bool{}
	add := func(p string) {
		if path.IsAbs(p) {
			if top := strings.Split(p, "/")[1]; top != "" {
				tops[regexp.QuoteMeta(top)] = true
			}
		}
	}
	for _, s := range d.Stages {
		for _, in := range append(s.All("WORKDIR"), s.All("COPY")...) {
			for _, f := range strings.Fields(in.Args) {
				if !strings.HasPrefix(f, "--") {
					add(f)
				}
			}
		}
	}
	var alts []string
	for top := range tops {
		alts = append(alts, top)
	}
	sort.Strings(alts)
	return regexp.MustCompile(`(^|[\s='"])(/(?:` + strings.Join(alts, "|") + `))(/|[\s'"]|$)`)
}

// runStage executes one stage's WORKDIR, ENV, ARG, COPY and RUN steps.
func (b *builder) runStage(d *Dockerfile, s *Stage) error {
	root, err := os.MkdirTemp(b.tmp, s.Name+"-")
	if err != nil {
		return err
	}
	b.roots[s.Name] = root
	paths := containerPaths(d)
	workdir := "/"
	env := map[string]string{}
	for _, in := range s.Steps {
		args := substitute(in.Args, env)
		switch in.Cmd {
		case "WORKDIR":
			workdir = path.Join(workdir, args)
			if err := os.MkdirAll(b.host(s.Name, workdir), 0o755); err != nil {
				return err
			}
		case "ENV", "ARG":
			for _, kv := range strings.Fields(args) {
				k, v, _ := strings.Cut(kv, "=")
				if _, set := env[k]; in.Cmd == "ARG" && set {
					continue
				}
				env[k] = strings.Trim(v, `"`)
			}
		case "COPY":
			if err := b.copyStep(s.Name, workdir, Instruction{Cmd: in.Cmd, Args: args, Line: in.Line}); err != nil {
				return fmt.Errorf("Dockerfile:%d: %w", in.Line, err)
			}
		case "RUN":
			script := paths.ReplaceAllString(args, "${1}"+root+"${2}${3}")
			cmd := exec.Command("sh", "-c", script)
			cmd.Dir = b.host(s.Name, workdir)
			cmd.Env = os.Environ()
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			fmt.Fprintf(&b.log, "[%s] RUN %s\n%s", s.Name, args, out)
			if err != nil {
				return fmt.Errorf("Dockerfile:%d: RUN %s: %w\n%s", in.Line, args, err, out)
			}
		default:
			return fmt.Errorf("Dockerfile:%d: %s in build stage %s is not emulated", in.Line, in.Cmd, s.Name)
		}
	}
	return nil
}

// Images are the binaries the Dockerfile puts into each image.
type Images struct {
	Binary     map[string]string // target -> host path of its binary
	Entrypoint map[string]string // target -> path in the image
	Log        string
}

var (
	imagesOnce sync.Once
	images     *Images
	imagesErr  error
)

// buildImages runs the Dockerfile's "dashboard" and "build" stages once per
// test binary and returns each final stage's binary.
func buildImages(t testing.TB) *Images {
	t.Helper()
	imagesOnce.Do(func() { images, imagesErr = doBuildImages(repoRoot(t)) })
	if imagesErr != nil {
		t.Fatalf("building as the Dockerfile does: %v", imagesErr)
	}
	return images
}

// fatalTB turns the parse helpers' t.Fatalf into a panic that
// doBuildImages recovers as an error: it runs once, for whichever test asks
// first, and must not end that test's goroutine.
type fatalTB struct{ testing.TB }

type fatalError struct{ error }

func (fatalTB) Helper() {}

func (fatalTB) Fatalf(format string, args ...any) { panic(fatalError{fmt.Errorf(format, args...)}) }

func (fatalTB) Fatal(args ...any) { panic(fatalError{fmt.Errorf("%s", fmt.Sprint(args...))}) }

func doBuildImages(root string) (im *Images, err error) {
	defer func() {
		if r := recover(); r != nil {
			fe, ok := r.(fatalError)
			if !ok {
				panic(r)
			}
			err = fe.error
		}
	}()
	d := parseDockerfile(fatalTB{}, filepath.Join(root, "Dockerfile"))
	ignore, err := readIgnore(filepath.Join(root, ".dockerignore"))
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "stampede-dockerbuild-")
	if err != nil {
		return nil, err
	}
	// The directory is removed when the process exits (see TestMain).
	cleanups = append(cleanups, func() {
		if err := os.RemoveAll(tmp); err != nil {
			fmt.Fprintln(os.Stderr, "removing the Dockerfile build directory:", err)
		}
	})
	b := &builder{context: root, ignore: ignore, roots: map[string]string{}, tmp: tmp}
	for _, name := range []string{"dashboard", "build"} {
		s := d.Stage(fatalTB{}, name)
		if err := b.runStage(d, s); err != nil {
			return nil, fmt.Errorf("stage %s: %w\n%s", name, err, b.log.String())
		}
	}
	im = &Images{Binary: map[string]string{}, Entrypoint: map[string]string{}, Log: b.log.String()}
	for _, target := range imageTargets {
		s := d.Stage(fatalTB{}, target)
		from, src, _, ok := copyFrom(s.All("COPY")[0])
		if !ok {
			return nil, fmt.Errorf("stage %s: no COPY --from", target)
		}
		im.Binary[target] = b.host(from, src)
		im.Entrypoint[target] = entrypoint(fatalTB{}, s)[0]
	}
	return im, nil
}

// TestDockerfileBuildsStaticBinaries runs the Dockerfile's front-end and Go
// build stages and checks that each image's binary exists and is statically
// linked (distroless/static has no libc).
func TestDockerfileBuildsStaticBinaries(t *testing.T) {
	im := buildImages(t)
	for _, target := range imageTargets {
		f, err := elf.Open(im.Binary[target])
		if err != nil {
			t.Errorf("image %s: binary %s: %v", target, im.Binary[target], err)
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("image %s: binary has an ELF interpreter: dynamically linked", target)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("image %s: binary needs shared libraries %v", target, libs)
		}
		_ = f.Close()
	}
}
