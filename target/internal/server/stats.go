package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stampede-load/stampede/pkg/hist"
)

// Stats is what the target observed of the load sent to it. Requests counts
// every load request exactly once, at the moment its handler starts; control
// endpoints (/stats, /metrics, /healthz, /readyz, /control/*) are not counted.
// Handler times are recorded when the handler has written its response.
// Safe for concurrent use.
type Stats struct {
	requests atomic.Int64
	bytesOut atomic.Int64
	status   [600]atomic.Int64

	// all is every load request's count and first/last begin time.
	all span
	// byWorker is the same per value of the WorkerHeader request header
	// (string -> *span), for at most MaxWorkerValues distinct values;
	// requests without it, or with a value past that limit, are only in all.
	byWorker sync.Map
	workers  atomic.Int64 // distinct values in byWorker

	// shop is what the shop API saw (see shop.go).
	shop shopStats
	// protos counts load requests by HTTP major version (index 1 or 2;
	// anything else at 0).
	protos [3]atomic.Int64

	mu      sync.Mutex
	handler *hist.Histogram // µs, guarded by mu
	since   time.Time       // guarded by mu
}

// WorkerHeader names the request header whose values /stats counts
// separately (by_worker), so a test can tell which worker sent what: a spec
// sets it to the {{worker}} template.
const WorkerHeader = "X-Stampede-Worker"

// MaxWorkerValues bounds how many distinct WorkerHeader values /stats
// tracks separately, so that hostile headers cannot grow it without end.
const MaxWorkerValues = 1024

func newStats() *Stats {
	return &Stats{handler: hist.New(), since: time.Now()}
}

// span counts requests and keeps the earliest and latest time one began
// (unix ns on the target's clock; 0 before the first).
type span struct {
	n, first, last atomic.Int64
}

func (p *span) add(now int64) {
	p.n.Add(1)
	for {
		cur := p.first.Load()
		if (cur != 0 && cur <= now) || p.first.CompareAndSwap(cur, now) {
			break
		}
	}
	for {
		cur := p.last.Load()
		if cur >= now || p.last.CompareAndSwap(cur, now) {
			break
		}
	}
}

func (p *span) reset() {
	p.n.Store(0)
	p.first.Store(0)
	p.last.Store(0)
}

// proto counts one load request of HTTP major version major.
func (s *Stats) proto(major int) {
	if major < 0 || major >= len(s.protos) {
		major = 0
	}
	s.protos[major].Add(1)
}

// begin counts one load request; worker is its WorkerHeader value, if any.
func (s *Stats) begin(worker string) {
	now := time.Now().UnixNano()
	s.requests.Add(1)
	s.all.add(now)
	if worker == "" {
		return
	}
	p, ok := s.byWorker.Load(worker)
	if !ok {
		if s.workers.Load() >= MaxWorkerValues {
			return
		}
		var loaded bool
		if p, loaded = s.byWorker.LoadOrStore(worker, new(span)); !loaded {
			s.workers.Add(1)
		}
	}
	p.(*span).add(now)
}

// end records a load request's outcome and its handler time.
func (s *Stats) end(code, bytes int, took time.Duration) {
	if code >= 0 && code < len(s.status) {
		s.status[code].Add(1)
	}
	s.bytesOut.Add(int64(bytes))
	s.mu.Lock()
	s.handler.Record(took)
	s.mu.Unlock()
}

// Snapshot is the JSON answer of GET /stats.
type Snapshot struct {
	// Requests is the exact number of load requests received since start
	// (or the last reset).
	Requests int64            `json:"requests"`
	Status   map[string]int64 `json:"status_codes"`
	BytesOut int64            `json:"bytes_out"`
	// Completed is how many of Requests have been answered; the
	// difference is in flight.
	Completed int64 `json:"completed"`
	// HandlerMs summarizes the handler times (entry to response written),
	// including any delay= and stall, in milliseconds.
	HandlerMs hist.Latency `json:"handler_ms"`
	SinceUnix int64        `json:"since_unix_ms"`
	// ByWorker splits Requests by the X-Stampede-Worker header value
	// (requests without that header are only in Requests).
	ByWorker map[string]int64 `json:"by_worker,omitempty"`
	// FirstUnixNs and LastUnixNs are when the first and the last load
	// request began, on the target's clock (0 if none yet).
	FirstUnixNs int64 `json:"first_unix_ns,omitempty"`
	LastUnixNs  int64 `json:"last_unix_ns,omitempty"`
	// ByWorkerSpan is the same per X-Stampede-Worker value: when each
	// worker's first and last request reached the target.
	ByWorkerSpan map[string]Span `json:"by_worker_span,omitempty"`
	// Shop is what the shop API (POST /shop/*) saw.
	Shop ShopSnapshot `json:"shop"`
	// Protocols splits Requests by HTTP version ("HTTP/1", "HTTP/2").
	Protocols map[string]int64 `json:"protocols,omitempty"`
}

// Span is when the first and the last request of one worker began (unix
// ns, target's clock).
type Span struct {
	FirstUnixNs int64 `json:"first_unix_ns"`
	LastUnixNs  int64 `json:"last_unix_ns"`
}

// Snapshot reads the current numbers.
func (s *Stats) Snapshot() Snapshot {
	snap := Snapshot{
		Requests:    s.requests.Load(),
		BytesOut:    s.bytesOut.Load(),
		Status:      map[string]int64{},
		FirstUnixNs: s.all.first.Load(),
		LastUnixNs:  s.all.last.Load(),
	}
	for code := range s.status {
		if n := s.status[code].Load(); n > 0 {
			snap.Status[itoa(code)] = n
		}
	}
	s.byWorker.Range(func(k, v any) bool {
		if snap.ByWorker == nil {
			snap.ByWorker, snap.ByWorkerSpan = map[string]int64{}, map[string]Span{}
		}
		p := v.(*span)
		snap.ByWorker[k.(string)] = p.n.Load()
		snap.ByWorkerSpan[k.(string)] = Span{FirstUnixNs: p.first.Load(), LastUnixNs: p.last.Load()}
		return true
	})
	snap.Shop = s.shop.snapshot()
	for major, name := range [...]string{"other", "HTTP/1", "HTTP/2"} {
		if n := s.protos[major].Load(); n > 0 {
			if snap.Protocols == nil {
				snap.Protocols = map[string]int64{}
			}
			snap.Protocols[name] = n
		}
	}
	s.mu.Lock()
	snap.HandlerMs = s.handler.Summary()
	snap.Completed = s.handler.Count()
	snap.SinceUnix = s.since.UnixMilli()
	s.mu.Unlock()
	return snap
}

// Reset zeroes every counter and the histogram. Requests in flight during
// a reset may be counted on either side of it.
func (s *Stats) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests.Store(0)
	s.bytesOut.Store(0)
	s.all.reset()
	s.byWorker.Range(func(k, _ any) bool {
		s.byWorker.Delete(k)
		return true
	})
	s.workers.Store(0)
	s.shop.reset()
	for i := range s.protos {
		s.protos[i].Store(0)
	}
	for i := range s.status {
		s.status[i].Store(0)
	}
	s.handler.Reset()
	s.since = time.Now()
}

func itoa(n int) string {
	var b [3]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 || i == 0 {
			break
		}
	}
	return string(b[i:])
}

// collector exposes Stats to Prometheus. It reads the counters at scrape
// time, so serving load costs nothing extra for metrics.
type collector struct {
	s        *Stats
	requests *prometheus.Desc
	status   *prometheus.Desc
	bytesOut *prometheus.Desc
	handler  *prometheus.Desc
}

var _ prometheus.Collector = (*collector)(nil)

func newCollector(s *Stats) *collector {
	return &collector{
		s: s,
		requests: prometheus.NewDesc("stampede_target_requests_total",
			"Load requests received (control endpoints excluded).", nil, nil),
		status: prometheus.NewDesc("stampede_target_responses_total",
			"Load responses by status code.", []string{"code"}, nil),
		bytesOut: prometheus.NewDesc("stampede_target_response_bytes_total",
			"Response body bytes written for load requests.", nil, nil),
		handler: prometheus.NewDesc("stampede_target_handler_seconds",
			"Handler time of load requests, from an HdrHistogram.", nil, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.requests
	ch <- c.status
	ch <- c.bytesOut
	ch <- c.handler
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.s.Snapshot()
	ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(snap.Requests))
	for code, n := range snap.Status {
		ch <- prometheus.MustNewConstMetric(c.status, prometheus.CounterValue, float64(n), code)
	}
	ch <- prometheus.MustNewConstMetric(c.bytesOut, prometheus.CounterValue, float64(snap.BytesOut))
	l := snap.HandlerMs
	q := map[float64]float64{0.5: l.P50 / 1000, 0.9: l.P90 / 1000, 0.99: l.P99 / 1000, 1: l.Max / 1000}
	ch <- prometheus.MustNewConstSummary(c.handler, uint64(snap.Completed), l.Mean/1000*float64(snap.Completed), q)
}
