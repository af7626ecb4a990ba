package standalone

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stampede-load/stampede/internal/testcluster"
)

// TestRunScenarioTable: `worker run` on a scenario prints one line per
// step with its own counts and the iterations line; the shoppers' file is
// read relative to the spec, and so are the TLS files of an mTLS target.
func TestRunScenarioTable(t *testing.T) {
	tt := testcluster.StartTLSTarget(t, true, nil)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte("user\nann\nbob\ncid\ndee\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	caFile := tt.CA.WriteCA(t, dir)
	f := writeSpec(t, `
request:
  tls: {ca_file: `+caFile+`, cert_file: `+tt.Client.CertFile+`, key_file: `+tt.Client.KeyFile+`}
load: {model: avalanche, concurrency: 2, iterations: 4}
scenario:
  data: {file: `+filepath.Join(dir, "users.csv")+`, mode: unique}
  steps:
    - name: login
      request: {method: POST, url: "`+tt.URL+`/shop/login", body: '{"user":"{{data.user}}"}'}
      extract: {token: {json: "$.token"}}
    - name: cart
      request: {method: POST, url: "`+tt.URL+`/shop/cart", headers: {Authorization: "Bearer {{token}}"}}
      check: {status: [200]}
`)
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"-f", f, "--quiet"}, &out, io.Discard); code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	for _, want := range []string{
		`(?m)^requests\s+8$`,
		`(?m)^iterations\s+4 completed, 0 failed; duration p50 `,
		`(?m)^\s*name\s+requests\s+errors\s`,
		`(?m)^\s*login\s+4\s+0\s`,
		`(?m)^\s*cart\s+4\s+0\s`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("table lacks %s:\n%s", want, out.String())
		}
	}
}
