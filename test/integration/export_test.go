package integration

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	tc "github.com/stampede-load/stampede/internal/testcluster"
	"github.com/stampede-load/stampede/pkg/hist"
	"github.com/stampede-load/stampede/pkg/report"
)

// rawGet fetches an API path with the viewer token.
func rawGet(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tc.ViewerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

const exportSpec = `name: export-mix
request: {url: '%s/ping?delay=1ms', timeout: 5s}
requests_mix:
  - {weight: 3}
  - {weight: 1, name: checkout, url: '%s/checkout?delay=5ms&status=503:50'}
load: {model: constant-rate, rate: 200, duration: 3s}
thresholds:
  - "p99 < 2s"
  - {expr: "error_rate < 1%%", name: checkout}
`

// TestExportsMatchTheTest: every export of a finished test, parsed back,
// agrees with GET /api/v1/tests/{id}; `master submit --out` and `worker run
// --out` write the same formats.
func TestExportsMatchTheTest(t *testing.T) {
	c := tc.New(t, tc.Options{Masters: 1, Workers: 2})
	dir := t.TempDir()
	f := specFile(t, fmt.Sprintf(exportSpec, c.Target.URL(), c.Target.URL()))
	hlogFile := filepath.Join(dir, "run.hlog")
	code, _, errOut := cli(t, filepath.Join(c.Bin, "master"), "submit", "-f", f, "--api", c.Masters[0].URL(), "--token", tc.OperatorToken, "--out", hlogFile)
	if code != 99 {
		t.Fatalf("master submit exit %d, want 99 (the checkout threshold fails):\n%s", code, errOut)
	}
	m := regexp.MustCompile(`test (\S+) submitted`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("no test id in:\n%s", errOut)
	}
	id := m[1]
	var v judged
	tc.GetJSON(t, c.API()+"/tests/"+id, &v)
	sum := v.Summary
	if sum == nil || len(sum.Names) != 2 {
		t.Fatalf("summary %+v, want two names", sum)
	}
	base := c.API() + "/tests/" + id + "/"

	// the interval log, from the API and from --out: every interval decoded
	st, _, hlog := rawGet(t, base+"latency.hlog")
	fromCLI, err := os.ReadFile(hlogFile)
	if err != nil || st != 200 || !bytes.Equal(hlog, fromCLI) {
		t.Fatalf("latency.hlog: status %d, --out file %d bytes (%v), API %d bytes; want 200 and the same bytes", st, len(fromCLI), err, len(hlog))
	}
	checkHLog(t, hlog, sum)

	st, _, statsCSV := rawGet(t, base+"stats.csv")
	if st != 200 {
		t.Fatalf("stats.csv: %d", st)
	}
	checkStatsCSV(t, statsCSV, sum)

	var tl struct{ Points []report.Point }
	tc.GetJSON(t, c.API()+"/tests/"+id+"/timeline", &tl)
	st, _, tlCSV := rawGet(t, base+"timeline.csv")
	rows := readCSV(t, tlCSV)
	if st != 200 || len(rows) != len(tl.Points)+1 || len(tl.Points) < 3 {
		t.Fatalf("timeline.csv: status %d, %d rows for %d points", st, len(rows), len(tl.Points))
	}
	for i, p := range tl.Points {
		if rows[i+1][0] != strconv.FormatInt(p.Second, 10) || rows[i+1][2] != strconv.FormatInt(p.Requests, 10) {
			t.Errorf("timeline.csv row %d = %v, want second %d with %d requests", i+1, rows[i+1], p.Second, p.Requests)
		}
	}

	st, _, junit := rawGet(t, base+"junit.xml")
	checkJUnit(t, st, junit, sum)

	st, h, page := rawGet(t, base+"report.html")
	if st != 200 || h.Get("Content-Type") != "text/html; charset=utf-8" || !bytes.Contains(page, []byte("<svg")) || !bytes.Contains(page, []byte(">checkout<")) {
		t.Errorf("report.html: status %d type %q, %d bytes, want an HTML page with charts and the checkout row", st, h.Get("Content-Type"), len(page))
	}
	if code, _, _ := rawGet(t, c.API()+"/tests/nope/stats.csv"); code != 404 {
		t.Errorf("stats.csv of an unknown test = %d, want 404", code)
	}

	// worker run --out: the same statistics from a standalone run
	out := filepath.Join(dir, "local-stats.csv")
	code, stdout, errOut := cli(t, filepath.Join(c.Bin, "worker"), "run", "-f", f, "--json", "--quiet", "--out", out)
	if code != 99 {
		t.Fatalf("worker run exit %d, want 99:\n%s", code, errOut)
	}
	local := summaryOf(t, stdout)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkStatsCSV(t, b, &local)
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, b)
	}
	return rows
}

// checkHLog decodes every interval: the untagged ones re-merge into the
// test's histogram exactly, each tagged one is its name's histogram.
func checkHLog(t *testing.T, b []byte, sum *report.Summary) {
	t.Helper()
	ivs, err := hist.ReadLog(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	merged := hist.New()
	tagged := map[string]*hist.Histogram{}
	for _, iv := range ivs {
		if iv.Tag == "" {
			merged.Merge(iv.Hist)
		} else {
			tagged[iv.Tag] = iv.Hist
		}
	}
	want, err := hist.Decode(sum.Histogram)
	if err != nil {
		t.Fatal(err)
	}
	if !merged.Equal(want) || merged.Count() != sum.Requests {
		t.Errorf("untagged intervals merge to %d values %+v, want the test's %d %+v", merged.Count(), merged.Summary(), sum.Requests, sum.LatencyMs)
	}
	for _, n := range sum.Names {
		h := tagged[hist.LogTag(n.Name)]
		if h == nil || h.Summary() != n.LatencyMs || h.Count() != n.Requests {
			t.Errorf("tag %s: %v, want %d values %+v", hist.LogTag(n.Name), h, n.Requests, n.LatencyMs)
		}
	}
}

// checkStatsCSV: one row per name, then Total, equal to the summary.
func checkStatsCSV(t *testing.T, b []byte, sum *report.Summary) {
	t.Helper()
	rows := readCSV(t, b)
	if len(rows) != len(sum.Names)+2 || rows[0][0] != "name" || rows[len(rows)-1][0] != "Total" {
		t.Fatalf("stats.csv has %d rows, want a header, %d names and Total:\n%s", len(rows), len(sum.Names), b)
	}
	want := func(row []string, name string, req, errs int64, p99 float64) {
		got, _ := strconv.ParseFloat(row[10], 64)
		if row[0] != name || row[1] != strconv.FormatInt(req, 10) || row[2] != strconv.FormatInt(errs, 10) || got != p99 {
			t.Errorf("stats.csv row %v, want %s %d requests %d errors p99 %v", row, name, req, errs, p99)
		}
	}
	for i, n := range sum.Names {
		want(rows[i+1], n.Name, n.Requests, n.Errors, n.LatencyMs.P99)
	}
	want(rows[len(rows)-1], "Total", sum.Requests, sum.Errors, sum.LatencyMs.P99)
}

func checkJUnit(t *testing.T, status int, b []byte, sum *report.Summary) {
	t.Helper()
	var j struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &j); err != nil || status != 200 || len(j.Suites) != 1 {
		t.Fatalf("junit.xml: status %d, %v:\n%s", status, err, b)
	}
	s := j.Suites[0]
	failed := 0
	for _, r := range sum.Thresholds {
		if !r.Passed {
			failed++
		}
	}
	if s.Tests != len(sum.Thresholds) || len(s.Cases) != len(sum.Thresholds) || s.Failures != failed {
		t.Fatalf("junit: %d tests, %d failures, want %d and %d", s.Tests, s.Failures, len(sum.Thresholds), failed)
	}
	for i, r := range sum.Thresholds {
		if (s.Cases[i].Failure == nil) != r.Passed {
			t.Errorf("junit case %q failure %v, threshold passed %v", s.Cases[i].Name, s.Cases[i].Failure != nil, r.Passed)
		}
	}
}
