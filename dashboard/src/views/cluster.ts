// Cluster: the masters and which one leads, ZooKeeper, the live workers with
// their state and current test, and the latest tests. Updates as the cluster
// feed changes.

import { h, replace, stateBadge, table } from "../dom";
import { paged } from "../pager";
import { ClusterState, subscribe } from "../store";
import { testsTable } from "./history";

function masters(s: ClusterState): HTMLElement {
  const c = s.cluster;
  if (!c) return h("p", { class: "muted" }, s.error || "Loading…");
  const leaderId = c.leader?.id;
  const zk = c.zookeeper;
  return h("div", null,
    h("div", { class: "scroll" }, table(
      ["Master", "Role", "API", "Version"],
      (c.masters ?? []).map((m) => [
        [m.id, m.id === c.self?.id ? h("span", { class: "muted small" }, " (this page)") : null],
        m.leader || m.id === leaderId
          ? h("span", { class: "badge role-leader" }, "leader")
          : h("span", { class: "badge role-follower" }, "follower"),
        m.api_url ? h("a", { href: m.api_url }, m.api_url) : "–",
        m.version ?? "–",
      ]),
      { class: "grid", "data-test": "masters-table" },
    )),
    zk ? h("p", { class: "muted small" },
      `ZooKeeper ${zk.servers ?? ""}: `, h("span", { class: `zk-${zk.state}` }, zk.state ?? "unknown"),
      zk.session_id ? ` · session ${zk.session_id}` : "") : null,
    leaderId ? null : h("p", { class: "warn" }, "No leader elected: tests wait until a master leads."),
  );
}

function workers(s: ClusterState, redraw: () => void): HTMLElement {
  if (!s.cluster && s.workers.length === 0) return h("p", { class: "muted" }, "Loading…");
  if (s.workers.length === 0) return h("p", { class: "empty" }, "No live workers. Start one with `worker --zk …`.");
  const all = [...s.workers].sort((a, b) => a.id.localeCompare(b.id));
  return paged("cluster", all, (w) => w.state || "idle", (ws) => h("div", { class: "scroll" }, table(
    ["Worker", "State", "Test", "Host", "IP", ["Cores", "num"], "Version"],
    ws.map((w) => [
      w.id, stateBadge(w.state || "idle"),
      w.test ? h("a", { href: `#/tests/${encodeURIComponent(w.test)}` }, w.test) : "–",
      w.host ?? "–", w.ip ?? "–", w.cores != null ? `${w.cores}` : "–", w.version ?? "–",
    ]),
    { class: "grid", "data-test": "workers-table" },
  )), redraw);
}

export function clusterView(el: HTMLElement): () => void {
  const m = h("div");
  const w = h("div");
  const t = h("div");
  const wCount = h("span", { class: "muted" });
  replace(el,
    h("div", { class: "cols" },
      h("section", { class: "card" }, h("h2", null, "Masters"), m),
      h("section", { class: "card" }, h("h2", null, "Workers ", wCount), w)),
    h("section", { class: "card" },
      h("h2", null, "Recent tests ", h("a", { class: "small", href: "#/tests" }, "all →"),
        h("a", { class: "button right", href: "#/new" }, "New test")), t),
  );
  return subscribe((s) => {
    replace(m, masters(s));
    const draw = () => replace(w, workers(s, draw));
    draw();
    wCount.textContent = s.workers.length ? `(${s.workers.length} live)` : "";
    replace(t, testsTable(s.tests.slice(0, 8)));
  });
}
