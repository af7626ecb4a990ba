// Package submit is `master submit`: a command-line client that submits a
// spec to any master's REST API, prints one progress line per second and
// the final summary table.
package submit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/stampede-load/stampede/pkg/config"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
	"github.com/stampede-load/stampede/pkg/verdict"
)

type testView struct {
	ID         string          `json:"id"`
	Phase      string          `json:"phase"`
	Reason     string          `json:"reason"`
	ElapsedS   float64         `json:"elapsed_s"`
	RemainingS float64         `json:"remaining_s"`
	Summary    *report.Summary `json:"summary"`
}

// Exit codes of Main.
const (
	ExitOK    = 0
	ExitRun   = 1 // the test failed to run or was aborted (not by a threshold)
	ExitUsage = 2 // bad flags, a rejected spec or an unreachable API
	// ExitThresholds means the test ran but a threshold failed (as k6).
	ExitThresholds = 99
)

// Main runs the subcommand; it returns the process exit code: 0 when the
// test completed (or was stopped) and every threshold passed, 99 when a
// threshold failed, 1 when it failed to run or was aborted otherwise, 2 on
// usage or API errors.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := config.New("master submit")
	fs.SetOutput(stderr)
	file := fs.String("file", "", "spec file (YAML or JSON)")
	fs.StringVar(file, "f", "", "shorthand for --file")
	api := fs.String("api", "http://127.0.0.1:8080", "any master's base URL")
	asJSON := fs.Bool("json", false, "print the final test as JSON instead of a table")
	wait := fs.Bool("wait", true, "follow the test until it ends")
	token := fs.String("token", "", "API token (an operator's, to submit), sent as Authorization: Bearer")
	out := fs.String("out", "", "also write the result to FILE, by extension: .html report, .csv stats, timeline.csv, .hlog interval log, .xml JUnit, .json test")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if _, err := outKind(*out); err != nil {
		fmt.Fprintln(stderr, "master submit:", err)
		return 2
	}
	if *file == "" {
		fmt.Fprintln(stderr, "master submit: --file is required")
		return 2
	}
	body, err := os.ReadFile(*file)
	if err == nil {
		body, err = spec.InlineDataFile(body, *file)
	}
	if err != nil {
		fmt.Fprintln(stderr, "master submit:", err)
		return 2
	}
	base := strings.TrimRight(*api, "/")
	cl := &http.Client{Timeout: 15 * time.Second, Transport: bearer{token: *token, next: http.DefaultTransport}}
	id, ok := create(ctx, cl, base, body, stderr)
	if !ok {
		return ExitUsage
	}
	created := struct{ ID string }{id}
	if !*wait {
		fmt.Fprintln(stdout, created.ID)
		return 0
	}

	stopped := false
	lastSecond := int64(-1)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var tv testView
		if err := getJSON(ctx, cl, base+"/api/v1/tests/"+created.ID, &tv); err == nil {
			if proto.Terminal(tv.Phase) {
				code := finish(ctx, stdout, stderr, tv, *asJSON, cl, base)
				if err := writeOut(ctx, cl, base, tv.ID, *out); err != nil {
					fmt.Fprintln(stderr, "master submit:", err)
					return max(code, ExitRun)
				}
				return code
			}
			var tl struct{ Points []report.Point }
			if tv.Phase == proto.PhaseRunning && getJSON(ctx, cl, base+"/api/v1/tests/"+created.ID+"/timeline", &tl) == nil && len(tl.Points) > 0 {
				p := tl.Points[len(tl.Points)-1]
				if p.Second != lastSecond {
					lastSecond = p.Second
					var total int64
					for _, q := range tl.Points {
						total += q.Requests
					}
					fmt.Fprintln(stderr, report.ProgressLine(float64(p.Second+1), p, total))
				}
			} else if tv.Phase != proto.PhaseRunning {
				fmt.Fprintf(stderr, "[%s]\n", tv.Phase)
			}
		} else {
			fmt.Fprintln(stderr, "master submit: polling:", err)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			if stopped {
				return 1
			}
			stopped = true
			fmt.Fprintln(stderr, "interrupted: stopping the test (Ctrl-C again to leave it running)")
			sreq, _ := http.NewRequest(http.MethodPost, base+"/api/v1/tests/"+created.ID+"/stop", nil)
			if r, err := cl.Do(sreq); err == nil {
				r.Body.Close()
			}
			ctx = context.WithoutCancel(ctx)
		}
	}
}

func finish(ctx context.Context, stdout, stderr io.Writer, tv testView, asJSON bool, cl *http.Client, base string) int {
	if asJSON {
		var full json.RawMessage
		if err := getJSON(ctx, cl, base+"/api/v1/tests/"+tv.ID, &full); err == nil {
			fmt.Fprintln(stdout, string(full))
		}
	} else if tv.Summary != nil {
		title := fmt.Sprintf("test %s: %s", tv.ID, tv.Phase)
		if tv.Reason != "" {
			title += " (" + tv.Reason + ")"
		}
		_ = report.WriteTable(stdout, title, *tv.Summary)
		_ = report.WriteVerdict(stdout, *tv.Summary, verdict.FormatObserved)
	} else {
		fmt.Fprintf(stdout, "test %s: %s %s\n", tv.ID, tv.Phase, tv.Reason)
	}
	return exitCode(tv)
}

// exitCode is the exit code for a finished test.
func exitCode(tv testView) int {
	switch {
	case tv.Summary != nil && tv.Summary.Verdict == report.VerdictFailed:
		return ExitThresholds
	case tv.Phase == proto.PhaseFailed || tv.Phase == proto.PhaseAborted:
		return ExitRun
	}
	return ExitOK
}

func getJSON(ctx context.Context, cl *http.Client, url string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// bearer adds the API token to every request (none when token is empty).
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token == "" {
		return b.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// create posts the spec and returns the new test's id; false (after
// printing why, field by field) if the API refused it.
func create(ctx context.Context, cl *http.Client, base string, body []byte, stderr io.Writer) (string, bool) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/tests", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := cl.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "master submit:", err)
		return "", false
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		var e struct {
			Error  string `json:"error"`
			Fields []struct{ Field, Problem string }
		}
		_ = json.Unmarshal(raw, &e)
		fmt.Fprintf(stderr, "master submit: %s: %s\n", resp.Status, e.Error)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			fmt.Fprintln(stderr, "  pass an operator token with --token or STAMPEDE_TOKEN")
		}
		for _, f := range e.Fields {
			fmt.Fprintf(stderr, "  %s: %s\n", f.Field, f.Problem)
		}
		return "", false
	}
	var created struct{ ID string }
	_ = json.Unmarshal(raw, &created)
	fmt.Fprintf(stderr, "test %s submitted\n", created.ID)
	return created.ID, true
}
