// Where a spec field error belongs: the form field that owns a dotted spec
// path, and the editor line that holds it (no DOM).

// Form field → the spec fields (dotted JSON paths) whose errors it shows.
export const fieldOwners: Record<string, string[]> = {
  name: ["name"],
  url: ["request.url", "request"],
  method: ["request.method"],
  timeout: ["request.timeout"],
  model: ["load.model", "load"],
  rate: ["load.rate", "load.rate_per_worker", "load.start_rate"],
  concurrency: ["load.concurrency"],
  delay: ["load.delay"],
  stages: ["load.stages"],
  duration: ["load.duration", "load.max_duration"],
  requests: ["load.requests", "load.requests_per_worker"],
  workers: ["workers"],
};

// owner finds the form field for a spec field: the longest owned path that
// is the field or a prefix of it at a '.' or '[' boundary.
export function owner(field: string): string | null {
  let best: string | null = null;
  let bestLen = -1;
  for (const [input, paths] of Object.entries(fieldOwners)) {
    for (const p of paths) {
      const hit = field === p || field.startsWith(p + ".") || field.startsWith(p + "[");
      if (hit && p.length > bestLen) {
        best = input;
        bestLen = p.length;
      }
    }
  }
  return best;
}

// lineOf finds the editor line that holds the last key of a dotted field
// ("load.burst" → the line with "burst": or burst:), for JSON and YAML,
// block or flow style ("token: {jsonpath: ...}" holds jsonpath).
export function lineOf(text: string, field: string): { n: number; start: number; end: number } | null {
  const key = field.replace(/\[\d+\]$/, "").split(".").pop()?.replace(/\[\d+\]/g, "");
  if (!key) return null;
  const esc = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`(^\\s*(-\\s*)?|[{,]\\s*)("${esc}"|'${esc}'|${esc})\\s*:`);
  let start = 0;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (re.test(lines[i]) || lines[i].includes(`"${key}":`)) return { n: i + 1, start, end: start + lines[i].length };
    start += lines[i].length + 1;
  }
  return null;
}
