// A test's page: while it runs, the live view (charts gaining a point each
// second, per-worker table, elapsed and remaining time, Stop button) fed by
// GET /api/v1/tests/{id}/live; once it has ended, the same charts from the
// timeline plus the report.

import { api, ApiError, Feed, Point, TestDetail, TestMsg } from "../api";
import { TimelineCharts } from "../charts";
import { mergePoint } from "../timeline";
import { h, phaseBadge, queuePosition, replace, stateBadge, table } from "../dom";
import * as fmt from "../format";
import { paged } from "../pager";
import { Report } from "./report";
import { exportButtons, namesTable, verdictCard } from "../answers";
import { describe, LiveControl } from "./control";

const terminal = new Set(["completed", "stopped", "aborted", "failed"]);

function tile(label: string, key: string, value: string): HTMLElement {
  return h("div", { class: "tile" }, h("div", { class: "tile-label" }, label),
    h("div", { class: "tile-value", "data-tile": key }, value));
}

// progress is the elapsed and remaining text of a running test.
function progress(t: TestDetail, now: number): HTMLElement {
  const start = Date.parse(t.start_at ?? "");
  const end = Date.parse(t.ended_at ?? "");
  const load = t.spec?.load ?? { model: "" };
  const total = fmt.parseDuration(load.duration) ||
    (load.stages ?? []).reduce((a, s) => a + fmt.parseDuration(s.duration), 0);
  if (!isFinite(start) || new Date(start).getFullYear() < 2000) {
    const waiting = t.phase === "queued" ? "waiting in the queue for workers…" : "preparing workers…";
    return h("span", { "data-test": "elapsed" }, t.phase === "pending" ? "waiting for the leader…" : waiting);
  }
  const until = isFinite(end) && new Date(end).getFullYear() >= 2000 ? end : now;
  const elapsed = Math.max(0, (until - start) / 1000);
  const parts: (string | HTMLElement)[] = [h("span", { "data-test": "elapsed" }, `elapsed ${fmt.seconds(elapsed)}`)];
  if (t.paused) parts.push(" · ", h("span", { class: "warn", "data-test": "paused" }, "paused"));
  if (!terminal.has(t.phase)) {
    if (t.events?.length && t.remaining_s != null) { // live changes moved the end
      parts.push(" · ", h("span", { "data-test": "remaining" }, `remaining ${fmt.seconds(t.remaining_s)}`));
    } else if (total > 0) {
      parts.push(" · ", h("span", { "data-test": "remaining" }, `remaining ${fmt.seconds(Math.max(0, total - elapsed))}`));
    } else if (load.requests) {
      const done = t.summary?.requests ?? 0;
      parts.push(" · ", h("span", { "data-test": "remaining" },
        `${fmt.count(done)} of ${fmt.countUnit(load.requests, "req")} sent`));
    }
  }
  const bar = total > 0 && !terminal.has(t.phase)
    ? h("div", { class: "bar" }, h("div", { style: `width:${Math.min(100, (100 * elapsed) / total).toFixed(1)}%` }))
    : null;
  return h("span", null, parts, bar);
}

function workersTable(t: TestDetail, redraw: () => void): HTMLElement {
  const all = [...(t.workers ?? [])].sort((a, b) => a.id.localeCompare(b.id));
  if (all.length === 0) return h("p", { class: "muted" }, "No workers assigned yet.");
  return paged(`test/${t.id}`, all, (w) => w.state, (ws) => h("div", { class: "scroll" }, table(
    ["Worker", "State", ["Requests", "num"], ["Throughput (avg)", "num"], ["p99", "num"], ["Errors", "num"], ["Start skew", "num"]],
    ws.map((w) => [w.id, stateBadge(w.state), fmt.countUnit(w.requests ?? 0, "req"), fmt.rps(w.rps ?? 0),
      fmt.ms(w.p99_ms ?? 0), fmt.countUnit(w.errors ?? 0, "err"),
      w.start_skew_ms != null && w.state !== "planned" ? fmt.ms(w.start_skew_ms) : "–"]),
    { class: "grid", "data-test": "live-workers" },
  )), redraw);
}

function specLine(t: TestDetail): string {
  const s = t.spec;
  if (!s) return "";
  const l = s.load;
  const open = l.model === "constant-rate" || l.model === "ramping-rate";
  const last = l.stages?.length ? l.stages[l.stages.length - 1].target : 0;
  let shape = "";
  if (l.stages?.length && l.model.startsWith("ramping")) {
    shape = `${l.stages.length} stage${l.stages.length > 1 ? "s" : ""} to ${open ? fmt.rps(last) : `${last} connections per worker`}`;
  } else if (open) {
    shape = l.rate ? fmt.rps(l.rate) : l.rate_per_worker ? `${fmt.rps(l.rate_per_worker)} per worker` : "";
  } else if (l.concurrency) {
    shape = `${l.concurrency} connections per worker${l.delay ? `, ${l.delay} pause` : ""}`;
  }
  const bound = [l.duration ? `for ${l.duration}` : "", l.requests ? `${fmt.count(l.requests)} requests` : ""]
    .filter(Boolean).join(", ");
  return `${s.request?.method ?? "GET"} ${s.request?.url ?? ""} · ${l.model} ${shape} ${bound}`.trim();
}

// markersOf is one chart marker per second with live changes (changes of
// the same second share one label).
function markersOf(t: TestDetail): { at: number; label: string }[] {
  const by = new Map<number, string[]>();
  for (const c of t.events ?? []) by.set(c.at, [...(by.get(c.at) ?? []), describe(c)]);
  return [...by].map(([at, labels]) => ({ at, label: labels.join(", ") }));
}

// rerunButton creates a new test from this one's spec and opens it.
function rerunButton(id: string): HTMLElement {
  const btn = h("button", { "data-test": "rerun", title: "a new test from the same spec" }, "Rerun") as HTMLButtonElement;
  const msg = h("span", { class: "muted small" });
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    msg.textContent = " creating…";
    try {
      const r = await api.rerun(id);
      location.hash = `#/tests/${encodeURIComponent(r.id)}`;
    } catch (e) {
      msg.textContent = ` rerun failed: ${(e as Error).message}`;
      btn.disabled = false;
    }
  });
  return h("span", null, btn, msg);
}

export function testView(el: HTMLElement, id: string): () => void {
  let test: TestDetail | null = null;
  let points: Point[] = [];
  let feed: Feed<TestMsg> | null = null;
  let report: Report | null = null;
  let gone = false;
  let poll: number | undefined;

  const charts = new TimelineCharts();
  const control = new LiveControl(id);
  const head = h("div");
  const tiles = h("div", { class: "tiles" });
  const workers = h("div");
  const stopBtn = h("button", { class: "danger", "data-test": "stop" }, "Stop");
  const stopMsg = h("span", { class: "muted small" });
  const rerun = rerunButton(id);
  const live = h("span", { class: "live-dot", title: "live feed" });
  const reportEl = h("div");
  const answersEl = h("div");
  const workersCard = h("section", { class: "card" }, h("h3", null, "Workers"), workers);

  replace(el,
    h("section", { class: "card test-head" }, head), control.el,
    tiles, answersEl, charts.el, workersCard, reportEl);

  stopBtn.addEventListener("click", async () => {
    stopBtn.disabled = true;
    stopMsg.textContent = "stopping…";
    try {
      const r = await api.stop(id);
      stopMsg.textContent = `stop requested (${r.phase})`;
    } catch (e) {
      stopMsg.textContent = `stop failed: ${(e as Error).message}`;
      stopBtn.disabled = false;
    }
  });

  const render = () => {
    if (!test) return;
    const t = test;
    const ended = terminal.has(t.phase);
    replace(head,
      h("div", { class: "title-row" },
        h("h2", null, t.name || t.id), phaseBadge(t.phase), queuePosition(t), ended ? null : live,
        h("span", { class: "right" }, ended ? null : [stopBtn, " ", stopMsg, " "], rerun)),
      h("div", { class: "muted small" }, `id ${t.id} · ${specLine(t)} · created ${fmt.time(t.created_at)}`,
        t.rerun_of ? [" · rerun of ", h("a", { href: `#/tests/${encodeURIComponent(t.rerun_of)}`, "data-test": "rerun-of" }, t.rerun_of),
          " (", h("a", { href: `#/compare/${encodeURIComponent(t.rerun_of)}/${encodeURIComponent(t.id)}`, "data-test": "compare-rerun" }, "compare"), ")"] : null),
      t.reason ? h("div", { class: ended && t.phase !== "completed" ? "warn" : "muted" }, t.reason) : null,
      h("div", { class: "progress" }, progress(t, Date.now())),
    );
    const s = t.summary;
    const last = points.length ? points[points.length - 1] : null;
    replace(tiles,
      tile("Requests", "requests", fmt.countUnit(s?.requests ?? 0, "req")),
      tile(ended ? "Throughput" : "Throughput (last second)", "rps", fmt.rps(ended ? s?.rps ?? 0 : last?.rps ?? 0)),
      tile("Errors", "errors", s ? `${fmt.count(s.errors)} (${fmt.percent(s.requests ? s.errors / s.requests : 0)})` : "–"),
      tile("p50 latency", "p50", fmt.ms(s?.latency_ms?.p50)),
      tile("p99 latency", "p99", fmt.ms(s?.latency_ms?.p99)),
      ended
        ? tile("Workers", "workers", fmt.countUnit((t.workers ?? []).length, "workers"))
        : tile("Workers", "workers", `${(t.workers ?? []).filter((w) => w.state === "running").length} running / ${(t.workers ?? []).length}`),
    );
    replace(answersEl, verdictCard(s, !ended), namesTable(s), exportButtons(t.id));
    const drawWorkers = () => replace(workers, workersTable(t, drawWorkers));
    drawWorkers();
    workersCard.hidden = ended && !!s;
    control.el.hidden = t.phase !== "running";
    control.update(t);
    charts.update(points, markersOf(t));
  };

  const showReport = async () => {
    try {
      const [t, tl] = await Promise.all([api.test(id), api.timeline(id)]);
      if (gone) return;
      test = t;
      points = [];
      for (const p of tl.points ?? []) mergePoint(points, p);
    } catch (e) {
      if (gone) return;
      replace(reportEl, h("p", { class: "error" }, `Could not load the result: ${(e as Error).message}`));
    }
    render();
    report?.destroy();
    report = new Report(test!, points);
    replace(reportEl, report.el);
  };

  const onMessage = (m: TestMsg) => {
    if (gone) return;
    test = m.test;
    if (m.type === "snapshot") {
      points = [];
      for (const p of m.points ?? []) mergePoint(points, p);
    } else if (m.type === "update" && m.point) {
      mergePoint(points, m.point);
    }
    render();
    if (m.type === "final" || terminal.has(m.test.phase)) {
      feed?.close();
      feed = null;
      void showReport();
    }
  };

  // While the feed is down, keep the page current over REST.
  const pollOnce = async () => {
    if (gone || feed === null) return;
    try {
      const [t, tl] = await Promise.all([api.test(id), api.timeline(id)]);
      if (gone || feed === null) return;
      test = t;
      for (const p of tl.points ?? []) mergePoint(points, p);
      render();
      if (terminal.has(t.phase)) {
        feed.close();
        feed = null;
        void showReport();
      }
    } catch {
      /* the feed's reconnect and the next poll retry */
    }
  };

  const tick = window.setInterval(() => {
    if (test && !terminal.has(test.phase)) render();
  }, 1000);

  (async () => {
    try {
      test = await api.test(id);
    } catch (e) {
      if (gone) return;
      const notFound = e instanceof ApiError && e.status === 404;
      replace(el, h("section", { class: "card" }, h("h2", null, notFound ? "No such test" : "Error"),
        h("p", { class: "error" }, notFound ? `There is no test ${id}.` : (e as Error).message),
        h("a", { href: "#/tests" }, "← History")));
      return;
    }
    if (gone) return;
    render();
    if (terminal.has(test.phase)) {
      void showReport();
      return;
    }
    feed = new Feed<TestMsg>(`tests/${encodeURIComponent(id)}/live`, onMessage, (connected) => {
      live.classList.toggle("on", connected);
      window.clearInterval(poll);
      if (!connected && feed) poll = window.setInterval(() => void pollOnce(), 2000);
    });
  })();

  return () => {
    gone = true;
    window.clearInterval(tick);
    window.clearInterval(poll);
    feed?.close();
    charts.destroy();
    report?.destroy();
  };
}
