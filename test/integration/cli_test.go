package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
)

// TestCommandLine: worker run takes a test from flags as hey and vegeta do;
// --help and --version answer cleanly; master list, show, stop, export and
// delete manage tests through any master's API.
func TestCommandLine(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	master, worker := filepath.Join(c.Bin, "master"), filepath.Join(c.Bin, "worker")
	for _, args := range [][]string{{master, "--help"}, {master, "submit", "--help"}, {master, "show", "--help"}, {worker, "--help"}, {worker, "run", "--help"}} {
		code, out, errOut := cli(t, args[0], args[1:]...)
		if code != 0 || strings.Contains(out+errOut, "help requested") || !strings.Contains(errOut, "sage") || !strings.Contains(errOut, "-api") && !strings.Contains(errOut, "-quiet") && !strings.Contains(errOut, "-zk") {
			t.Errorf("%v: exit %d, output:\n%s%s\nwant exit 0 and the flags without \"help requested\"", args[1:], code, out, errOut)
		}
	}
	for _, bin := range []string{master, worker} {
		if code, out, _ := cli(t, bin, "--version"); code != 0 || !strings.HasPrefix(out, "stampede ") {
			t.Errorf("%s --version: exit %d %q", filepath.Base(bin), code, out)
		}
	}

	c.ResetTarget()
	code, out, errOut := cli(t, worker, "run", "-u", c.TargetURL("/echo"), "-r", "100", "-d", "2s", "-m", "POST", "-H", "X-Test: yes", "-b", "hello", "--json", "--quiet")
	if code != 0 {
		t.Fatalf("worker run -u: exit %d\n%s", code, errOut)
	}
	if s := summaryOf(t, out); s.Requests != 200 || s.Errors != 0 || c.TargetRequests() != 200 || len(s.Names) != 1 || s.Names[0].Name != "POST /echo" {
		t.Errorf("worker run -u -r 100 -d 2s: %d requests %d errors, names %+v, target %d; want 200 POST /echo, no errors", s.Requests, s.Errors, s.Names, c.TargetRequests())
	}
	if code, _, errOut := cli(t, worker, "run", "-u", "ftp://x", "-r", "-1"); code != 2 || !strings.Contains(errOut, "-u:") || !strings.Contains(errOut, "-r:") {
		t.Errorf("worker run with bad flags: exit %d, stderr:\n%s\nwant 2 naming -u and -r", code, errOut)
	}

	api := []string{"--api", c.Masters[0].URL(), "--token", tc.OperatorToken}
	id := c.Submit(spec("constant-rate", map[string]any{"rate": 20, "duration": "30s"}, c.TargetURL("/ping")))
	c.WaitPhase(id, "running", 30*time.Second)
	if code, out, errOut := cli(t, master, append([]string{"list"}, api...)...); code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "running") {
		t.Errorf("master list: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := cli(t, master, append([]string{"stop", id}, api...)...); code != 0 {
		t.Errorf("master stop: exit %d\n%s%s", code, out, errOut)
	}
	c.WaitPhase(id, "stopped", 30*time.Second)
	if code, out, errOut := cli(t, master, append([]string{"show", id}, api...)...); code != 0 || !strings.Contains(out, "test "+id+": stopped") {
		t.Errorf("master show: exit %d\n%s%s", code, out, errOut)
	}
	file := filepath.Join(t.TempDir(), "junit.xml")
	if code, _, errOut := cli(t, master, append([]string{"export", id, "--out", file}, api...)...); code != 0 {
		t.Errorf("master export: exit %d\n%s", code, errOut)
	} else if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), "<testsuite") {
		t.Errorf("master export wrote %q (%v)", b, err)
	}
	if code, out, errOut := cli(t, master, append([]string{"delete", id}, api...)...); code != 0 {
		t.Errorf("master delete: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := cli(t, master, append([]string{"show", id}, api...)...); code != 2 {
		t.Errorf("master show of a deleted test: exit %d, want 2", code)
	}
}
