// Package report holds the data that flows from workers to masters to users:
// the counters of a load run, a worker's per-second report (the payload of
// tests/<id>/metrics/<worker-id> and done/<worker-id>), merged timeline points
// and the final summary, plus the terminal rendering shared by `worker run`
// and `master submit`.
package report

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/stampede-load/stampede/pkg/hist"
)

// Error kinds (contract for counters and the dashboard).
const (
	ErrTimeout    = "timeout"
	ErrRefused    = "connection_refused"
	ErrReset      = "connection_reset"
	ErrIO         = "io"
	ErrStatus     = "unexpected_status"
	ErrOther      = "other"
	ErrTooLarge   = "response_too_large"
	ErrTemplating = "template"
)

// Counters are the countable outcomes of requests. Requests counts every
// request that was sent (successful or not); Errors ⊆ Requests.
type Counters struct {
	Requests   int64            `json:"requests"`
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	Status     map[string]int64 `json:"status_codes,omitempty"`
	BytesIn    int64            `json:"bytes_in,omitempty"`
	BytesOut   int64            `json:"bytes_out,omitempty"`
	// Late counts open-model requests that started more than 1 ms after
	// their schedule because every connection was busy.
	Late int64 `json:"late,omitempty"`
	// ErrorSamples are distinct messages of the errors by kind (bounded,
	// see Samples).
	ErrorSamples Samples `json:"error_samples,omitempty"`
}

// Add adds o to c.
func (c *Counters) Add(o Counters) {
	c.Requests += o.Requests
	c.Errors += o.Errors
	c.BytesIn += o.BytesIn
	c.BytesOut += o.BytesOut
	c.Late += o.Late
	c.ErrorKinds = addMap(c.ErrorKinds, o.ErrorKinds)
	c.Status = addMap(c.Status, o.Status)
	c.ErrorSamples = MergeSamples(c.ErrorSamples, o.ErrorSamples)
}

func addMap(dst, src map[string]int64) map[string]int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]int64, len(src))
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

// StatusKey is the map key of a status code. Codes 0-599 come from a
// table, so counting a response by status allocates nothing (the engine
// does it for every request it folds).
func StatusKey(code int) string {
	if code >= 0 && code < len(statusKeys) {
		return statusKeys[code]
	}
	return strconv.Itoa(code)
}

var statusKeys = func() (t [600]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// Worker states in a report.
const (
	StateRunning = "running"
	StateDone    = "done"
)

// Report is what a worker publishes once per second under metrics/<id> and
// once at the end under done/<id>. Seq increases by one per interval; interval
// k covers [start_at + k s, start_at + (k+1) s) so that the intervals of all
// workers line up. Totals and Cumulative cover everything since the start,
// so a report that is missed (watches coalesce) loses nothing.
type Report struct {
	Test   string `json:"test"`
	Worker string `json:"worker"`
	Seq    int64  `json:"seq"`
	State  string `json:"state"`
	// StartAt is the barrier's start time and StartSkewUs how late (or, if
	// negative, early) this worker's load began, in µs.
	StartAt     int64 `json:"start_at"`
	StartSkewUs int64 `json:"start_skew_us"`
	// IntervalStart/End are unix nanoseconds of the last interval.
	IntervalStart int64    `json:"interval_start"`
	IntervalEnd   int64    `json:"interval_end"`
	Interval      Counters `json:"interval"`
	IntervalHist  string   `json:"interval_hist"`
	Totals        Counters `json:"totals"`
	// Cumulative is the histogram of every latency since the start (from
	// the scheduled start for open models).
	Cumulative string `json:"cumulative_hist"`
	// Service is the cumulative histogram of service times (from the actual
	// send), only in the final report of open models.
	Service string `json:"service_hist,omitempty"`
	// Reason says why a run ended early (stopped, aborted, deadline).
	Reason string `json:"reason,omitempty"`
	// P99Us is the 99th percentile of Cumulative in µs, so that a worker's
	// line can be shown without decoding its histogram.
	P99Us int64 `json:"p99_us,omitempty"`
	// Recent holds every earlier interval the leader has not acknowledged
	// yet (oldest first): those after the merged-through watermark it
	// publishes, at most MaxPending of them and PendingBytes of histograms.
	// A reader who missed reports (watches coalesce, leadership moves) still
	// sees every interval; intervals already merged are not repeated, since
	// Cumulative carries them.
	Recent []Interval `json:"recent,omitempty"`
	// Names splits the interval and the totals by request name.
	Names []NameReport `json:"names,omitempty"`
	// Name, when set instead of Names, is the one request name of a run
	// whose requests all have it: its part is the whole report (see
	// NameParts), which is then not repeated.
	Name string `json:"name,omitempty"`
	// Iterations are the worker's journeys since the start (scenarios).
	Iterations *IterationReport `json:"iterations,omitempty"`
}

// Retention of unacknowledged intervals in a worker's report: a leader
// absent for longer than this (in seconds, or in bytes of histograms) finds
// the oldest of them gone, and those seconds become gaps.
const (
	MaxPending   = 120
	PendingBytes = 128 << 10
)

// Interval is one earlier interval of a worker.
type Interval struct {
	Seq      int64    `json:"seq"`
	Start    int64    `json:"start"`
	End      int64    `json:"end"`
	Counters Counters `json:"counters"`
	Hist     string   `json:"hist"`
}

// NameParts is the report's per-name parts: Names, or the whole report as
// the part of its one name when Name is set.
func (r *Report) NameParts() []NameReport {
	if r.Name == "" || len(r.Names) > 0 {
		return r.Names
	}
	return []NameReport{{Name: r.Name, Interval: r.Interval, IntervalHist: r.IntervalHist, Totals: r.Totals, Cumulative: r.Cumulative}}
}

// Encode is the report's JSON.
func (r *Report) Encode() []byte {
	b, _ := json.Marshal(r) // a Report always encodes
	return b
}

// DecodeReport parses a report.
func DecodeReport(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("report: decode: %w", err)
	}
	return &r, nil
}

// WorkerPoint is one worker's part of a timeline point.
type WorkerPoint struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	RPS      float64 `json:"rps"`
	P99Ms    float64 `json:"p99_ms"`
}

// MaxPointWorkers bounds the per-worker part of a timeline point: with more
// workers, the point keeps the MaxPointWorkers with the most requests and
// sums the rest into Others, so a point's size does not grow with the fleet.
const MaxPointWorkers = 10

// Point is one merged second of a test's timeline.
type Point struct {
	// Second is the interval index since start_at (0-based); T is its end as
	// unix milliseconds.
	Second     int64                  `json:"second"`
	T          int64                  `json:"t"`
	Requests   int64                  `json:"requests"`
	RPS        float64                `json:"rps"`
	Errors     int64                  `json:"errors"`
	ErrorKinds map[string]int64       `json:"error_kinds,omitempty"`
	Status     map[string]int64       `json:"status_codes,omitempty"`
	Late       int64                  `json:"late,omitempty"`
	LatencyMs  hist.Latency           `json:"latency_ms"`
	Workers    map[string]WorkerPoint `json:"workers,omitempty"`
	// Others sums the workers left out of Workers (OtherWorkers of them);
	// its P99Ms is 0, since percentiles are never summed.
	Others       *WorkerPoint `json:"others,omitempty"`
	OtherWorkers int          `json:"other_workers,omitempty"`
	// Partial marks the final second of a run, which is shorter than a
	// second (Seconds long): its RPS is per second of that partial time.
	Partial bool    `json:"partial,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`
	// Paused marks a second the test spent paused (a live change): no
	// request started in it.
	Paused bool `json:"paused,omitempty"`
	// Gap marks a second for which not every worker's interval was seen
	// (for example while leadership moved); its numbers are partial.
	Gap bool `json:"gap,omitempty"`
}

// WorkerSummary is one worker's line of a summary, and of a test view
// (GET /api/v1/tests/{id}); State is planned, ready, running, done or lost.
type WorkerSummary struct {
	ID          string  `json:"id"`
	State       string  `json:"state"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	RPS         float64 `json:"rps"`
	P99Ms       float64 `json:"p99_ms"`
	StartSkewMs float64 `json:"start_skew_ms"`
	Late        int64   `json:"late,omitempty"`
}

// NewLine is the one place a worker's line is built: from its totals over
// seconds of running, its p99 and start skew in µs.
func NewLine(id, state string, totals Counters, seconds float64, p99Us, skewUs int64) WorkerSummary {
	ws := WorkerSummary{
		ID: id, State: state, Requests: totals.Requests, Errors: totals.Errors, Late: totals.Late,
		P99Ms: float64(p99Us) / 1000, StartSkewMs: float64(skewUs) / 1000,
	}
	if seconds > 0 {
		ws.RPS = float64(totals.Requests) / seconds
	}
	return ws
}

// Line is the worker's line from its latest (or final) report.
func (r *Report) Line(state string) WorkerSummary {
	return NewLine(r.Worker, state, r.Totals, float64(r.IntervalEnd-r.StartAt)/1e9, r.P99Us, r.StartSkewUs)
}

// Summary is a test's headline numbers (contract, docs/api.md).
type Summary struct {
	Requests     int64            `json:"requests"`
	Errors       int64            `json:"errors"`
	RPS          float64          `json:"rps"`
	DurationS    float64          `json:"duration_s"`
	LatencyMs    hist.Latency     `json:"latency_ms"`
	ServiceMs    *hist.Latency    `json:"service_ms,omitempty"`
	StatusCodes  map[string]int64 `json:"status_codes,omitempty"`
	ErrorKinds   map[string]int64 `json:"error_kinds,omitempty"`
	ErrorSamples Samples          `json:"error_samples,omitempty"`
	BytesIn      int64            `json:"bytes_in"`
	BytesOut     int64            `json:"bytes_out"`
	Late         int64            `json:"late,omitempty"`
	TargetRate   float64          `json:"target_rate,omitempty"`
	RateMissed   bool             `json:"rate_missed,omitempty"`
	MaxSkewMs    float64          `json:"max_start_skew_ms"`
	Workers      []WorkerSummary  `json:"workers"`
	Distribution []hist.DistPoint `json:"distribution,omitempty"`
	// Histogram is the merged cumulative latency histogram (V2 compressed,
	// base64): anyone can recompute any percentile from it.
	Histogram string `json:"histogram,omitempty"`
	// LostRequests counts requests a lost worker made after its last report.
	// They are unknown, so they are not in Requests; set only if estimated.
	// LostWorkers names the lost workers, sorted: the first MaxLostListed
	// of them, and LostCount says how many there were.
	LostWorkers []string `json:"lost_workers,omitempty"`
	LostCount   int      `json:"lost_count,omitempty"`
	// Verdict is passed or failed when the spec has thresholds; each
	// threshold's outcome is in Thresholds.
	Verdict    string            `json:"verdict,omitempty"`
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	// Names is one line per request name, in the spec's order.
	Names []NameSummary `json:"names,omitempty"`
	// Iterations are a scenario's journeys (absent for other tests).
	Iterations *IterationSummary `json:"iterations,omitempty"`
}

// Summarize builds a summary from a merged histogram and counters.
// The caller fills Workers and the rate fields.
func Summarize(h *hist.Histogram, c Counters, durationS float64) Summary {
	s := Summary{
		Requests:     c.Requests,
		Errors:       c.Errors,
		DurationS:    durationS,
		LatencyMs:    h.Summary(),
		StatusCodes:  c.Status,
		ErrorKinds:   c.ErrorKinds,
		ErrorSamples: c.ErrorSamples,
		BytesIn:      c.BytesIn,
		BytesOut:     c.BytesOut,
		Late:         c.Late,
		Distribution: h.Distribution(),
	}
	if durationS > 0 {
		s.RPS = float64(c.Requests) / durationS
	}
	s.Histogram, _ = h.Encode()
	return s
}

// SortWorkers orders worker lines by id.
func (s *Summary) SortWorkers() {
	sort.Slice(s.Workers, func(i, j int) bool { return s.Workers[i].ID < s.Workers[j].ID })
}

// MaxLostListed is how many lost workers a summary or a test's state
// names: a fleet can lose thousands, and neither node may grow with it
// (every worker's line says whether it was lost).
const MaxLostListed = 100

// ListLost is the first MaxLostListed of the sorted ids, and how many
// there are.
func ListLost(ids []string) ([]string, int) {
	if len(ids) > MaxLostListed {
		return ids[:MaxLostListed:MaxLostListed], len(ids)
	}
	return ids, len(ids)
}
