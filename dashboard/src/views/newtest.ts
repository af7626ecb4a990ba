// New test: a form for the common fields and an editor for the full JSON or
// YAML spec. The server validates; each error it returns is shown next to
// the form field it names (or, in the editor, listed with its field). A test
// that starts opens its live view.

import { api, ApiError, FieldError, Spec } from "../api";
import { h, replace } from "../dom";
import { fieldOwners, lineOf, owner } from "../specfields";

const models = [
  ["constant-rate", "constant-rate (open loop, fixed req/s)"],
  ["ramping-rate", "ramping-rate (open loop, stages of req/s)"],
  ["avalanche", "avalanche (closed loop, as fast as possible)"],
  ["tsunami", "tsunami (closed loop with a pause)"],
  ["ramping-concurrency", "ramping-concurrency (closed loop, stages of connections)"],
] as const;
const openModels = new Set(["constant-rate", "ramping-rate"]);
const stagedModels = new Set(["ramping-rate", "ramping-concurrency"]);
const methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

type Inputs = Record<keyof typeof fieldOwners, HTMLInputElement | HTMLSelectElement>;

function field(label: string, name: string, input: HTMLInputElement | HTMLSelectElement, hint = ""): HTMLElement {
  input.name = name;
  input.id = `f-${name}`;
  input.dataset.field = name;
  return h("div", { class: "field", "data-for": name },
    h("label", { for: `f-${name}` }, label),
    input,
    hint ? h("div", { class: "hint" }, hint) : null,
    h("div", { class: "field-error", "data-error-for": name, role: "alert" }),
  );
}

function input(type: string, value: string, attrs: Record<string, string> = {}): HTMLInputElement {
  const el = h("input", { type, value, ...attrs });
  return el;
}

function select(options: readonly (readonly [string, string])[], value: string): HTMLSelectElement {
  return h("select", null, options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
}

// parseStages reads "30s:100, 1m:500" as stages.
function parseStages(s: string): { duration: string; target: number }[] {
  return s.split(",").map((x) => x.trim()).filter(Boolean).map((x) => {
    const [d, t] = x.split(":").map((y) => y.trim());
    return { duration: d ?? "", target: Number(t) };
  });
}

function specFromForm(f: Inputs): Spec {
  const v = (k: keyof Inputs) => f[k].value.trim();
  const model = v("model");
  const spec: Spec = {
    request: { method: v("method"), url: v("url") },
    load: { model },
  };
  if (v("name")) spec.name = v("name");
  if (v("timeout")) spec.request.timeout = v("timeout");
  if (openModels.has(model) && model !== "ramping-rate" && v("rate") !== "") spec.load.rate = Number(v("rate"));
  if (v("concurrency") !== "") spec.load.concurrency = Number(v("concurrency"));
  if (model === "tsunami" && v("delay")) spec.load.delay = v("delay");
  if (stagedModels.has(model) && v("stages")) spec.load.stages = parseStages(v("stages"));
  if (v("duration")) spec.load.duration = v("duration");
  if (v("requests") !== "") spec.load.requests = Number(v("requests"));
  if (v("workers") !== "") spec.workers = Number(v("workers"));
  return spec;
}

export function newTestView(el: HTMLElement, navigate: (hash: string) => void): () => void {
  const f: Inputs = {
    name: input("text", "", { placeholder: "checkout-smoke", autocomplete: "off" }),
    url: input("url", "http://127.0.0.1:8081/ping", { required: "", placeholder: "http://host:port/path" }),
    method: select(methods.map((m) => [m, m] as const), "GET"),
    timeout: input("text", "5s", { placeholder: "5s" }),
    model: select(models, "constant-rate"),
    rate: input("number", "100", { min: "0", step: "any" }),
    concurrency: input("number", "", { min: "1", step: "1", placeholder: "default" }),
    delay: input("text", "10ms", { placeholder: "10ms" }),
    stages: input("text", "10s:100, 20s:100", { placeholder: "10s:100, 20s:500" }),
    duration: input("text", "30s", { placeholder: "30s" }),
    requests: input("number", "", { min: "1", step: "1", placeholder: "unbounded" }),
    workers: input("number", "0", { min: "0", step: "1" }),
  };
  const general = h("div", { class: "form-error", role: "alert", "data-test": "form-error" });
  const submit = h("button", { type: "submit", class: "primary", "data-test": "start" }, "Start test");

  const rows = {
    rate: field("Rate (req/s, whole cluster)", "rate", f.rate),
    concurrency: field("Concurrency (connections per worker)", "concurrency", f.concurrency,
      "Open models: most requests in flight per worker."),
    delay: field("Pause between requests", "delay", f.delay, "Go duration, e.g. 10ms"),
    stages: field("Stages (duration:target, …)", "stages", f.stages, "target is req/s or connections"),
  };
  const showModelFields = () => {
    const m = f.model.value;
    rows.rate.hidden = m !== "constant-rate";
    rows.delay.hidden = m !== "tsunami";
    rows.stages.hidden = !stagedModels.has(m);
  };
  f.model.addEventListener("change", showModelFields);
  showModelFields();

  const form = h("form", { class: "spec-form", novalidate: true, "data-test": "new-test-form" },
    h("div", { class: "form-grid" },
      field("Name", "name", f.name),
      field("URL", "url", f.url),
      field("Method", "method", f.method),
      field("Timeout", "timeout", f.timeout, "per request"),
      field("Load model", "model", f.model),
      rows.rate, rows.concurrency, rows.delay, rows.stages,
      field("Duration", "duration", f.duration, "Go duration, e.g. 30s, 2m; empty for a request count"),
      field("Requests (total)", "requests", f.requests, "split exactly across workers"),
      field("Workers", "workers", f.workers, "0 = every idle worker"),
    ),
    general,
    h("div", { class: "actions" }, submit,
      h("button", { type: "button", class: "link", onclick: () => openEditor() }, "Edit as full spec →")),
  );

  // Editor mode: the whole spec as JSON or YAML.
  const editor = h("textarea", { class: "editor", spellcheck: "false", "data-test": "spec-editor", rows: 22 });
  const format = select([["json", "JSON"], ["yaml", "YAML"]], "json");
  const editorErrors = h("ul", { class: "editor-errors", role: "alert", "data-test": "editor-errors" });
  const editorSubmit = h("button", { type: "button", class: "primary", "data-test": "start-spec" }, "Start test");
  const editorPane = h("div", { class: "spec-editor", hidden: true },
    h("p", { class: "muted small" },
      "The full spec (see docs/spec.md in the repository): request mix, headers, body, stages, expected status codes, … ",
      "The server checks it and names every field it rejects."),
    h("div", { class: "actions" }, h("label", null, "Format ", format),
      h("button", { type: "button", class: "link", onclick: () => closeEditor() }, "← Back to the form")),
    editor, editorErrors, h("div", { class: "actions" }, editorSubmit),
  );

  const openEditor = () => {
    editor.value = JSON.stringify(specFromForm(f), null, 2);
    format.value = "json";
    form.hidden = true;
    editorPane.hidden = false;
    editor.focus();
  };
  const closeEditor = () => {
    form.hidden = false;
    editorPane.hidden = true;
  };

  const clearErrors = () => {
    for (const e of el.querySelectorAll(".field-error")) e.textContent = "";
    for (const e of el.querySelectorAll(".field.invalid")) e.classList.remove("invalid");
    general.textContent = "";
    editorErrors.replaceChildren();
  };

  const showFormErrors = (err: ApiError) => {
    const unplaced: FieldError[] = [];
    for (const fe of err.fields) {
      const name = owner(fe.field);
      const slot = name ? el.querySelector<HTMLElement>(`[data-error-for="${name}"]`) : null;
      if (!slot || slot.closest<HTMLElement>(".field")?.hidden) {
        unplaced.push(fe);
        continue;
      }
      slot.closest(".field")?.classList.add("invalid");
      slot.append(h("div", { "data-field": fe.field }, `${fe.field}: ${fe.problem}`));
    }
    replace(general, err.fields.length ? null : err.message,
      unplaced.map((fe) => h("div", { "data-field": fe.field }, fe.field ? `${fe.field}: ${fe.problem}` : fe.problem)));
  };

  const showEditorErrors = (err: ApiError) => {
    const items = err.fields.length ? err.fields : [{ field: "", problem: err.message }];
    replace(editorErrors, items.map((fe) => {
      const line = lineOf(editor.value, fe.field);
      const li = h("li", { "data-field": fe.field },
        line ? h("button", { type: "button", class: "link line", title: "show in the editor" }, `line ${line.n}`) : null,
        fe.field ? h("code", null, fe.field) : null, fe.field ? " " : null, fe.problem);
      li.querySelector("button")?.addEventListener("click", () => {
        editor.focus();
        editor.setSelectionRange(line!.start, line!.end);
      });
      return li;
    }));
  };

  const start = async (body: string, yaml: boolean, onError: (e: ApiError) => void, button: HTMLButtonElement) => {
    clearErrors();
    button.disabled = true;
    button.textContent = "Starting…";
    try {
      const { id } = await api.create(body, yaml);
      navigate(`#/tests/${encodeURIComponent(id)}`);
    } catch (e) {
      onError(e instanceof ApiError ? e : new ApiError(0, String(e)));
    } finally {
      button.disabled = false;
      button.textContent = "Start test";
    }
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void start(JSON.stringify(specFromForm(f)), false, showFormErrors, submit);
  });
  editorSubmit.addEventListener("click", () => {
    void start(editor.value, format.value === "yaml", showEditorErrors, editorSubmit);
  });

  replace(el, h("section", { class: "card" }, h("h2", null, "New test"), form, editorPane));
  return () => {};
}
