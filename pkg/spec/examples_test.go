package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// TestExamplesValid: every spec in examples/ is valid as the CLIs read it.
func TestExamplesValid(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body, err := InlineDataFile(raw, f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		s, errs := ParseFile(body)
		if len(errs) > 0 {
			t.Errorf("%s: %v", f, errs)
		}
		if filepath.Base(f) == "flash-sale.yaml" && (s.UniqueRows() != 30 || len(s.Scenario.Steps) != 6) {
			t.Errorf("%s: %d unique rows and %d steps, want 30 and 6", f, s.UniqueRows(), len(s.Scenario.Steps))
		}
	}
}
