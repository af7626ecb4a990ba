// Pure helpers for tables that may hold thousands of rows (a fleet of
// 2,000 workers): one page at a time, with the states counted (no DOM).

// PageSize is how many rows a workers table shows at once.
export const PageSize = 100;

export interface Page<T> {
  rows: T[];
  page: number; // 0-based, clamped to the pages that exist
  pages: number;
  first: number; // 1-based number of the first row shown (0 if none)
  last: number;
}

// pageOf returns page `page` of rows, clamped to [0, pages).
export function pageOf<T>(rows: T[], page: number, size = PageSize): Page<T> {
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const p = Math.min(Math.max(0, Math.floor(page)), pages - 1);
  const slice = rows.slice(p * size, (p + 1) * size);
  return { rows: slice, page: p, pages, first: slice.length ? p * size + 1 : 0, last: p * size + slice.length };
}

// stateCounts groups states by count, most frequent first (ties by name):
// ["running", "done", "running"] → [["running", 2], ["done", 1]].
export function stateCounts(states: string[]): [string, number][] {
  const m = new Map<string, number>();
  for (const s of states) m.set(s, (m.get(s) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
