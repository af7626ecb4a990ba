// Pure helpers for timeline points and the percentile axis (no DOM).

import type { Point } from "./api";

// mergePoint inserts p into points (sorted by second), replacing a point
// for the same second: feed messages may repeat a second.
export function mergePoint(points: Point[], p: Point): void {
  let i = points.length;
  while (i > 0 && points[i - 1].second > p.second) i--;
  if (i > 0 && points[i - 1].second === p.second) points[i - 1] = p;
  else points.splice(i, 0, p);
}

// withoutEmptyTail drops trailing seconds that no worker reported (after
// the last interval of a run): they carry no data, and drawing them would
// show a drop to zero that did not happen.
export function withoutEmptyTail(points: Point[]): Point[] {
  let n = points.length;
  while (n > 0 && points[n - 1].requests === 0 && Object.keys(points[n - 1].workers ?? {}).length === 0) n--;
  return n === points.length ? points : points.slice(0, n);
}

// nines maps a percentile to the HdrHistogram log axis: 0 → 0, 90 → 1,
// 99 → 2, 99.9 → 3 …
export function nines(p: number): number {
  return p <= 0 ? 0 : -Math.log10(1 - p / 100);
}
