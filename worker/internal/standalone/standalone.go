// Package standalone is `worker run -f SPEC [--json]`: it runs a test spec
// on this machine with the load engine alone, no ZooKeeper, as one worker
// holding the whole load (Share{Index: 0, Of: 1}). It prints one progress
// line per second to stderr and, at the end, the same summary table as the
// cluster to stdout (or the report.Summary as JSON with --json).
package standalone

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/stampede-load/stampede/pkg/export"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/load"
	"github.com/stampede-load/stampede/pkg/obs"
	"github.com/stampede-load/stampede/pkg/plan"
	"github.com/stampede-load/stampede/pkg/proto"
	"github.com/stampede-load/stampede/pkg/report"
	"github.com/stampede-load/stampede/pkg/spec"
	"github.com/stampede-load/stampede/pkg/verdict"
)

// Exit codes of Main.
const (
	ExitOK    = 0
	ExitRun   = 1 // the run could not be prepared or failed
	ExitUsage = 2 // bad flags or a bad spec
	// ExitThresholds means the test ran but a threshold failed (as k6).
	ExitThresholds = 99
)

// maxProfile bounds --cpuprofile.
const maxProfile = 30 * time.Minute

// Main runs `worker run` with args (the words after "run"). Cancelling ctx
// (Ctrl-C) stops the test: requests in flight finish and are counted, and
// the summary of what ran is printed. The spec comes from -f, or from -u
// and its sibling flags (see quickFlags).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("worker run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "test spec file (YAML or JSON); - for stdin")
	asJSON := fs.Bool("json", false, "print the summary as JSON instead of a table")
	host, _ := os.Hostname()
	id := fs.String("id", host, "worker id, for {{worker}} in templates")
	quiet := fs.Bool("quiet", false, "no progress lines")
	out := fs.String("out", "", "also write the result to FILE, by extension: .html report, .csv stats, timeline.csv, .hlog interval log, .xml JUnit, .json summary")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run into FILE (for measuring, docs/performance.md)")
	q := quickFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: worker run -f SPEC [flags]\n       worker run -u URL [-r RATE] [-c CONNS] [-d DUR] [-m METHOD] [-H 'Name: value'] [-b BODY] [flags]\n\nRuns a test on this machine without ZooKeeper. Exit status: 0 passed, 99 a threshold failed, 1 the run failed, 2 bad usage.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if (*file == "") == (q.url == "") || fs.NArg() > 0 {
		fs.Usage()
		return ExitUsage
	}
	if _, err := outKind(*out); err != nil {
		fmt.Fprintf(stderr, "worker run: %v\n", err)
		return ExitUsage
	}
	s, err := q.spec()
	if *file != "" {
		s, err = readSpec(*file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "worker run: %v\n", err)
		return ExitUsage
	}
	if *cpuProfile != "" {
		stop, err := obs.StartCPUProfile(*cpuProfile, maxProfile)
		if err != nil {
			fmt.Fprintf(stderr, "worker run: %v\n", err)
			return ExitUsage
		}
		defer stop()
	}
	progress := stderr
	if *quiet {
		progress = io.Discard
	}
	t, err := Run(ctx, s, *id, progress)
	if err != nil {
		fmt.Fprintf(stderr, "worker run: %v\n", err)
		return ExitRun
	}
	if err := printSummary(stdout, s.Name, *t.Summary, *asJSON); err != nil {
		return ExitRun
	}
	if err := writeOut(*out, t); err != nil {
		fmt.Fprintf(stderr, "worker run: %v\n", err)
		return ExitRun
	}
	if t.Summary.Verdict == report.VerdictFailed {
		return ExitThresholds
	}
	return ExitOK
}

// printSummary writes the summary as a table (with the verdict) or JSON.
func printSummary(w io.Writer, name string, sum report.Summary, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	title := "Stampede standalone run"
	if name != "" {
		title += ": " + name
	}
	if err := report.WriteTable(w, title, sum); err != nil {
		return err
	}
	return report.WriteVerdict(w, sum, verdict.FormatObserved)
}

// readSpec reads, parses and validates a spec file, reporting every problem
// by field.
func readSpec(path string) (spec.Spec, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return spec.Spec{}, err
	}
	if data, err = spec.InlineDataFile(data, path); err != nil {
		return spec.Spec{}, fmt.Errorf("%s: %w", path, err)
	}
	s, errs := spec.ParseFile(data)
	if len(errs) > 0 {
		msg := fmt.Sprintf("%s: invalid spec:", path)
		for _, e := range errs {
			field := e.Field
			if field == "" {
				field = "(spec)"
			}
			msg += fmt.Sprintf("\n  %s: %s", field, e.Problem)
		}
		return s, errors.New(msg)
	}
	return s, nil
}

// Execute runs a validated spec as a single worker and returns its summary.
// Progress lines go to progress once per second. Thresholds are judged each
// second as the leader judges them; one with abort that fails ends the run
// (its summary then has the failed verdict).
func Execute(ctx context.Context, s spec.Spec, workerID string, progress io.Writer) (report.Summary, error) {
	t, err := Run(ctx, s, workerID, progress)
	if err != nil {
		return report.Summary{}, err
	}
	return *t.Summary, nil
}

// Run is Execute returning everything the exports are made of: the
// summary, the timeline and each second's histogram.
func Run(ctx context.Context, s spec.Spec, workerID string, progress io.Writer) (*export.Test, error) {
	plan := load.Plan{TestID: "local", WorkerID: workerID, Spec: s, Share: plan.Split(&s, 1)[0]}
	run, err := load.Prepare(ctx, plan)
	if err != nil {
		return nil, err
	}
	defer run.Close()

	startAt := time.Now().Add(50 * time.Millisecond)
	runCtx, abort := context.WithCancel(ctx)
	defer abort()
	done := make(chan error, 1)
	go func() { done <- run.Run(runCtx, startAt) }()

	acc := newAccumulator()
	acc.judge = verdict.New(s.Thresholds, startAt)
	tick := time.NewTimer(time.Until(startAt.Add(time.Second)))
	defer tick.Stop()
	var runErr error
	second := int64(0)
loop:
	for {
		select {
		case runErr = <-done:
			break loop
		case now := <-tick.C:
			p := acc.add(run.Collect(), second, now)
			fmt.Fprintln(progress, report.ProgressLine(now.Sub(startAt).Seconds(), p, acc.counters.Requests))
			if a := acc.check(now, now.Sub(startAt).Seconds()); a != nil {
				fmt.Fprintf(progress, "aborting: %s\n", verdict.Reason(*a))
				abort()
			}
			second++
			tick.Reset(time.Until(startAt.Add(time.Duration(second+1) * time.Second)))
		}
	}
	end := time.Now()
	acc.add(run.Collect(), second, end)
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return nil, runErr
	}
	elapsed := end.Sub(startAt).Seconds()
	if elapsed < 0 {
		elapsed = 0
	}
	sum := acc.summary(run, workerID, elapsed)
	if !acc.judge.Empty() {
		sum.Verdict, sum.Thresholds = acc.judge.Final(end, verdict.Whole(&sum))
	}
	return acc.export(s, workerID, startAt, end, &sum), nil
}

// accumulator keeps the cumulative histograms and counters of a run.
type accumulator struct {
	latency, service *hist.Histogram
	counters         report.Counters
	judge            *verdict.Evaluator
	names            load.NameTotals
	iterations       report.IterationTotals
	points           []report.Point
	seconds          []proto.SecondHist
}

func newAccumulator() *accumulator {
	return &accumulator{latency: hist.New(), service: hist.New()}
}

// add folds one interval in and returns it as a timeline point.
func (a *accumulator) add(iv load.Interval, second int64, end time.Time) report.Point {
	a.latency.Merge(iv.Latency)
	a.service.Merge(iv.Service)
	a.counters.Add(iv.Counters)
	a.names.Add(iv.Names)
	if it := iv.Iterations; it != nil {
		a.iterations.Add(it.Duration, it.Completed, it.Failed)
	}
	a.keep(second, iv.Latency)
	c := iv.Counters
	p := report.Point{
		Second: second, T: end.UnixMilli(),
		Requests: c.Requests, RPS: float64(c.Requests), Errors: c.Errors,
		ErrorKinds: c.ErrorKinds, Status: c.Status, Late: c.Late,
		LatencyMs: iv.Latency.Summary(),
	}
	if !a.judge.Empty() {
		sec := verdict.SecondOf(p, iv.Latency)
		sec.Names = make(map[string]verdict.Slice, len(iv.Names))
		for _, n := range iv.Names {
			sec.Names[n.Name] = verdict.Slice{Counters: n.Counters, Hist: n.Latency}
		}
		a.judge.AddSecond(end, sec)
	}
	a.points = append(a.points, p)
	return p
}

// check judges the whole-run thresholds on the numbers so far and returns
// the abort threshold that failed, if any.
func (a *accumulator) check(now time.Time, elapsed float64) *report.ThresholdResult {
	if a.judge.Empty() {
		return nil
	}
	sofar := report.Summary{Requests: a.counters.Requests, Errors: a.counters.Errors,
		LatencyMs: a.latency.Summary(), StatusCodes: a.counters.Status}
	sofar.Names = a.names.Summaries(elapsed)
	if elapsed > 0 {
		sofar.RPS = float64(a.counters.Requests) / elapsed
	}
	return a.judge.Check(now, verdict.Whole(&sofar))
}

func (a *accumulator) summary(run *load.Run, workerID string, elapsed float64) report.Summary {
	sum := report.Summarize(a.latency, a.counters, elapsed)
	sum.Names = a.names.Summaries(elapsed)
	sum.Iterations = a.iterations.Summary(true)
	info := run.Info()
	skewMs := float64(run.Skew().Microseconds()) / 1000
	if info.TargetRate > 0 {
		sum.TargetRate = info.TargetRate
		sum.RateMissed = load.RateMissed(a.counters.Late, a.counters.Requests)
		svc := a.service.Summary()
		sum.ServiceMs = &svc
	}
	sum.MaxSkewMs = skewMs
	line := report.NewLine(workerID, report.StateDone, a.counters, elapsed, a.latency.Percentile(99), run.Skew().Microseconds())
	line.P99Ms = sum.LatencyMs.P99 // the summary's own rounding
	sum.Workers = []report.WorkerSummary{line}
	return sum
}
