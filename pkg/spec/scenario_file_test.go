package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInlineDataFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "specs", "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "specs", "data", "users.csv"), []byte("user\nann\nbob\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(dir, "specs", "s.yaml")
	src := "load: {model: avalanche, iterations: 2}\nscenario:\n  data: {file: data/users.csv, mode: unique}\n  steps:\n    - name: a\n      request: {url: \"http://h/{{data.user}}\"}\n"
	out, err := InlineDataFile([]byte(src), specPath)
	if err != nil {
		t.Fatal(err)
	}
	s, errs := ParseFile(out)
	if len(errs) > 0 {
		t.Fatalf("inlined spec: %v", errs)
	}
	if s.Scenario.Data.Content != "user\nann\nbob\n" || s.UniqueRows() != 2 {
		t.Errorf("inlined content = %q (unique rows %d), want the file's 2 rows", s.Scenario.Data.Content, s.UniqueRows())
	}

	// Binary data goes as base64; a missing or oversized file is an error.
	if err := os.WriteFile(filepath.Join(dir, "specs", "bin"), []byte{0xff, 0xfe}, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = InlineDataFile([]byte(strings.Replace(src, "data/users.csv", "bin", 1)), specPath)
	var doc struct {
		Scenario struct{ Data map[string]string } `json:"scenario"`
	}
	if err != nil || json.Unmarshal(out, &doc) != nil || doc.Scenario.Data["content_base64"] != "//4=" {
		t.Errorf("binary data: %s, %v; want content_base64 //4=", out, err)
	}
	if _, err := InlineDataFile([]byte(strings.Replace(src, "data/users.csv", "nope.csv", 1)), specPath); err == nil || !strings.Contains(err.Error(), "scenario.data.file") {
		t.Errorf("missing file: err = %v, want one naming scenario.data.file", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "specs", "big"), make([]byte, MaxDataBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := InlineDataFile([]byte(strings.Replace(src, "data/users.csv", "big", 1)), specPath); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: err = %v, want larger than", err)
	}
	// Without a data file the spec is untouched.
	plain := []byte("request: {url: \"http://h/\"}\nload: {model: avalanche, duration: 1s}\n")
	if out, err := InlineDataFile(plain, specPath); err != nil || string(out) != string(plain) {
		t.Errorf("plain spec = %q, %v; want it unchanged", out, err)
	}
}
