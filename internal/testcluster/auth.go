package testcluster

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stampede-load/stampede/pkg/coord"
)

// Every cluster runs with authentication and ZooKeeper ACLs on, as a
// production cluster does: its masters get a tokens file with one operator
// and one viewer token, and masters and workers a ZooKeeper secret. The
// credentials are random and the same for every cluster of a test process,
// so the package's request helpers (GetJSON, PostJSON and the Cluster
// methods) send the operator token without being told which cluster they
// talk to.
var (
	// OperatorToken and ViewerToken are the API tokens of every cluster.
	OperatorToken = randomHex(24)
	ViewerToken   = randomHex(24)
	// ZKAuth is the ZooKeeper digest identity "user:password" of every
	// cluster.
	ZKAuth = "stampede:" + randomHex(16)
)

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// TokensFileContent is the tokens file the masters read.
func TokensFileContent() string {
	return "# test cluster tokens\noperator " + OperatorToken + "\nviewer " + ViewerToken + "\n"
}

// WriteSecrets writes the tokens file and the ZooKeeper secret file into
// dir (mode 0600) and returns their paths.
func WriteSecrets(t testing.TB, dir string) (tokensFile, zkAuthFile string) {
	t.Helper()
	tokensFile = filepath.Join(dir, "tokens")
	zkAuthFile = filepath.Join(dir, "zk-auth")
	if err := os.WriteFile(tokensFile, []byte(TokensFileContent()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zkAuthFile, []byte(ZKAuth+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return tokensFile, zkAuthFile
}

// CoordConfig is coord.DefaultConfig(addr) with the clusters' ZooKeeper
// secret, for tests that read what a cluster wrote.
func CoordConfig(addr string) coord.Config {
	cfg := coord.DefaultConfig(addr)
	cfg.Auth = ZKAuth
	return cfg
}

// authorize adds the operator token to a request.
func authorize(r *http.Request) {
	r.Header.Set("Authorization", "Bearer "+OperatorToken)
}
