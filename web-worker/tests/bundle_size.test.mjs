// The worker bundle's size budget: what a web app downloads before its first
// call. The .wasm must stay within 1.5 MB, and 500 KB once gzipped (as a web
// server would send it), so a change that grows it fails here instead of
// going unnoticed. Reads the bundle scripts/build-web.sh wrote
// (CLOUDKIT_WEB_DIR, default build/web).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gzipSync, constants } from "node:zlib";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = process.env.CLOUDKIT_WEB_DIR ?? path.join(here, "../../build/web");
const kWasmBudget = 1_500_000;
const kGzippedBudget = 500_000;

test("bundle size: the worker's .wasm is within its budget, plain and gzipped", () => {
  const wasm = readFileSync(path.join(webDir, "cloudkit_core.wasm"));
  const gzipped = gzipSync(wasm, { level: constants.Z_BEST_COMPRESSION }).length;
  console.log(`cloudkit_core.wasm: ${wasm.length} bytes, ${gzipped} gzipped`);
  assert.ok(wasm.length <= kWasmBudget, `cloudkit_core.wasm is ${wasm.length} bytes, over its ${kWasmBudget} budget`);
  assert.ok(gzipped <= kGzippedBudget, `cloudkit_core.wasm is ${gzipped} bytes gzipped, over its ${kGzippedBudget} budget`);
});
