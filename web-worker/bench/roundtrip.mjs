// Browser figures for benchmarks/RESULTS.md, in headless Chromium:
//   - page -> worker actor -> page round trip of a 64-byte kv get on the
//     memory binding, next to a bare postMessage echo worker in the same page
//     (p50 and p99 over batches of 20 sequential calls: the page's clock
//     ticks in 100 µs steps);
//   - the .wasm size, raw and gzipped.
// Usage: node web-worker/bench/roundtrip.mjs [--calls N] [--json]
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { startBrowser, BUILD_WEB } from "../tests/browser_harness.mjs";

const args = process.argv.slice(2);
const calls = Number(args[args.indexOf("--calls") + 1]) || 3000;
const json = args.includes("--json");

const wasm = readFileSync(`${BUILD_WEB}/cloudkit_core.wasm`);
const harness = await startBrowser();
try {
  const page = await harness.newPage();
  const figures = await page.evaluate(async (calls) => {
    const percentile = (samples, p) => {
      const sorted = [...samples].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    };
    // Pages without cross-origin isolation get a 100 µs timer, so each sample
    // is the mean of a batch of sequential round trips.
    const BATCH = 20;
    // The two paths alternate batch by batch, so both see the same machine.
    const measure = async (paths) => {
      for (const once of paths) for (let i = 0; i < Math.min(500, calls); ++i) await once();  // warm up
      const samples = paths.map(() => []);
      for (let i = 0; i < calls; i += BATCH) {
        for (let p = 0; p < paths.length; ++p) {
          const start = performance.now();
          for (let j = 0; j < BATCH; ++j) await paths[p]();
          samples[p].push(((performance.now() - start) * 1000) / BATCH);
        }
      }
      return samples.map((s) => ({ p50: percentile(s, 0.5), p99: percentile(s, 0.99) }));
    };
    // The barest echo: structured clone both ways (transferring a 64-byte
    // buffer is ~10 µs slower in Chromium, which would flatter the ratio).
    const echoSource = "onmessage = (e) => postMessage(e.data);";
    const echo = new Worker(URL.createObjectURL(new Blob([echoSource], { type: "text/javascript" })));
    const echoOnce = () => new Promise((resolve) => {
      echo.onmessage = () => resolve();
      echo.postMessage({ bytes: new Uint8Array(64) });
    });
    const { CloudKit } = await import("/web/cloudkit.js");
    const ck = await CloudKit.start({ workers: 2 });
    await ck.kv.put("bench", "key", new Uint8Array(64));
    const [bare, actor] = await measure([echoOnce, () => ck.kv.get("bench", "key")]);
    await ck.stop();
    echo.terminate();
    return { bare, actor };
  }, calls);
  const result = {
    calls,
    wasm_bytes: wasm.length,
    wasm_gzip_bytes: gzipSync(wasm, { level: 9 }).length,
    echo_p50_us: figures.bare.p50, echo_p99_us: figures.bare.p99,
    kv_get_p50_us: figures.actor.p50, kv_get_p99_us: figures.actor.p99,
    p50_ratio: figures.actor.p50 / figures.bare.p50,
  };
  if (json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const us = (v) => `${v.toFixed(0)} µs`;
    console.log(`wasm: ${result.wasm_bytes} bytes, ${result.wasm_gzip_bytes} gzipped (targets 1.5 MB, 500 KB)`);
    console.log(`bare postMessage echo: p50 ${us(result.echo_p50_us)}, p99 ${us(result.echo_p99_us)}`);
    console.log(`kv get via worker actor: p50 ${us(result.kv_get_p50_us)}, p99 ${us(result.kv_get_p99_us)}`);
    console.log(`p50 ratio: ${result.p50_ratio.toFixed(2)}x (target <= 2x)`);
  }
} finally {
  await harness.close();
}
