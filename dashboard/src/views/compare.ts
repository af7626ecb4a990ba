// #/compare/<base>/<head>: every metric of two tests side by side, for the
// whole test and per request name, regressions marked.

import { api, Change } from "../api";
import { h, replace, table } from "../dom";
import * as fmt from "../format";

function value(c: Change, v: number): string {
  switch (c.unit) {
    case "ms": return fmt.ms(v);
    case "ratio": return fmt.percent(v);
    case "req/s": return fmt.rps(v);
    default: return fmt.count(v);
  }
}

function changesTable(cs: Change[], test: string): HTMLElement {
  return h("div", { class: "scroll" }, table(["Metric", ["Base", "num"], ["Head", "num"], ["Change", "num"], ""],
    cs.map((c) => [c.metric, value(c, c.base), value(c, c.head),
      c.delta_pct != null ? `${c.delta_pct >= 0 ? "+" : ""}${c.delta_pct.toFixed(1)} %` : (c.delta === 0 ? "=" : "new"),
      c.worse ? h("span", { class: "badge phase-failed", "data-worse": c.metric }, "worse") : ""]),
    { class: "grid", "data-test": test }));
}

export function compareView(el: HTMLElement, base: string, head: string): () => void {
  let gone = false;
  replace(el, h("section", { class: "card" }, h("h2", null, "Compare"), h("p", { class: "muted" }, "loading…")));
  (async () => {
    try {
      const c = await api.compare(base, head);
      if (gone) return;
      const side = (s: { id: string; name?: string; phase: string; verdict?: string }) =>
        h("a", { href: `#/tests/${encodeURIComponent(s.id)}` }, `${s.name || s.id} (${s.phase}${s.verdict ? `, ${s.verdict}` : ""})`);
      replace(el,
        h("section", { class: "card", "data-test": "compare-view" },
          h("h2", null, "Compare"), h("p", null, "base ", side(c.base), " → head ", side(c.head)),
          h("h3", null, "Whole test"), changesTable(c.metrics, "compare-metrics")),
        c.names.map((n) => h("section", { class: "card" }, h("h3", null, n.name, n.in !== "both" ? ` (only in ${n.in})` : ""),
          changesTable(n.metrics, "compare-name"))));
    } catch (e) {
      if (!gone) replace(el, h("section", { class: "card" }, h("h2", null, "Compare"), h("p", { class: "error" }, (e as Error).message)));
    }
  })();
  return () => { gone = true; };
}
