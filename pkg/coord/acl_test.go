package coord

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/internal/zktest"
)

func TestReadAuthFile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content, want, err string
	}{
		{"user and password", "stampede:s3cret-password\n", "stampede:s3cret-password", ""},
		{"surrounding space", "  stampede:s3cret-password  \n\n", "stampede:s3cret-password", ""},
		{"no colon", "stampede\n", "", `want one line "user:password"`},
		{"empty user", ":s3cret-password\n", "", "the user name is empty"},
		{"short password", "stampede:short\n", "", "shorter than 8"},
		{"two lines", "stampede:s3cret-password\nother:s3cret-password\n", "", "white space"},
		{"too large", strings.Repeat("x", maxAuthFile+1), "", "larger than"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
		if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadAuthFile(p)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: ReadAuthFile = %q, %v; want error %q", tt.name, got, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s: the error shows the secret: %v", tt.name, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: ReadAuthFile = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := ReadAuthFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("ReadAuthFile of a missing file: no error")
	}
}

func TestNodesOfASecretClientAreClosedToOthers(t *testing.T) {
	zk := zktest.Standalone(t)
	ctx := context.Background()
	dial := func(auth string) *Client {
		cfg := DefaultConfig(zk.Addr())
		cfg.Auth = auth
		cfg.OpTimeout = 5 * time.Second
		c, err := Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	anon, owner := dial(""), dial("stampede:s3cret-password")
	if _, err := anon.Create(ctx, "/open", nil, Persistent); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Create(ctx, "/closed", []byte("x"), Persistent); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		want bool
	}{{"/open", true}, {"/closed", false}} {
		got, err := owner.OpenToAnyone(ctx, tt.path)
		if err != nil || got != tt.want {
			t.Errorf("OpenToAnyone(%s) = %v, %v; want %v", tt.path, got, err, tt.want)
		}
	}
	if _, _, err := anon.Get(ctx, "/closed"); !errors.Is(err, ErrNoAuth) {
		t.Errorf("anonymous Get of a secret client's node: %v, want ErrNoAuth", err)
	}
	if _, _, err := owner.Get(ctx, "/closed"); err != nil {
		t.Errorf("the owner's Get: %v", err)
	}
}
