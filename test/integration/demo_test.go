package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/internal/zktest"
)

// TestDemoScript runs `make demo`'s script as a user would (without a
// terminal, so it stops after the summary) on free ports.
func TestDemoScript(t *testing.T) {
	text := runDemo(t)
	for _, want := range []string{"completed", "requests", "p99", "p99.9", "max start skew", "worker-1", "worker-2", "worker-3", "dashboard   http://127.0.0.1:", "stopped."} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	// the link logs in as the operator whose token it printed (contract:
	// http://HOST:PORT/#token=<token>)
	link := regexp.MustCompile(`(?m)^dashboard   http://127\.0\.0\.1:\d+/#token=([0-9a-f]{48})$`).FindStringSubmatch(text)
	tok := regexp.MustCompile(`(?m)^token       ([0-9a-f]{48}) `).FindStringSubmatch(text)
	if link == nil || tok == nil || link[1] != tok[1] {
		t.Errorf("demo output lacks the #token= dashboard link with the printed operator token:\n%s", text)
	}
	if n := len(regexp.MustCompile(`(?m)^\[\s*\d+s\]`).FindAllString(text, -1)); n < 5 {
		t.Errorf("demo printed %d progress lines, want one per second of the 10 s test:\n%s", n, text)
	}
	// result and target agree
	res := regexp.MustCompile(`(?m)^requests\s+(\d+)`).FindStringSubmatch(text)
	seen := regexp.MustCompile(`target saw\s+(\d+) requests`).FindStringSubmatch(text)
	if res == nil || seen == nil || res[1] != seen[1] {
		t.Errorf("result requests %v and target count %v differ:\n%s", res, seen, text)
	}
}

// runDemo runs the demo script with env added (say DEMO_SPEC) on free
// ports and returns its output.
func runDemo(t *testing.T, env ...string) string {
	t.Helper()
	if err := zktest.Available(); err != nil {
		t.Fatal(err)
	}
	bin := tc.Binaries(t)
	root, _ := filepath.Abs("../..")
	// the script builds into bin/ when the binaries are missing; give it ours
	work := t.TempDir()
	for _, d := range []string{"scripts", "examples"} {
		cp := exec.Command("cp", "-r", filepath.Join(root, d), work)
		if out, err := cp.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	if err := os.Symlink(bin, filepath.Join(work, "bin")); err != nil {
		t.Fatal(err)
	}
	port := func() string { return strconv.Itoa(zktest.FreePort(t)) }
	cmd := exec.Command("bash", filepath.Join(work, "scripts", "demo.sh"))
	cmd.Env = append(os.Environ(), "CI=true",
		"DEMO_ZK_PORT="+port(), "DEMO_TARGET_PORT="+port(), "DEMO_MASTER1_PORT="+port(),
		"DEMO_MASTER2_PORT="+port(), "DEMO_WORKER_PORTS="+port()+" "+port()+" "+port())
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = nil
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("demo did not finish in 3 minutes:\n%s", out)
	}
	text := string(out)
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, text)
	}
	return text
}

// TestDemoFlashSale: `DEMO_SPEC=examples/flash-sale.yaml make demo` runs
// the flash sale: 30 shoppers, 4 steps each, every request answered and
// each step reported under its name.
func TestDemoFlashSale(t *testing.T) {
	text := runDemo(t, "DEMO_SPEC=examples/flash-sale.yaml")
	for _, want := range []string{"completed", "target saw  120 requests", "stopped."} {
		if !strings.Contains(text, want) {
			t.Errorf("flash-sale demo output lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`(?m)^requests\s+120$`).MatchString(text) || !regexp.MustCompile(`(?m)^errors\s+0 `).MatchString(text) {
		t.Errorf("flash-sale demo: want 120 requests and 0 errors:\n%s", text)
	}
}
