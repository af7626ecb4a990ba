package coord

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
