// Stampede dashboard: hash routes over one page served by any master.
//   #/            cluster overview      #/new        new test
//   #/tests       history               #/tests/<id> live view / report

import "uplot/dist/uPlot.min.css";
import "./style.css";
import * as store from "./store";
import { clusterView } from "./views/cluster";
import { historyView } from "./views/history";
import { newTestView } from "./views/newtest";
import { testView } from "./views/test";

const app = document.getElementById("app") as HTMLElement;
const conn = document.getElementById("conn") as HTMLElement;
let cleanup: () => void = () => {};

function navigate(hash: string): void {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route(): void {
  cleanup();
  cleanup = () => {};
  window.scrollTo(0, 0);
  const path = location.hash.replace(/^#/, "") || "/";
  const parts = path.split("/").filter(Boolean);
  let nav = "cluster";
  if (parts[0] === "new") {
    nav = "new";
    cleanup = newTestView(app, navigate);
  } else if (parts[0] === "tests" && parts[1]) {
    nav = "tests";
    cleanup = testView(app, decodeURIComponent(parts[1]));
  } else if (parts[0] === "tests") {
    nav = "tests";
    cleanup = historyView(app);
  } else {
    cleanup = clusterView(app);
  }
  for (const a of document.querySelectorAll<HTMLElement>("[data-nav]")) {
    a.classList.toggle("active", a.dataset.nav === nav);
  }
  document.title = `Stampede · ${nav === "new" ? "New test" : nav === "tests" ? (parts[1] ? parts[1] : "History") : "Cluster"}`;
}

store.subscribe((s) => {
  const self = s.cluster?.self;
  const leader = s.cluster?.leader;
  const role = self && leader ? (self.id === leader.id ? "leader" : `follower of ${leader.id}`) : "";
  conn.textContent = s.connected
    ? `live · ${self ? `${self.id}${role ? ` (${role})` : ""}` : "connected"}`
    : s.error ? "master unreachable" : "reconnecting…";
  conn.classList.toggle("ok", s.connected);
});
store.start();
window.addEventListener("hashchange", route);
route();
