// Bundles test/*.test.ts for node's test runner (npm test).
import * as esbuild from "esbuild";
import { readdirSync, rmSync } from "node:fs";

rmSync(".test-build", { recursive: true, force: true });
await esbuild.build({
  entryPoints: readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`),
  bundle: true,
  platform: "node",
  format: "esm",
  outdir: ".test-build",
  outExtension: { ".js": ".mjs" },
  logLevel: "warning",
});
