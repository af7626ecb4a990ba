// The master's REST API and live feeds (docs/api.md), as the dashboard uses them.
// Every master serves them, so the page talks only to the master that served it.
// Every call and feed carries the tab's token (see auth.ts).

import { authHeaders, logout, websocketProtocols } from "./auth";

export interface Latency {
  min: number; mean: number; p50: number; p90: number; p95: number;
  p99: number; p999: number; max: number;
}

export interface MasterInfo { id: string; api_url: string; version?: string; leader?: boolean }

export interface Cluster {
  self?: MasterInfo;
  leader?: MasterInfo | null;
  masters: MasterInfo[];
  zookeeper?: { servers?: string; state?: string; session_id?: string };
}

export interface WorkerInfo {
  id: string; state: string; test?: string; host?: string; ip?: string;
  version?: string; cores?: number;
}

export interface WorkerSummary {
  id: string; state: string; requests: number; errors: number; rps: number;
  p99_ms: number; start_skew_ms: number; late?: number;
}

export interface Summary {
  requests: number; errors: number; rps: number; duration_s: number;
  latency_ms: Latency; service_ms?: Latency | null;
  status_codes?: Record<string, number>; error_kinds?: Record<string, number>;
  error_samples?: Record<string, string[]>;
  bytes_in?: number; bytes_out?: number; late?: number;
  target_rate?: number; rate_missed?: boolean; max_start_skew_ms?: number;
  workers?: WorkerSummary[] | null;
  distribution?: { percentile: number; ms: number }[] | null;
  histogram?: string; lost_workers?: string[] | null; lost_count?: number;
  verdict?: "passed" | "failed"; thresholds?: ThresholdResult[] | null; names?: NameSummary[] | null;
  iterations?: Iterations | null;
}

// Iterations are a scenario's journeys (docs/results.md).
export interface Iterations { completed: number; failed: number; duration_ms: Latency; histogram?: string }

// ThresholdResult is one threshold's outcome (docs/results.md).
export interface ThresholdResult {
  expr: string; name: string; passed: boolean; observed: number;
  abort?: boolean; aborted?: boolean; failed_at?: number;
}

// NameSummary is one request name's line of a summary.
export interface NameSummary {
  name: string; requests: number; errors: number; rps: number; latency_ms: Latency;
  status_codes?: Record<string, number>; error_kinds?: Record<string, number>;
  distribution?: { percentile: number; ms: number }[] | null;
}

// Change is one metric of a comparison (GET /api/v1/tests/compare).
export interface Change { metric: string; unit: string; base: number; head: number; delta: number; delta_pct?: number; worse: boolean }
export interface Comparison {
  base: { id: string; name?: string; phase: string; verdict?: string };
  head: { id: string; name?: string; phase: string; verdict?: string };
  metrics: Change[];
  names: { name: string; in: string; metrics: Change[] }[];
}

// The exports of a test, by route name.
export const exportKinds = ["report.html", "stats.csv", "timeline.csv", "latency.hlog", "junit.xml"] as const;

export interface TestListItem {
  id: string; name?: string; phase: string; reason?: string;
  created_at?: string; start_at?: string; ended_at?: string;
  summary?: Summary | null;
  // position is a queued test's place in the queue (1 runs next);
  // rerun_of the test this one reruns.
  position?: number; rerun_of?: string;
}

export interface TestWorker {
  id: string; state: string; requests?: number; errors?: number; rps?: number;
  p99_ms?: number; start_skew_ms?: number;
}

export interface TestDetail extends TestListItem {
  spec: Spec;
  workers?: TestWorker[] | null;
  // live changes (PATCH, pause, resume, rebalance) in order; paused: now
  events?: LiveChange[] | null;
  paused?: boolean;
  remaining_s?: number;
}

// LiveChange is one live change of a running test, applied from second at.
export interface LiveChange {
  seq: number; at: number; kind: "load" | "pause" | "resume" | "rebalance";
  rate?: number; concurrency?: number; duration?: string; lost?: string[];
  by?: string; time: number;
}

// LoadPatch is PATCH /tests/{id}'s partial load.
export interface LoadPatch { rate?: number; concurrency?: number; duration?: string }

// Spec is the test spec (docs/spec.md); only the fields the dashboard reads are typed.
export interface Spec {
  name?: string;
  request: { method?: string; url: string; [k: string]: unknown };
  load: {
    model: string; rate?: number; rate_per_worker?: number; concurrency?: number;
    delay?: string; duration?: string; requests?: number; requests_per_worker?: number;
    stages?: { duration: string; target: number }[]; max_duration?: string;
    [k: string]: unknown;
  };
  workers?: number;
  [k: string]: unknown;
}

export interface WorkerPoint { requests: number; errors: number; rps: number; p99_ms: number }

export interface Point {
  second: number; t: number; requests: number; rps: number; errors: number;
  error_kinds?: Record<string, number>; status_codes?: Record<string, number>;
  late?: number; latency_ms: Latency; workers?: Record<string, WorkerPoint>; gap?: boolean; paused?: boolean;
  // others sums the workers beyond the top ones kept per point; partial marks
  // the run's last, shorter second (seconds long)
  others?: WorkerPoint; other_workers?: number; partial?: boolean; seconds?: number;
}

export interface FieldError { field: string; problem: string }

export type ClusterMsg = {
  type: "cluster"; cluster: Cluster; workers: WorkerInfo[]; tests: TestListItem[];
};
export type TestMsg =
  | { type: "snapshot"; test: TestDetail; points: Point[] | null }
  | { type: "update"; test: TestDetail; point?: Point | null }
  | { type: "final"; test: TestDetail };

// ApiError is a non-2xx answer: the server's message and, for a spec, the
// fields it names.
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly fields: FieldError[] = []) {
    super(message);
  }
}

const base = "api/v1";

async function call<T>(method: string, path: string, body?: string, contentType?: string): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: "application/json", ...authHeaders() } };
  if (body !== undefined) {
    init.body = body;
    (init.headers as Record<string, string>)["Content-Type"] = contentType ?? "application/json";
  }
  let resp: Response;
  try {
    resp = await fetch(`${base}/${path}`, init);
  } catch (e) {
    throw new ApiError(0, `master unreachable: ${(e as Error).message}`);
  }
  const text = await resp.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (resp.status === 401) logout("The master refused the token: log in again.");
  if (!resp.ok) {
    const d = (data ?? {}) as { error?: string; fields?: FieldError[] };
    throw new ApiError(resp.status, d.error ?? (text.trim() || `HTTP ${resp.status}`), d.fields ?? []);
  }
  return data as T;
}

export const api = {
  cluster: () => call<Cluster>("GET", "cluster"),
  workers: () => call<WorkerInfo[]>("GET", "workers"),
  tests: () => call<TestListItem[]>("GET", "tests"),
  test: (id: string) => call<TestDetail>("GET", `tests/${encodeURIComponent(id)}`),
  timeline: (id: string) =>
    call<{ id: string; points: Point[] | null; events?: LiveChange[] | null }>("GET", `tests/${encodeURIComponent(id)}/timeline`),
  patch: (id: string, load: LoadPatch) =>
    call<{ id: string; change?: LiveChange; ask?: string }>("PATCH", `tests/${encodeURIComponent(id)}`, JSON.stringify({ load })),
  pause: (id: string) => call<{ id: string; change?: LiveChange; ask?: string }>("POST", `tests/${encodeURIComponent(id)}/pause`),
  resume: (id: string) => call<{ id: string; change?: LiveChange; ask?: string }>("POST", `tests/${encodeURIComponent(id)}/resume`),
  create: (body: string, yaml: boolean) =>
    call<{ id: string }>("POST", "tests", body, yaml ? "application/yaml" : "application/json"),
  stop: (id: string) => call<{ id: string; phase: string }>("POST", `tests/${encodeURIComponent(id)}/stop`),
  rerun: (id: string) => call<{ id: string; rerun_of: string }>("POST", `tests/${encodeURIComponent(id)}/rerun`),
  compare: (base: string, head: string) =>
    call<Comparison>("GET", `tests/compare?base=${encodeURIComponent(base)}&head=${encodeURIComponent(head)}`),
  // exportBlob fetches one export with the token (a plain link could not
  // send it) for a download.
  exportBlob: async (id: string, kind: string): Promise<Blob> => {
    const resp = await fetch(`${base}/tests/${encodeURIComponent(id)}/${kind}`, { headers: authHeaders() });
    if (!resp.ok) throw new ApiError(resp.status, `HTTP ${resp.status}`);
    return resp.blob();
  },
};

// Feed keeps one websocket open to path, reopening it (with back-off) when it
// drops until close() is called. onMessage gets every parsed message;
// onState tells whether the feed is currently connected. A feed whose server
// closed it normally (a finished test) is not reopened.
export class Feed<M> {
  private ws: WebSocket | null = null;
  private closed = false;
  private retry = 0;
  private timer: number | undefined;

  constructor(
    private readonly path: string,
    private readonly onMessage: (m: M) => void,
    private readonly onState: (connected: boolean) => void = () => {},
  ) {
    this.open();
  }

  private open(): void {
    const url = new URL(`${base}/${this.path}`, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url, websocketProtocols());
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.onState(true);
    };
    ws.onmessage = (ev) => {
      let m: M;
      try {
        m = JSON.parse(ev.data as string) as M;
      } catch {
        return;
      }
      this.onMessage(m);
    };
    ws.onclose = (ev) => {
      this.ws = null;
      this.onState(false);
      if (this.closed || ev.code === 1000) return;
      const delay = Math.min(5000, 500 * 2 ** this.retry++);
      this.timer = window.setTimeout(() => this.open(), delay);
    };
  }

  close(): void {
    this.closed = true;
    window.clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
  }
}
