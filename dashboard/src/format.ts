// Number formatting: every number the page shows carries its unit.

const intFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

// count formats an integer count: 1,234,567.
export function count(n: number | undefined | null): string {
  return n == null || !isFinite(n) ? "–" : intFmt.format(n);
}

// countUnit formats a count with its unit: "1,234 req".
export function countUnit(n: number | undefined | null, unit: string): string {
  return n == null || !isFinite(n) ? "–" : `${count(n)} ${unit}`;
}

// sig keeps about three significant digits.
function sig(n: number): string {
  const a = Math.abs(n);
  if (a === 0) return "0";
  if (a >= 1000) return intFmt.format(n);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

// rps formats a rate: "1,234 req/s".
export function rps(n: number | undefined | null): string {
  return n == null || !isFinite(n) ? "–" : `${sig(n)} req/s`;
}

// ms formats a latency given in milliseconds, switching to µs or s where
// that reads better: "850 µs", "12.3 ms", "1.20 s".
export function ms(n: number | undefined | null): string {
  if (n == null || !isFinite(n)) return "–";
  if (n === 0) return "0 ms";
  if (Math.abs(n) < 1) return `${sig(n * 1000)} µs`;
  if (Math.abs(n) >= 1000) return `${sig(n / 1000)} s`;
  return `${sig(n)} ms`;
}

// seconds formats a duration in seconds: "45 s", "2 min 05 s", "1 h 02 min".
export function seconds(s: number | undefined | null): string {
  if (s == null || !isFinite(s)) return "–";
  const neg = s < 0;
  let t = Math.round(Math.abs(s));
  const h = Math.floor(t / 3600);
  t -= h * 3600;
  const m = Math.floor(t / 60);
  const sec = t - m * 60;
  let out: string;
  if (h > 0) out = `${h} h ${String(m).padStart(2, "0")} min`;
  else if (m > 0) out = `${m} min ${String(sec).padStart(2, "0")} s`;
  else out = `${sec} s`;
  return neg ? `-${out}` : out;
}

// preciseSeconds keeps decimals for short durations: "2.35 s".
export function preciseSeconds(s: number | undefined | null): string {
  if (s == null || !isFinite(s)) return "–";
  return s < 60 ? `${sig(s)} s` : seconds(s);
}

// percent formats a ratio in [0,1]: "0.52 %".
export function percent(ratio: number): string {
  if (!isFinite(ratio)) return "–";
  return `${sig(ratio * 100)} %`;
}

// bytes formats a byte count: "12.3 MB".
export function bytes(n: number | undefined | null): string {
  if (n == null || !isFinite(n)) return "–";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? intFmt.format(v) : sig(v)} ${units[i]}`;
}

// time formats an RFC 3339 timestamp in the browser's time zone.
export function time(iso: string | undefined | null): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (isNaN(d.getTime()) || d.getFullYear() < 2000) return "–";
  return d.toLocaleString(undefined, {
    month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

// parseDuration reads a Go duration string ("1m30s", "500ms") as seconds.
export function parseDuration(d: string | undefined | null): number {
  if (!d) return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(d)) !== null) total += parseFloat(m[1]) * unit[m[2]];
  return total;
}

// percentileLabel names a percentile: "p99.9", "max".
export function percentileLabel(p: number): string {
  if (p >= 100) return "max";
  return `p${Number(p.toPrecision(8))}`;
}
