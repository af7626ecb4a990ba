// The report of a finished test: headline summary, latency table, status
// codes and error kinds (with their sampled messages), a scenario's
// iterations, percentile distribution, per-worker table, the
// per-second timeline as a table, and the result as a JSON download.

import type { Point, Summary, TestDetail } from "../api";
import { DistributionChart } from "../charts";
import { h, stateBadge, table } from "../dom";
import * as fmt from "../format";

// row is one line of a key/value table; key names it for tests and links.
function row(label: string, key: string, value: string, raw?: number): HTMLElement {
  return h("tr", null, h("th", null, label),
    h("td", { class: "num", "data-summary": key, "data-value": raw != null ? String(raw) : null }, value));
}

export function summaryTable(s: Summary): HTMLElement {
  const errRatio = s.requests ? s.errors / s.requests : 0;
  const rows = [
    row("Requests", "requests", fmt.countUnit(s.requests, "req"), s.requests),
    row("Errors", "errors", `${fmt.countUnit(s.errors, "err")} (${fmt.percent(errRatio)})`, s.errors),
    row("Duration", "duration_s", fmt.preciseSeconds(s.duration_s), s.duration_s),
    row("Throughput", "rps", fmt.rps(s.rps), s.rps),
  ];
  if (s.target_rate) {
    rows.push(row("Target rate", "target_rate",
      `${fmt.rps(s.target_rate)}${s.rate_missed ? " (missed)" : ""}`, s.target_rate));
  }
  if (s.late) rows.push(row("Late starts", "late", fmt.countUnit(s.late, "req"), s.late));
  if (s.iterations) {
    rows.push(row("Iterations", "iterations",
      `${s.iterations.completed} completed, ${s.iterations.failed} failed`, s.iterations.completed));
  }
  rows.push(
    row("Data received", "bytes_in", fmt.bytes(s.bytes_in), s.bytes_in),
    row("Data sent", "bytes_out", fmt.bytes(s.bytes_out), s.bytes_out),
    row("Max start skew", "max_start_skew_ms", fmt.ms(s.max_start_skew_ms), s.max_start_skew_ms),
  );
  if (s.lost_workers?.length) {
    // a summary names at most 100 of them; lost_count says how many
    const more = (s.lost_count ?? 0) - s.lost_workers.length;
    const names = s.lost_workers.join(", ") + (more > 0 ? ` and ${more} more` : "");
    rows.push(h("tr", null, h("th", null, "Lost workers"), h("td", null, names)));
  }
  return h("table", { class: "kv", "data-test": "summary-table" }, h("tbody", null, rows));
}

export function latencyTable(s: Summary): HTMLElement {
  const l = s.latency_ms;
  const keys: [keyof typeof l, string][] = [
    ["min", "min"], ["mean", "mean"], ["p50", "p50"], ["p90", "p90"], ["p95", "p95"],
    ["p99", "p99"], ["p999", "p99.9"], ["max", "max"],
  ];
  const svc = s.service_ms ?? null;
  const it = s.iterations?.duration_ms ?? null;
  return h("div", { class: "scroll" }, h("table", { class: "grid latency", "data-test": "latency-table" },
    h("thead", null, h("tr", null, h("th", null, ""), keys.map(([, label]) => h("th", { class: "num" }, label)))),
    h("tbody", null,
      h("tr", null, h("th", null, svc ? "latency (from schedule)" : "latency"),
        keys.map(([k]) => h("td", { class: "num", "data-latency": k, "data-value": String(l[k]) }, fmt.ms(l[k])))),
      svc ? h("tr", null, h("th", null, "service time"),
        keys.map(([k]) => h("td", { class: "num" }, fmt.ms(svc[k])))) : null,
      it ? h("tr", { "data-test": "iteration-latency" }, h("th", null, "iteration (journey)"),
        keys.map(([k]) => h("td", { class: "num" }, fmt.ms(it[k])))) : null,
    )));
}

// samplesList is the sampled messages of each error kind (text nodes:
// they come from the network).
function samplesList(samples: Record<string, string[]> | undefined): HTMLElement | null {
  const entries = Object.entries(samples ?? {}).sort((a, b) => a[0].localeCompare(b[0]));
  if (entries.length === 0) return null;
  return h("ul", { class: "samples", "data-test": "error-samples" },
    entries.map(([kind, msgs]) => msgs.map((m) => h("li", null, h("b", null, kind), ": ", h("code", null, m)))));
}

function countsTable(title: string, counts: Record<string, number> | undefined, total: number, prefix = ""): HTMLElement | null {
  const entries = Object.entries(counts ?? {}).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return null;
  return table([title, ["Count", "num"], ["Share", "num"]],
    entries.map(([k, n]) => [`${prefix}${k}`, fmt.countUnit(n, "req"), fmt.percent(total ? n / total : 0)]),
    { class: "grid" });
}

export function workersSummaryTable(s: Summary): HTMLElement {
  const ws = [...(s.workers ?? [])].sort((a, b) => a.id.localeCompare(b.id));
  return h("div", { class: "scroll" }, table(
    ["Worker", "State", ["Requests", "num"], ["Throughput", "num"], ["p99", "num"], ["Errors", "num"],
      ["Start skew", "num"], ["Late", "num"]],
    ws.map((w) => [w.id, stateBadge(w.state), fmt.countUnit(w.requests, "req"), fmt.rps(w.rps),
      fmt.ms(w.p99_ms), fmt.countUnit(w.errors, "err"), fmt.ms(w.start_skew_ms), fmt.countUnit(w.late ?? 0, "req")]),
    { class: "grid", "data-test": "report-workers" },
  ));
}

function timelineTable(points: Point[]): HTMLElement {
  return h("details", { class: "timeline" },
    h("summary", null, `Per-second timeline (${points.length} s)`),
    h("div", { class: "scroll" }, table(
      [["Second", "num"], ["Requests", "num"], ["Throughput", "num"], ["Errors", "num"], ["p50", "num"],
        ["p90", "num"], ["p99", "num"], ["max", "num"], ""],
      points.map((p) => [`${p.second + 1} s`, fmt.countUnit(p.requests, "req"), fmt.rps(p.rps),
        fmt.countUnit(p.errors, "err"), fmt.ms(p.latency_ms.p50), fmt.ms(p.latency_ms.p90),
        fmt.ms(p.latency_ms.p99), fmt.ms(p.latency_ms.max), p.gap ? h("span", { class: "muted", title: "not every worker reported this second" }, "partial") : ""]),
      { class: "grid", "data-test": "timeline-table" },
    )));
}

// Report renders the report sections; destroy releases its chart and the
// download's object URL.
export class Report {
  readonly el: HTMLElement;
  private dist: DistributionChart | null = null;
  private names: DistributionChart[] = [];
  // url holds the result (the test as GET /api/v1/tests/{id} gives it and
  // its timeline) for the download link; it never leaves the browser.
  private readonly url: string;

  constructor(test: TestDetail, points: Point[]) {
    const blob = new Blob([JSON.stringify({ test, timeline: points }, null, 2)], { type: "application/json" });
    this.url = URL.createObjectURL(blob);
    const download = () =>
      h("a", { class: "button", "data-test": "download", download: `stampede-${test.id}.json`, href: this.url },
        "Download JSON");
    const s = test.summary;
    if (!s) {
      this.el = h("section", { class: "card", "data-test": "report" }, h("h2", null, "Report"),
        h("p", { class: "muted" }, "This test ended without a result (no worker reported)."),
        download());
      return;
    }
    this.dist = s.distribution?.length ? new DistributionChart(s.distribution) : null;
    // each request name's curve (the first ones: the result has them all)
    this.names = (s.names ?? []).filter((n) => n.distribution?.length).slice(0, 12)
      .map((n) => new DistributionChart(n.distribution!, n.name));
    this.el = h("div", { class: "report", "data-test": "report" },
      h("section", { class: "card" },
        h("h2", null, "Report", h("span", { class: "right" }, download())),
        h("div", { class: "cols" },
          h("div", null, h("h3", null, "Summary"), summaryTable(s)),
          h("div", null,
            h("h3", null, "Responses"),
            countsTable("Status code", s.status_codes, s.requests, "HTTP ") ?? h("p", { class: "muted" }, "No responses."),
            countsTable("Error kind", s.error_kinds, s.requests),
            samplesList(s.error_samples)),
        ),
        h("h3", null, "Latency"), latencyTable(s)),
      this.dist ? this.dist.el : null,
      this.names.length ? h("div", { class: "cols", "data-test": "name-curves" }, this.names.map((c) => c.el)) : null,
      h("section", { class: "card" }, h("h3", null, "Workers"), workersSummaryTable(s), timelineTable(points)),
    );
  }

  destroy(): void {
    this.dist?.destroy();
    for (const c of this.names) c.destroy();
    URL.revokeObjectURL(this.url);
  }
}
