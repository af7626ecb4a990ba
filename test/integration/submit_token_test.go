package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tc "github.com/stampede-load/stampede/internal/testcluster"
)

// master submit sends --token (or STAMPEDE_TOKEN) on every call: without
// it the API refuses the spec and the command says how to pass one; with
// a viewer's it is refused; with an operator's it submits, follows the test
// and prints the result.
func TestSubmitSendsTheToken(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	specFile := filepath.Join(t.TempDir(), "spec.yaml")
	body := "name: cli-token\nrequest:\n  url: " + c.TargetURL("/ping") + "\nload:\n  model: avalanche\n  requests: 300\n"
	if err := os.WriteFile(specFile, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	master := filepath.Join(tc.Binaries(t), "master")
	run := func(env []string, args ...string) (int, string, string) {
		cmd := exec.Command(master, append([]string{"submit", "-f", specFile, "--api", c.Masters[0].URL()}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("master submit %v did not end in 90 s:\n%s", args, errb.String())
		}
		return cmd.ProcessState.ExitCode(), out.String(), errb.String()
	}

	if code, _, stderr := run(nil, "--wait=false"); code != 2 || !strings.Contains(stderr, "401") || !strings.Contains(stderr, "--token") {
		t.Errorf("without a token: exit %d, stderr %q; want 2, the 401 and how to pass a token", code, stderr)
	}
	if code, _, stderr := run(nil, "--wait=false", "--token", tc.ViewerToken); code != 2 || !strings.Contains(stderr, "403") {
		t.Errorf("with a viewer token: exit %d, stderr %q; want 2 and the 403", code, stderr)
	}
	code, stdout, stderr := run(nil, "--token", tc.OperatorToken)
	if code != 0 || !strings.Contains(stdout, "completed") || !strings.Contains(stdout, "300") {
		t.Errorf("with --token: exit %d, stdout %q, stderr %q; want 0 and the completed summary of 300 requests", code, stdout, stderr)
	}
	if code, stdout, stderr := run([]string{"STAMPEDE_TOKEN=" + tc.OperatorToken}, "--wait=false"); code != 0 || strings.TrimSpace(stdout) == "" {
		t.Errorf("with STAMPEDE_TOKEN: exit %d, stdout %q, stderr %q; want 0 and the test id", code, stdout, stderr)
	}
	if strings.Contains(stderr, tc.OperatorToken) {
		t.Errorf("master submit printed the token: %q", stderr)
	}
}
