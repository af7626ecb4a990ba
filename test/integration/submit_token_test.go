package integration

import (
	"path/filepath"
	"strings"
	"testing"

	tc "github.com/stampede-load/stampede/internal/testcluster"
)

// master submit sends --token (or STAMPEDE_TOKEN) on every call: without
// it the API refuses the spec and the command says how to pass one; with
// a viewer's it is refused; with an operator's it submits, follows the test
// and prints the result.
func TestSubmitSendsTheToken(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 1})
	f := specFile(t, "name: cli-token\nrequest:\n  url: "+c.TargetURL("/ping")+"\nload:\n  model: avalanche\n  requests: 300\n")
	master := filepath.Join(c.Bin, "master")
	submit := func(args ...string) (int, string, string) {
		return cli(t, master, append([]string{"submit", "-f", f, "--api", c.Masters[0].URL()}, args...)...)
	}

	if code, _, stderr := submit("--wait=false"); code != 2 || !strings.Contains(stderr, "401") || !strings.Contains(stderr, "--token") {
		t.Errorf("without a token: exit %d, stderr %q; want 2, the 401 and how to pass a token", code, stderr)
	}
	if code, _, stderr := submit("--wait=false", "--token", tc.ViewerToken); code != 2 || !strings.Contains(stderr, "403") {
		t.Errorf("with a viewer token: exit %d, stderr %q; want 2 and the 403", code, stderr)
	}
	code, stdout, stderr := submit("--token", tc.OperatorToken)
	if code != 0 || !strings.Contains(stdout, "completed") || !strings.Contains(stdout, "300") {
		t.Errorf("with --token: exit %d, stdout %q, stderr %q; want 0 and the completed summary of 300 requests", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, tc.OperatorToken) {
		t.Errorf("master submit printed the token")
	}
	t.Setenv("STAMPEDE_TOKEN", tc.OperatorToken)
	if code, stdout, stderr := submit("--wait=false"); code != 0 || strings.TrimSpace(stdout) == "" {
		t.Errorf("with STAMPEDE_TOKEN: exit %d, stdout %q, stderr %q; want 0 and the test id", code, stdout, stderr)
	}
}
