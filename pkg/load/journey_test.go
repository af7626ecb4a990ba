package load

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stampede-load/stampede/pkg/spec"
)

// TestScenarioRefused: a valid scenario is refused at prepare with a
// message naming scenario, not run as some other load.
func TestScenarioRefused(t *testing.T) {
	s, errs := spec.ParseFile([]byte("load: {model: avalanche, iterations: 1}\nscenario:\n  steps:\n    - name: a\n      request: {url: \"http://127.0.0.1:1/\"}\n"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	r, err := Prepare(context.Background(), Plan{Spec: s})
	if err == nil {
		r.Close()
		t.Fatal("Prepare of a scenario succeeded, want it refused")
	}
	if !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), "scenario: this load engine does not run scenarios yet") {
		t.Errorf("Prepare = %v, want ErrInvalidPlan naming scenario", err)
	}
}
