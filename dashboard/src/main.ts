// Stampede dashboard: hash routes over one page served by any master.
//   #/            cluster overview      #/new        new test
//   #/tests       history               #/tests/<id> live view / report
//   #token=<t>    logs in with t (moved to sessionStorage, removed from the URL)
// Without a token every route shows the login form.

import { compareView } from "./views/compare";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import * as auth from "./auth";
import * as store from "./store";
import { clusterView } from "./views/cluster";
import { historyView } from "./views/history";
import { loginView } from "./views/login";
import { newTestView } from "./views/newtest";
import { testView } from "./views/test";

const app = document.getElementById("app") as HTMLElement;
const conn = document.getElementById("conn") as HTMLElement;
const logoutLink = document.getElementById("logout") as HTMLElement;
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
  logoutLink.hidden = !auth.token();
  if (!auth.token()) {
    nav = "login";
    cleanup = loginView(app);
  } else if (parts[0] === "new") {
    nav = "new";
    cleanup = newTestView(app, navigate);
  } else if (parts[0] === "compare" && parts[1] && parts[2]) {
    nav = "tests";
    cleanup = compareView(app, decodeURIComponent(parts[1]), decodeURIComponent(parts[2]));
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
  document.title = nav === "login" ? "Stampede · Log in"
    : `Stampede · ${nav === "new" ? "New test" : nav === "tests" ? (parts[1] ? parts[1] : "History") : "Cluster"}`;
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
// A #token= link logs in, on load or when followed from this page.
const linked = auth.takeTokenFromURL();
if (linked) auth.setToken(linked);
auth.onChange(() => {
  if (auth.token()) store.start();
  else store.stop();
  route();
});
logoutLink.addEventListener("click", (ev) => {
  ev.preventDefault();
  auth.logout();
});
if (auth.token()) store.start();
window.addEventListener("hashchange", () => {
  const t = auth.takeTokenFromURL();
  if (t) auth.setToken(t); // routes through onChange
  else route();
});
route();
