// History: past tests, newest first, with phase and headline numbers; each
// row opens the test's live view or report.

import { api, TestListItem } from "../api";
import { h, phaseBadge, queuePosition, replace, table } from "../dom";
import * as fmt from "../format";
import { subscribe } from "../store";

function duration(t: TestListItem): string {
  if (t.summary?.duration_s) return fmt.preciseSeconds(t.summary.duration_s);
  const a = Date.parse(t.start_at ?? "");
  const b = Date.parse(t.ended_at ?? "");
  return isFinite(a) && isFinite(b) && b > a ? fmt.seconds((b - a) / 1000) : "–";
}

// testsTable renders tests as a table whose rows link to #/tests/<id>.
export function testsTable(tests: TestListItem[]): HTMLElement {
  if (tests.length === 0) return h("p", { class: "empty" }, "No tests yet. ", h("a", { href: "#/new" }, "Start one."));
  const num = "num";
  return h("div", { class: "scroll" }, table(
    ["Test", "Phase", "Created", "Duration", ["Requests", num], ["Throughput", num], ["p50", num],
      ["p99", num], ["Errors", num]],
    tests.map((t) => {
      const s = t.summary;
      return [
        h("a", { href: `#/tests/${encodeURIComponent(t.id)}`, "data-test": "test-link" },
          t.name || t.id, t.name ? h("span", { class: "muted id" }, ` ${t.id}`) : null),
        [phaseBadge(t.phase), queuePosition(t), t.reason ? h("div", { class: "muted small" }, t.reason) : null],
        fmt.time(t.created_at),
        duration(t),
        s ? fmt.countUnit(s.requests, "req") : "–",
        s ? fmt.rps(s.rps) : "–",
        s ? fmt.ms(s.latency_ms?.p50) : "–",
        s ? fmt.ms(s.latency_ms?.p99) : "–",
        s ? `${fmt.count(s.errors)} (${fmt.percent(s.requests ? s.errors / s.requests : 0)})` : "–",
      ];
    }),
    { class: "grid", "data-test": "history-table" },
  ));
}

// historyView lists every test (GET /api/v1/tests); the cluster feed, which
// carries only the latest 20, tells it when to read the list again.
export function historyView(el: HTMLElement): () => void {
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  replace(el, h("section", { class: "card" }, h("h2", null, "History"), body));
  let gone = false;
  let all: TestListItem[] | null = null;
  let loading = false;
  let again = false;
  const load = async () => {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      all = (await api.tests()) ?? [];
      if (!gone) replace(body, testsTable(all));
    } catch (e) {
      if (!gone && all === null) replace(body, h("p", { class: "error" }, (e as Error).message));
    } finally {
      loading = false;
      if (again && !gone) {
        again = false;
        void load();
      }
    }
  };
  let seen = "";
  const unsubscribe = subscribe((s) => {
    const key = s.tests.map((t) => `${t.id}:${t.phase}`).join(",");
    if (key !== seen) {
      seen = key;
      void load();
    }
  });
  return () => {
    gone = true;
    unsubscribe();
  };
}
