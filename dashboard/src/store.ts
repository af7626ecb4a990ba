// The cluster feed, shared by every view: masters, workers and recent tests,
// kept current by GET /api/v1/live and refreshed over REST when the feed is
// down.

import { api, Cluster, ClusterMsg, Feed, TestListItem, WorkerInfo } from "./api";

export interface ClusterState {
  cluster: Cluster | null;
  workers: WorkerInfo[];
  tests: TestListItem[];
  connected: boolean;
  error: string;
}

type Listener = (s: ClusterState) => void;

const state: ClusterState = { cluster: null, workers: [], tests: [], connected: false, error: "" };
const listeners = new Set<Listener>();
let feed: Feed<ClusterMsg> | null = null;
let poll: number | undefined;

function emit(): void {
  for (const l of listeners) l(state);
}

// refresh reads the cluster over REST (used while the feed is down).
export async function refresh(): Promise<void> {
  try {
    const [cluster, workers, tests] = await Promise.all([api.cluster(), api.workers(), api.tests()]);
    Object.assign(state, { cluster, workers: workers ?? [], tests: tests ?? [], error: "" });
  } catch (e) {
    state.error = (e as Error).message;
  }
  emit();
}

// start opens the cluster feed once.
export function start(): void {
  if (feed) return;
  feed = new Feed<ClusterMsg>("live", (m) => {
    if (m.type !== "cluster") return;
    Object.assign(state, {
      cluster: m.cluster, workers: m.workers ?? [], tests: m.tests ?? [], error: "",
    });
    emit();
  }, (connected) => {
    state.connected = connected;
    window.clearInterval(poll);
    if (!connected) {
      void refresh();
      poll = window.setInterval(() => void refresh(), 3000);
    }
    emit();
  });
}

// stop closes the cluster feed (after a logout); start opens it again.
export function stop(): void {
  feed?.close();
  feed = null;
  window.clearInterval(poll);
  Object.assign(state, { cluster: null, workers: [], tests: [], connected: false, error: "" });
  emit();
}

// subscribe calls l now and on every change until the returned function is called.
export function subscribe(l: Listener): () => void {
  listeners.add(l);
  l(state);
  return () => listeners.delete(l);
}

export function current(): ClusterState {
  return state;
}
