// Bundles src/ into dist/ (app.js, app.css, index.html). Run by `make dashboard`.
// The output is committed and embedded in the master binary (embed.go).
// With --check it builds into .check-build/ instead and fails if dist/ differs,
// i.e. if someone changed src/ without rebuilding (make dashboard-test).
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";

const check = process.argv.includes("--check");
const out = check ? ".check-build" : "dist";

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: { app: "src/main.ts" },
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["es2020", "chrome100", "firefox100"],
  format: "iife",
  outdir: out,
  legalComments: "eof",
  logLevel: check ? "warning" : "info",
});
copyFileSync("src/index.html", `${out}/index.html`);

if (check) {
  const names = (d) => readdirSync(d).sort().join(" ");
  let stale = names(out) !== names("dist") ? [`files: ${names("dist")} ≠ ${names(out)}`] : [];
  for (const f of readdirSync(out)) {
    let committed = null;
    try {
      committed = readFileSync(`dist/${f}`);
    } catch {
      /* reported by the names check */
    }
    if (committed && !committed.equals(readFileSync(`${out}/${f}`))) stale.push(f);
  }
  rmSync(out, { recursive: true, force: true });
  if (stale.length) {
    console.error(`dashboard/dist is stale (${stale.join(", ")}): run \`make dashboard\` and commit dist/`);
    process.exit(1);
  }
  console.log("dashboard/dist matches src/");
}
