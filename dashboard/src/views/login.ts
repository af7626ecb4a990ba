// Login: the page asks for an API token before it calls the API. The token
// is checked with GET /api/v1/cluster first and kept in sessionStorage
// (auth.ts) only if the master accepts it.

import { reason, setToken } from "../auth";
import { h, replace } from "../dom";

// check asks the master whether it accepts t: "" if so, else why not.
async function check(t: string): Promise<string> {
  try {
    const resp = await fetch("api/v1/cluster", { headers: { Authorization: `Bearer ${t}`, Accept: "application/json" } });
    if (resp.ok) return "";
    if (resp.status === 401) return "The master refused this token.";
    return `The master answered ${resp.status}.`;
  } catch (e) {
    return `master unreachable: ${(e as Error).message}`;
  }
}

export function loginView(el: HTMLElement): () => void {
  const input = h("input", {
    type: "password", name: "token", autocomplete: "current-password", required: true,
    "data-test": "token-input", "aria-label": "API token",
  });
  const msg = h("p", { class: "error", "data-test": "login-error", role: "alert" }, reason());
  let alive = true;
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    msg.textContent = "";
    const problem = await check(t);
    if (!alive) return;
    if (problem) msg.textContent = problem;
    else setToken(t); // routes to the page asked for
  };
  replace(el,
    h("section", { class: "card login", "data-test": "login" },
      h("h2", null, "Log in"),
      h("p", null, "This master needs an API token: a viewer token to watch, an operator token to start and stop tests. ",
        "The token stays in this tab only."),
      h("form", { onsubmit: (ev: Event) => void submit(ev) },
        h("label", null, "API token ", input),
        h("button", { type: "submit", "data-test": "login-submit" }, "Log in")),
      msg),
  );
  input.focus();
  return () => {
    alive = false;
  };
}
