// A tiny DOM builder: h("div", {class: "x"}, "text", child).

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
export type Child = Node | string | number | null | undefined | false | Child[];

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs: Attrs | null = null, ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2), v as EventListener);
      } else if (v === true) {
        el.setAttribute(k, "");
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace swaps el's children for children.
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

// table builds a table from a header row and data rows; a cell that is an
// array [text, class] gets that class (e.g. "num" for right-aligned numbers).
export function table(
  head: (string | [string, string])[], rows: Child[][], attrs: Attrs | null = null,
): HTMLTableElement {
  const cell = (tag: "th" | "td", c: Child | [string, string], i: number) => {
    const cls = headClass[i] ?? null;
    return h(tag, cls ? { class: cls } : null, c as Child);
  };
  const headClass: (string | undefined)[] = head.map((x) => (Array.isArray(x) ? x[1] : undefined));
  return h("table", attrs,
    h("thead", null, h("tr", null, head.map((x, i) => cell("th", Array.isArray(x) ? x[0] : x, i)))),
    h("tbody", null, rows.map((r) => h("tr", null, r.map((c, i) => cell("td", c, i))))),
  );
}

export function phaseBadge(phase: string): HTMLElement {
  return h("span", { class: `badge phase-${phase}`, "data-test": "phase" }, phase);
}

// queuePosition is a queued test's place in the queue, or nothing.
export function queuePosition(t: { phase: string; position?: number }): HTMLElement | null {
  if (t.phase !== "queued" || !t.position) return null;
  return h("span", { class: "muted small queue-pos", "data-test": "queue-position" }, ` #${t.position} in the queue`);
}

export function stateBadge(state: string): HTMLElement {
  return h("span", { class: `badge state-${state}` }, state);
}
