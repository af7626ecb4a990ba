package submit

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stampede-load/stampede/pkg/config"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/verdict"
)

// Commands are the siblings of `master submit`, each a client of any
// master's API: list, show ID, stop ID, delete ID, export ID --out FILE.
var Commands = []string{"list", "show", "stop", "delete", "export"}

// Sibling runs one of Commands with args; it returns the exit code: 0, 2 on
// usage or API errors, and for show of a finished test the code submit
// would have returned (99 for a failed threshold).
func Sibling(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	fs := config.New("master " + cmd)
	fs.SetOutput(stderr)
	api := fs.String("api", "http://127.0.0.1:8080", "any master's base URL")
	token := fs.String("token", "", "API token (an operator's to stop or delete), sent as Authorization: Bearer")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	out := fs.String("out", "", "export: the file to write, by extension (.html .csv timeline.csv .hlog .xml .json)")
	id := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") { // the ID may come first
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if id == "" {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		id = "" // two IDs
	}
	if (cmd == "list") != (id == "") || fs.NArg() > 1 || (cmd == "export" && *out == "") || strings.ContainsAny(id, "/?#") {
		fmt.Fprintf(stderr, "usage: master %s %s[--api URL] [--token T] [--json]%s\n", cmd, map[bool]string{true: "", false: "ID "}[cmd == "list"], map[bool]string{true: " --out FILE", false: ""}[cmd == "export"])
		return ExitUsage
	}
	cl := &http.Client{Timeout: 30 * time.Second, Transport: bearer{token: *token, next: http.DefaultTransport}}
	base := strings.TrimRight(*api, "/")
	var err error
	code := ExitOK
	switch cmd {
	case "list":
		err = list(ctx, cl, base, stdout, *asJSON)
	case "show":
		code, err = show(ctx, cl, base, id, stdout, *asJSON)
	case "stop":
		err = call(ctx, cl, http.MethodPost, base+"/api/v1/tests/"+id+"/stop", stdout)
	case "delete":
		err = call(ctx, cl, http.MethodDelete, base+"/api/v1/tests/"+id, stdout)
	case "export":
		if _, err = outKind(*out); err == nil {
			err = writeOut(ctx, cl, base, id, *out)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "master %s: %v\n", cmd, err)
		return ExitUsage
	}
	return code
}

func list(ctx context.Context, cl *http.Client, base string, stdout io.Writer, asJSON bool) error {
	var raw json.RawMessage
	if err := getJSON(ctx, cl, base+"/api/v1/tests", &raw); err != nil {
		return err
	}
	if asJSON {
		_, err := fmt.Fprintln(stdout, string(raw))
		return err
	}
	var items []struct {
		ID, Name, Phase string
		Summary         *report.Summary
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPHASE\tVERDICT\tREQUESTS\tERRORS\tP99 MS")
	for _, it := range items {
		var req, errs int64
		var p99 float64
		v := ""
		if s := it.Summary; s != nil {
			req, errs, p99, v = s.Requests, s.Errors, s.LatencyMs.P99, s.Verdict
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%.3f\n", it.ID, it.Name, it.Phase, v, req, errs, p99)
	}
	return tw.Flush()
}

func show(ctx context.Context, cl *http.Client, base, id string, stdout io.Writer, asJSON bool) (int, error) {
	var raw json.RawMessage
	if err := getJSON(ctx, cl, base+"/api/v1/tests/"+id, &raw); err != nil {
		return ExitUsage, err
	}
	var tv testView
	if err := json.Unmarshal(raw, &tv); err != nil {
		return ExitUsage, err
	}
	if asJSON {
		fmt.Fprintln(stdout, string(raw))
	} else if tv.Summary != nil {
		title := fmt.Sprintf("test %s: %s", tv.ID, tv.Phase)
		if tv.Reason != "" {
			title += " (" + tv.Reason + ")"
		}
		if err := report.WriteTable(stdout, title, *tv.Summary); err != nil {
			return ExitUsage, err
		}
		if err := report.WriteVerdict(stdout, *tv.Summary, verdict.FormatObserved); err != nil {
			return ExitUsage, err
		}
	} else {
		fmt.Fprintf(stdout, "test %s: %s %s\n", tv.ID, tv.Phase, tv.Reason)
	}
	if !proto.Terminal(tv.Phase) {
		return ExitOK, nil
	}
	return exitCode(tv), nil
}

// call sends a body-less request and prints the answer.
func call(ctx context.Context, cl *http.Client, method, url string, stdout io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s %s", method, url, resp.Status, strings.TrimSpace(string(b)))
	}
	_, err = fmt.Fprintln(stdout, strings.TrimSpace(string(b)))
	return err
}
