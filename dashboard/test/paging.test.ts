// Unit tests of the paging helpers of the workers tables.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pageOf, stateCounts } from "../src/paging";

test("pageOf pages 2,000 rows and clamps the page", () => {
  const rows = Array.from({ length: 2000 }, (_, i) => i);
  const p = pageOf(rows, 3);
  assert.equal(p.pages, 20);
  assert.deepEqual([p.page, p.first, p.last, p.rows.length, p.rows[0]], [3, 301, 400, 100, 300]);
  assert.equal(pageOf(rows, 99).page, 19);
  assert.equal(pageOf(rows, -1).page, 0);
  const last = pageOf(rows.slice(0, 250), 2);
  assert.deepEqual([last.first, last.last, last.rows.length], [201, 250, 50]);
  assert.deepEqual(pageOf([], 0), { rows: [], page: 0, pages: 1, first: 0, last: 0 });
});

test("stateCounts groups states, most frequent first", () => {
  assert.deepEqual(stateCounts(["running", "done", "running", "lost", "done", "running"]),
    [["running", 3], ["done", 2], ["lost", 1]]);
  assert.deepEqual(stateCounts([]), []);
});
