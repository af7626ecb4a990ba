// Unit tests of the page's pure helpers, run by `make dashboard-test`
// (esbuild bundles this file, node's test runner runs it).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Point } from "../src/api";
import { tokenFromHash } from "../src/auth";
import * as fmt from "../src/format";
import { lineOf, owner } from "../src/specfields";
import { mergePoint, nines, withoutEmptyTail } from "../src/timeline";

function table<I, O>(name: string, cases: [I, O][], f: (i: I) => O): void {
  test(name, () => {
    for (const [input, want] of cases) {
      assert.deepEqual(f(input), want, `${name}(${JSON.stringify(input)})`);
    }
  });
}

table("fmt.ms", [
  [0, "0 ms"], [0.85, "850 µs"], [0.0123, "12.3 µs"], [1.234, "1.23 ms"], [12.34, "12.3 ms"],
  [123.4, "123 ms"], [1500, "1.50 s"], [null as unknown as number, "–"], [NaN, "–"],
], fmt.ms);

table("fmt.rps", [[0, "0 req/s"], [9.5, "9.50 req/s"], [150, "150 req/s"], [1234.6, "1,235 req/s"]], fmt.rps);

table("fmt.countUnit", [[[0, "req"], "0 req"], [[1234567, "req"], "1,234,567 req"]],
  ([n, u]: [number, string]) => fmt.countUnit(n, u));

table("fmt.seconds", [[0, "0 s"], [59.6, "1 min 00 s"], [125, "2 min 05 s"], [3725, "1 h 02 min"], [-5, "-5 s"]], fmt.seconds);

table("fmt.bytes", [[999, "999 B"], [1234, "1.23 kB"], [12_300_000, "12.3 MB"]], fmt.bytes);

table("fmt.percent", [[0, "0 %"], [0.0052, "0.520 %"], [0.192, "19.2 %"], [1, "100 %"]], fmt.percent);

table("fmt.parseDuration", [["30s", 30], ["1m30s", 90], ["500ms", 0.5], ["1h", 3600], ["", 0]], fmt.parseDuration);

table("fmt.percentileLabel", [[50, "p50"], [99.9, "p99.9"], [99.99, "p99.99"], [100, "max"]], fmt.percentileLabel);

table("nines", [[0, 0], [90, 1], [99, 2], [99.9, 3]], (p: number) => Math.round(nines(p) * 1e9) / 1e9);

table("owner", [
  ["load.rate", "rate"], ["load.rate_per_worker", "rate"], ["load.stages[1].duration", "stages"],
  ["request.url", "url"], ["request.headers.X", "url"], ["load.bogus", "model"], ["workers", "workers"],
  ["requests_mix[1].url", null], ["", null],
], owner);

test("lineOf finds the key's line in YAML and JSON", () => {
  const yaml = "name: x\nrequest:\n  url: http://h/\nload:\n  model: constant-rate\n  burst: 3\n";
  assert.equal(lineOf(yaml, "load.burst")?.n, 6);
  assert.equal(lineOf(yaml, "request.url")?.n, 3);
  const json = JSON.stringify({ request: { url: "u" }, load: { model: "m", rate: -5 } }, null, 2);
  assert.equal(lineOf(json, "load.rate")?.n, 7);
  assert.equal(lineOf(json, "load.stages[0].duration"), null);
  const l = lineOf(json, "load.rate")!;
  assert.equal(json.slice(l.start, l.end).trim(), '"rate": -5');
  const flow = "scenario:\n  steps:\n    - name: login\n      extract:\n        token: {jsonpath: \"$.token\"}\n";
  assert.equal(lineOf(flow, "scenario.steps[0].extract.token.jsonpath")?.n, 5);
  assert.equal(lineOf("load: {model: m, rate: -5}\n", "load.rate")?.n, 1);
});

const pt = (second: number, requests = 10, workers: Point["workers"] = { w1: { requests, errors: 0, rps: requests, p99_ms: 1 } }): Point =>
  ({ second, t: 0, requests, rps: requests, errors: 0, latency_ms: { min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 }, workers });

test("mergePoint keeps seconds in order and replaces a repeated second", () => {
  const ps: Point[] = [];
  for (const p of [pt(0), pt(2), pt(1), pt(2, 99), pt(3)]) mergePoint(ps, p);
  assert.deepEqual(ps.map((p) => p.second), [0, 1, 2, 3]);
  assert.equal(ps[2].requests, 99, "second 2 replaced by its later message");
});

test("withoutEmptyTail drops only trailing seconds no worker reported", () => {
  const stall = pt(1, 0); // a worker reported 0 requests: a real stall, kept
  const ps = [pt(0), stall, pt(2), pt(3, 0, {}), { ...pt(4, 0), workers: undefined }];
  assert.deepEqual(withoutEmptyTail(ps).map((p) => p.second), [0, 1, 2]);
  assert.deepEqual(withoutEmptyTail([pt(0), stall]).map((p) => p.second), [0, 1]);
  assert.deepEqual(withoutEmptyTail([]), []);
});

table("tokenFromHash", [
  ["#token=abc123", "abc123"], ["#token=a%2Bb", "a+b"], ["#token=", ""], ["#/tests/x", ""],
  ["", ""], ["#token=bad%zz", ""], ["#tokenx=abc", ""],
], tokenFromHash);
