// The DOM side of paging (see paging.ts): a workers table shows one page
// and a line counting the workers by state; the page a reader chose is kept
// across the feed's re-renders.
import { h, type Child } from "./dom";
import * as fmt from "./format";
import { pageOf, stateCounts } from "./paging";

const chosen = new Map<string, number>();

// paged renders one page of rows with render, a summary of states and, when
// there is more than one page, prev/next buttons that call redraw.
export function paged<T>(key: string, rows: T[], stateOf: (r: T) => string,
  render: (rows: T[]) => HTMLElement, redraw: () => void): HTMLElement {
  const p = pageOf(rows, chosen.get(key) ?? 0);
  const go = (d: number) => () => { chosen.set(key, p.page + d); redraw(); };
  const counts = stateCounts(rows.map(stateOf)).map(([s, n]) => `${fmt.count(n)} ${s}`).join(" · ");
  const nav: Child = p.pages > 1
    ? h("span", { class: "pager", "data-test": "pager" },
      h("button", { type: "button", onclick: go(-1), disabled: p.page === 0 }, "‹ prev"),
      ` ${fmt.count(p.first)}–${fmt.count(p.last)} of ${fmt.count(rows.length)} `,
      h("button", { type: "button", onclick: go(1), disabled: p.page === p.pages - 1 }, "next ›"))
    : null;
  return h("div", null, h("p", { class: "muted small", "data-test": "state-counts" }, counts, " ", nav), render(p.rows));
}
