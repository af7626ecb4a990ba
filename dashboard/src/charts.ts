// uPlot charts of a test: the per-second timeline (throughput stacked by
// worker, latency percentiles, errors by kind, responses by status code) and
// the percentile distribution on the HdrHistogram log axis.

import uPlot from "uplot";
import type { Point } from "./api";
import { h } from "./dom";
import * as fmt from "./format";
import { nines, withoutEmptyTail } from "./timeline";

const palette = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626", "#475569", "#ca8a04"];
const pastel = ["#bfdbfe", "#fde68a", "#a7f3d0", "#ddd6fe", "#fbcfe8", "#a5f3fc", "#d9f99d", "#fecaca", "#e2e8f0", "#fef08a"];
const statusColor = (code: string) =>
  code.startsWith("2") ? "#059669" : code.startsWith("3") ? "#0891b2" : code.startsWith("4") ? "#d97706" : "#dc2626";

const axisFont = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

function axis(label: string, fmtTick: (v: number) => string): uPlot.Axis {
  return {
    label, font: axisFont, labelFont: axisFont, stroke: "#475569",
    grid: { stroke: "#e2e8f0", width: 1 }, ticks: { stroke: "#cbd5e1", width: 1 },
    values: (_u, splits) => splits.map((v) => (v == null ? "" : fmtTick(v))),
    size: 60,
  };
}

const kindColors = ["#dc2626", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#475569"];

// Whole seconds and whole counts: no tick at 1.25 s or 0.2 errors/s.
const wholeSteps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
const countSteps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7];

const xAxis = (): uPlot.Axis => ({ ...axis("", (v) => `${v} s`), size: 32, labelSize: 0, incrs: wholeSteps });

// fromZero keeps 0 on a y scale (stacked areas and rates start at zero).
const fromZero: uPlot.Scale = { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] };

// shown formats a legend value: the hovered point's, or the latest one when
// the cursor is not over the chart.
function shown(f: (v: number | null | undefined, idx: number) => string): uPlot.Series.Value {
  return (u, v, si, idx) => {
    const data = u.data[si] as (number | null)[];
    const i = idx ?? data.length - 1;
    if (i < 0) return "–";
    return f(idx == null ? data[i] : v, i);
  };
}

// Marker is a vertical line on the timeline charts: a live change at
// second at (x = at, the start of that second).
export interface Marker { at: number; label: string }

// markerPlugin draws the markers markers() returns over a chart's plot.
function markerPlugin(markers: () => Marker[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = "#7c3aed";
        ctx.fillStyle = "#7c3aed";
        ctx.setLineDash([4, 3]);
        ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
        const { top, height } = u.bbox;
        for (const m of markers()) {
          const x = Math.round(u.valToPos(m.at, "x", true));
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          // near the right edge the label goes left of its line
          const left = x > u.bbox.left + u.bbox.width * 0.75;
          ctx.textAlign = left ? "right" : "left";
          ctx.fillText(m.label, x + (left ? -3 : 3) * devicePixelRatio, top + 12 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  };
}

// Chart owns one uPlot in a card and keeps it as wide as its card.
class Chart {
  // markers are drawn on every redraw (see markerPlugin)
  markers: Marker[] = [];
  readonly el: HTMLElement;
  private readonly plotEl: HTMLElement;
  private u: uPlot | null = null;
  private key = "";
  // pending is the chart to build once the card is laid out (a chart built
  // while detached would not know its width).
  private pending: { opts: () => Omit<uPlot.Options, "width" | "height">; data: uPlot.AlignedData } | null = null;
  private readonly ro: ResizeObserver;

  constructor(title: string, testId: string, private readonly height = 220) {
    this.plotEl = h("div", { class: "plot" });
    this.el = h("section", { class: "card chart", "data-test": testId, "data-points": 0 },
      h("h3", null, title), this.plotEl);
    this.ro = new ResizeObserver(() => this.fit());
    this.ro.observe(this.plotEl);
  }

  private width(): number {
    return Math.max(200, Math.floor(this.plotEl.clientWidth));
  }

  private fit(): void {
    if (this.plotEl.clientWidth === 0) return;
    if (this.pending) {
      const { opts, data } = this.pending;
      this.pending = null;
      const o = opts();
      this.u = new uPlot({ ...o, plugins: [...(o.plugins ?? []), markerPlugin(() => this.markers)], width: this.width(), height: this.height }, data, this.plotEl);
      return;
    }
    if (!this.u) return;
    const w = this.width();
    if (Math.abs(this.u.width - w) > 1) this.u.setSize({ width: w, height: this.height });
  }

  // set draws data; the chart is rebuilt only when the series (key) change.
  set(key: string, opts: () => Omit<uPlot.Options, "width" | "height">, data: uPlot.AlignedData): void {
    this.el.dataset.points = String(data[0].length);
    if (this.u && key === this.key) {
      this.u.setData(data);
      return;
    }
    this.u?.destroy();
    this.u = null;
    this.key = key;
    this.pending = { opts, data };
    if (this.plotEl.isConnected) this.fit();
  }

  destroy(): void {
    this.ro.disconnect();
    this.pending = null;
    this.u?.destroy();
    this.u = null;
  }
}

function keysOf(points: Point[], pick: (p: Point) => Record<string, unknown> | undefined): string[] {
  const s = new Set<string>();
  for (const p of points) for (const k of Object.keys(pick(p) ?? {})) s.add(k);
  return [...s].sort();
}

// TimelineCharts shows a test's per-second points in four charts.
export class TimelineCharts {
  readonly el: HTMLElement;
  private readonly throughput = new Chart("Throughput (req/s), stacked by worker", "chart-throughput");
  private readonly latency = new Chart("Latency (ms)", "chart-latency");
  private readonly errors = new Chart("Errors per second by kind", "chart-errors");
  private readonly status = new Chart("Responses per second by status code", "chart-status");
  // rawRps holds each worker's own rate for the stacked chart's legend.
  private rawRps = new Map<string, number[]>();

  constructor() {
    this.el = h("div", { class: "charts" },
      this.throughput.el, this.latency.el, this.errors.el, this.status.el);
  }

  // update draws the points, with a marker at each live change.
  update(all: Point[], markers: Marker[] = []): void {
    for (const c of [this.throughput, this.latency, this.errors, this.status]) {
      c.markers = markers;
      c.el.dataset.markers = String(markers.length);
    }
    const points = withoutEmptyTail(all);
    const xs = points.map((p) => p.second + 1);
    this.drawThroughput(points, xs);
    this.drawLatency(points, xs);
    this.drawErrors(points, xs);
    this.drawStatus(points, xs);
  }

  private drawThroughput(points: Point[], xs: number[]): void {
    const othersKey = "other workers";
    // the top workers of each second, and the rest summed as one series
    const perWorker = (p: Point) => (p.others ? { ...p.workers, [othersKey]: p.others } : p.workers);
    const workers = keysOf(points, perWorker);
    const raw = workers.map((w) => points.map((p) => perWorker(p)?.[w]?.rps ?? 0));
    // Stack: series i (from the top) is the sum of workers i..n-1 from the
    // bottom; each is filled to zero and drawn over the one above it.
    const stacked: number[][] = [];
    const acc = points.map(() => 0);
    for (let i = 0; i < workers.length; i++) {
      for (let j = 0; j < acc.length; j++) acc[j] += raw[i][j];
      stacked.push([...acc]);
    }
    stacked.reverse();
    const order = [...workers].reverse();
    this.rawRps = new Map(workers.map((w, i) => [w, raw[i]]));
    const opts = (): Omit<uPlot.Options, "width" | "height"> => ({
      scales: { x: { time: false }, y: fromZero },
      axes: [xAxis(), { ...axis("req/s", (v) => fmt.count(v)), incrs: countSteps }],
      series: [
        { label: "elapsed", value: shown((v) => (v == null ? "–" : `${v} s`)) },
        { label: "total", stroke: "#0f172a", width: 2, value: shown((v) => fmt.rps(v)) },
        ...order.map((w): uPlot.Series => {
          const i = workers.indexOf(w);
          return {
            label: w, stroke: palette[i % palette.length], fill: pastel[i % pastel.length], width: 1,
            value: shown((_v, idx) => fmt.rps(this.rawRps.get(w)?.[idx])),
          };
        }),
      ],
    });
    // The total is the top of the stack where workers reported, so that a
    // partial last second (rates normalized to its length) lines up.
    const total = points.map((p, j) => (workers.length && p.workers ? acc[j] : p.rps));
    this.throughput.set(`w:${workers.join(",")}`, opts, [xs, total, ...stacked] as uPlot.AlignedData);
  }

  private drawLatency(points: Point[], xs: number[]): void {
    const lines: [keyof Point["latency_ms"], string, string][] = [
      ["p50", "p50", palette[2]], ["p90", "p90", palette[0]], ["p99", "p99", palette[1]], ["max", "max", palette[7]],
    ];
    const opts = (): Omit<uPlot.Options, "width" | "height"> => ({
      scales: { x: { time: false }, y: fromZero },
      axes: [xAxis(), axis("ms", (v) => fmt.ms(v).replace(" ms", ""))],
      series: [
        { label: "elapsed", value: shown((v) => (v == null ? "–" : `${v} s`)) },
        ...lines.map(([, label, color]): uPlot.Series => ({
          label, stroke: color, width: 2, value: shown((v) => fmt.ms(v)),
        })),
      ],
    });
    this.latency.set("lat", opts,
      [xs, ...lines.map(([k]) => points.map((p) => (p.requests > 0 ? p.latency_ms[k] : null)))] as uPlot.AlignedData);
  }

  private drawErrors(points: Point[], xs: number[]): void {
    const kinds = keysOf(points, (p) => p.error_kinds);
    const opts = (): Omit<uPlot.Options, "width" | "height"> => ({
      scales: { x: { time: false }, y: fromZero },
      axes: [xAxis(), { ...axis("errors/s", (v) => fmt.count(v)), incrs: countSteps }],
      series: [
        { label: "elapsed", value: shown((v) => (v == null ? "–" : `${v} s`)) },
        { label: "all errors", stroke: "#0f172a", width: 2, value: shown((v) => fmt.countUnit(v, "err/s")) },
        ...kinds.map((k, i): uPlot.Series => ({
          label: k, stroke: kindColors[i % kindColors.length], width: 2,
          value: shown((v) => fmt.countUnit(v, "err/s")),
        })),
      ],
    });
    this.errors.set(`k:${kinds.join(",")}`, opts,
      [xs, points.map((p) => p.errors), ...kinds.map((k) => points.map((p) => p.error_kinds?.[k] ?? 0))] as uPlot.AlignedData);
  }

  private drawStatus(points: Point[], xs: number[]): void {
    const codes = keysOf(points, (p) => p.status_codes);
    const opts = (): Omit<uPlot.Options, "width" | "height"> => ({
      scales: { x: { time: false }, y: fromZero },
      axes: [xAxis(), { ...axis("responses/s", (v) => fmt.count(v)), incrs: countSteps }],
      series: [
        { label: "elapsed", value: shown((v) => (v == null ? "–" : `${v} s`)) },
        ...codes.map((c): uPlot.Series => ({
          label: `HTTP ${c}`, stroke: statusColor(c), width: 2, value: shown((v) => fmt.countUnit(v, "/s")),
        })),
      ],
    });
    this.status.set(`s:${codes.join(",")}`, opts,
      [xs, ...codes.map((c) => points.map((p) => p.status_codes?.[c] ?? 0))] as uPlot.AlignedData);
  }

  destroy(): void {
    for (const c of [this.throughput, this.latency, this.errors, this.status]) c.destroy();
  }
}

function ninesLabel(x: number): string {
  const p = 100 * (1 - 10 ** -x);
  return `${Number(p.toPrecision(Math.max(2, Math.round(x) + 2)))}%`;
}

// DistributionChart is latency against percentile on the log axis; the 100th
// percentile (max) is drawn one step right of the last finite point.
export class DistributionChart {
  readonly el: HTMLElement;
  private readonly chart: Chart;

  // title names a request name's curve; without it, the whole test's.
  constructor(dist: { percentile: number; ms: number }[], title = "") {
    this.chart = new Chart(title ? `${title}: latency by percentile` : "Latency by percentile (HdrHistogram log axis)",
      title ? "chart-name-distribution" : "chart-distribution", 220);
    this.el = this.chart.el;
    const finite = dist.filter((d) => d.percentile < 100);
    const xs = finite.map((d) => nines(d.percentile));
    const labels = finite.map((d) => fmt.percentileLabel(d.percentile));
    const ys = finite.map((d) => d.ms);
    const last = xs.length ? Math.ceil(xs[xs.length - 1] + 0.5) : 1;
    const max = dist.find((d) => d.percentile >= 100);
    if (max) {
      xs.push(last);
      labels.push("max");
      ys.push(max.ms);
    }
    this.el.dataset.percentiles = labels.join(" ");
    const top = Math.max(1, Math.ceil(xs[xs.length - 1] ?? 1));
    const opts = (): Omit<uPlot.Options, "width" | "height"> => ({
      scales: { x: { time: false, range: () => [0, top] } },
      axes: [
        {
          ...axis("percentile", (v) => (max && v === last ? "max" : ninesLabel(v))),
          splits: () => Array.from({ length: top + 1 }, (_, i) => i),
        },
        axis("ms", (v) => fmt.ms(v).replace(" ms", "")),
      ],
      series: [
        { label: "percentile", value: shown((_v, idx) => labels[idx] ?? "–") },
        {
          label: "latency", stroke: palette[0], width: 2, points: { show: true, size: 6 },
          value: shown((v) => fmt.ms(v)),
        },
      ],
    });
    this.chart.set("dist", opts, [xs, ys]);
  }

  destroy(): void {
    this.chart.destroy();
  }
}
