// Bundles src/ into dist/ (app.js, app.css, index.html). Run by `make dashboard`.
// The output is committed and embedded in the master binary (embed.go).
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist", { recursive: true });
await esbuild.build({
  entryPoints: { app: "src/main.ts" },
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["es2020", "chrome100", "firefox100"],
  format: "iife",
  outdir: "dist",
  legalComments: "eof",
  logLevel: "info",
});
copyFileSync("src/index.html", "dist/index.html");
