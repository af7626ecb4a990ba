package export

import (
	"encoding/xml"
	"fmt"
	"io"

	"github.com/stampede-load/stampede/pkg/verdict"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes one test suite (the test) with one test case per threshold;
// a failed threshold is a failure with its observed value. A test that did
// not complete (failed, aborted) and has no thresholds is one errored case.
func JUnit(w io.Writer, t *Test) error {
	suite := junitSuite{Name: "stampede " + t.ID, Time: "0"}
	if t.Name != "" {
		suite.Name += " " + t.Name
	}
	if s := t.Summary; s != nil {
		suite.Time = fmt.Sprintf("%.3f", s.DurationS)
		for _, r := range s.Thresholds {
			c := junitCase{Name: r.Expr, Classname: "thresholds", Time: suite.Time,
				SystemOut: "observed " + verdict.FormatObserved(r.Expr, r.Observed)}
			if r.Name != "" {
				c.Name += " [" + r.Name + "]"
			}
			if !r.Passed {
				suite.Failures++
				c.Failure = &junitFailure{Type: "threshold", Message: "observed " + verdict.FormatObserved(r.Expr, r.Observed), Text: verdict.Reason(r)}
			}
			suite.Cases = append(suite.Cases, c)
		}
	}
	if len(suite.Cases) == 0 {
		c := junitCase{Name: "test " + t.Phase, Classname: "test", Time: suite.Time}
		if t.Phase != "completed" {
			suite.Errors++
			c.Failure = &junitFailure{Type: "phase", Message: t.Phase + ": " + t.Reason}
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Tests = len(suite.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{suite}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
