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
	Position   int             `json:"position"`
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
	o, code, ok := parseSubmit(args, stderr)
	if !ok {
		return code
	}
	body, err := os.ReadFile(o.file)
	if err == nil {
		body, err = spec.InlineDataFile(body, o.file)
	}
	if err != nil {
		fmt.Fprintln(stderr, "master submit:", err)
		return ExitUsage
	}
	f := &follower{
		cl:   &http.Client{Timeout: 15 * time.Second, Transport: bearer{token: o.token, next: http.DefaultTransport}},
		base: strings.TrimRight(o.api, "/"), stdout: stdout, stderr: stderr, o: o, lastSecond: -1,
	}
	id, ok := create(ctx, f.cl, f.base, body, stderr)
	if !ok {
		return ExitUsage
	}
	if !o.wait {
		fmt.Fprintln(stdout, id)
		return ExitOK
	}
	return f.follow(ctx, id)
}

// submitOptions are master submit's flags.
type submitOptions struct {
	file, api, token, out string
	asJSON, wait          bool
}

// parseSubmit parses the flags; ok false means Main returns code.
func parseSubmit(args []string, stderr io.Writer) (o submitOptions, code int, ok bool) {
	fs := config.New("master submit")
	fs.SetOutput(stderr)
	// Set's String and Bool also read STAMPEDE_<FLAG> (flag.FlagSet's
	// *Var methods would not): STAMPEDE_TOKEN is how scripts pass the token.
	file := fs.String("file", "", "spec file (YAML or JSON)")
	fs.StringVar(file, "f", "", "shorthand for --file")
	api := fs.String("api", "http://127.0.0.1:8080", "any master's base URL")
	asJSON := fs.Bool("json", false, "print the final test as JSON instead of a table")
	wait := fs.Bool("wait", true, "follow the test until it ends")
	token := fs.String("token", "", "API token (an operator's, to submit), sent as Authorization: Bearer")
	out := fs.String("out", "", "also write the result to FILE, by extension: .html report, .csv stats, timeline.csv, .hlog interval log, .xml JUnit, .json test")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, ExitOK, false
		}
		return o, ExitUsage, false
	}
	o = submitOptions{file: *file, api: *api, token: *token, out: *out, asJSON: *asJSON, wait: *wait}
	if _, err := outKind(o.out); err != nil {
		fmt.Fprintln(stderr, "master submit:", err)
		return o, ExitUsage, false
	}
	if o.file == "" {
		fmt.Fprintln(stderr, "master submit: --file is required")
		return o, ExitUsage, false
	}
	return o, 0, true
}

// follower follows one submitted test until it ends.
type follower struct {
	cl             *http.Client
	base           string
	stdout, stderr io.Writer
	o              submitOptions
	lastSecond     int64
	lastWaiting    string // the last waiting line printed
}

// follow polls the test once a second, printing progress, until it ends;
// the first interrupt stops the test, a second one leaves it running.
func (f *follower) follow(ctx context.Context, id string) int {
	stopped := false
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var tv testView
		if err := getJSON(ctx, f.cl, f.base+"/api/v1/tests/"+id, &tv); err != nil {
			fmt.Fprintln(f.stderr, "master submit: polling:", err)
		} else if proto.Terminal(tv.Phase) {
			return f.finish(ctx, tv)
		} else {
			f.progress(ctx, id, tv)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			if stopped {
				return ExitRun
			}
			stopped = true
			fmt.Fprintln(f.stderr, "interrupted: stopping the test (Ctrl-C again to leave it running)")
			sreq, _ := http.NewRequest(http.MethodPost, f.base+"/api/v1/tests/"+id+"/stop", nil)
			if r, err := f.cl.Do(sreq); err == nil {
				r.Body.Close()
			}
			ctx = context.WithoutCancel(ctx)
		}
	}
}

// finish prints the ended test and writes --out.
func (f *follower) finish(ctx context.Context, tv testView) int {
	code := finish(ctx, f.stdout, f.stderr, tv, f.o.asJSON, f.cl, f.base)
	if err := writeOut(ctx, f.cl, f.base, tv.ID, f.o.out); err != nil {
		fmt.Fprintln(f.stderr, "master submit:", err)
		return max(code, ExitRun)
	}
	return code
}

// progress prints one line per new merged second while the test runs, and
// before it does the phase (and a queued test's position and what it waits
// for) each time that changes.
func (f *follower) progress(ctx context.Context, id string, tv testView) {
	if tv.Phase != proto.PhaseRunning {
		line := "[" + tv.Phase + "]"
		if tv.Phase == proto.PhaseQueued {
			line = fmt.Sprintf("[queued: position %d, %s]", tv.Position, tv.Reason)
		}
		if line != f.lastWaiting {
			fmt.Fprintln(f.stderr, line)
			f.lastWaiting = line
		}
		return
	}
	var tl struct{ Points []report.Point }
	if getJSON(ctx, f.cl, f.base+"/api/v1/tests/"+id+"/timeline", &tl) != nil || len(tl.Points) == 0 {
		return
	}
	p := tl.Points[len(tl.Points)-1]
	if p.Second == f.lastSecond {
		return
	}
	f.lastSecond = p.Second
	var total int64
	for _, q := range tl.Points {
		total += q.Requests
	}
	fmt.Fprintln(f.stderr, report.ProgressLine(float64(p.Second+1), p, total))
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
