// What a test answers: its verdict and thresholds, its per-name table, and
// the export downloads. Used by the live view and the report alike.

import { api, exportKinds, NameSummary, Summary, ThresholdResult } from "./api";
import { h, table } from "./dom";
import * as fmt from "./format";

// observed renders a threshold's observed value in its metric's unit.
export function observed(r: ThresholdResult): string {
  const metric = r.expr.split(/[\s[<>=]/)[0];
  if (metric === "error_rate") return fmt.percent(r.observed);
  if (metric === "rps") return fmt.rps(r.observed);
  if (["min", "mean", "p50", "p90", "p95", "p99", "p999", "max"].includes(metric)) return fmt.ms(r.observed);
  return fmt.count(r.observed);
}

// verdictCard shows the verdict and every threshold (null without any).
export function verdictCard(s: Summary | null | undefined, live: boolean): HTMLElement | null {
  if (!s?.verdict || !s.thresholds?.length) return null;
  const rows = s.thresholds.map((r) => [
    h("code", null, r.expr), r.name || "whole test", observed(r),
    h("span", { class: `badge ${r.passed ? "phase-completed" : "phase-failed"}`, "data-threshold": r.passed ? "passed" : "failed" },
      r.passed ? "passed" : r.aborted ? "failed · aborted the test" : "failed"),
    r.abort ? "abort" : "",
  ]);
  return h("section", { class: "card", "data-test": "verdict-card" },
    h("h3", null, live ? "Thresholds (live) " : "Verdict ",
      h("span", { class: `badge ${s.verdict === "passed" ? "phase-completed" : "phase-failed"}`, "data-test": "verdict" }, s.verdict)),
    h("div", { class: "scroll" }, table(["Threshold", "Name", ["Observed", "num"], "Result", ""], rows,
      { class: "grid", "data-test": "thresholds" })));
}

function nameRow(n: NameSummary): (string | HTMLElement)[] {
  const l = n.latency_ms;
  const codes = Object.entries(n.status_codes ?? {}).sort().map(([k, v]) => `${k}=${fmt.count(v)}`).join(" ");
  return [n.name, fmt.countUnit(n.requests, "req"), fmt.countUnit(n.errors, "err"),
    fmt.percent(n.requests ? n.errors / n.requests : 0), fmt.rps(n.rps),
    fmt.ms(l.p50), fmt.ms(l.p90), fmt.ms(l.p95), fmt.ms(l.p99), fmt.ms(l.p999), fmt.ms(l.max), codes];
}

// namesTable is the Locust-style table of the request names.
export function namesTable(s: Summary | null | undefined): HTMLElement | null {
  if (!s?.names?.length) return null;
  return h("section", { class: "card", "data-test": "names-card" }, h("h3", null, "Requests by name"),
    h("div", { class: "scroll" }, table(
      ["Name", ["Requests", "num"], ["Errors", "num"], ["Error rate", "num"], ["Throughput", "num"], ["p50", "num"],
        ["p90", "num"], ["p95", "num"], ["p99", "num"], ["p99.9", "num"], ["max", "num"], "Status codes"],
      s.names.map(nameRow), { class: "grid", "data-test": "names-table" })));
}

// exportButtons download each export of test id.
export function exportButtons(id: string): HTMLElement {
  const msg = h("span", { class: "muted small" });
  const button = (kind: string) => h("button", {
    class: "secondary", "data-test": `export-${kind}`,
    onclick: async () => {
      msg.textContent = "";
      try {
        const url = URL.createObjectURL(await api.exportBlob(id, kind));
        const a = h("a", { href: url, download: `${id}-${kind}` });
        document.body.appendChild(a);
        a.click();
        a.remove();
        window.setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (e) {
        msg.textContent = `${kind}: ${(e as Error).message}`;
      }
    },
  }, kind);
  const other = h("input", { placeholder: "other test id", "data-test": "compare-id", size: 24 });
  return h("div", { class: "exports", "data-test": "exports" }, "Export: ", exportKinds.map((k) => [button(k), " "]), msg,
    h("span", { class: "right" }, other, " ", h("button", {
      class: "secondary", "data-test": "compare",
      onclick: () => {
        const o = (other as HTMLInputElement).value.trim();
        if (o) location.hash = `#/compare/${encodeURIComponent(o)}/${encodeURIComponent(id)}`;
      },
    }, "Compare (this as head)")));
}
