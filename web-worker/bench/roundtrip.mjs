// Browser figures for benchmarks/RESULTS.md, in headless Chromium:
//   - page -> worker actor -> page round trip of a 64-byte kv get on the
//     memory binding, next to a bare postMessage echo worker in the same page.
//     The page is cross-origin isolated (COOP/COEP from the bench's server) so
//     that it reads a 5 µs clock: every round trip is timed on its own, and
//     the two paths alternate call by call (which goes first alternates too),
//     so both see the same machine. p50/p99 are of single round trips.
//     For comparison with earlier figures it also reports the older method:
//     medians of batch means (20 sequential calls per batch, paths alternating
//     batch by batch), which is all a 100 µs clock allows;
//   - the .wasm size, raw and gzipped.
// Usage: node web-worker/bench/roundtrip.mjs [--calls N] [--json]
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { startBrowser, BUILD_WEB } from "../tests/browser_harness.mjs";

const args = process.argv.slice(2);
const calls = Number(args[args.indexOf("--calls") + 1]) || 5000;
const json = args.includes("--json");

const wasm = readFileSync(`${BUILD_WEB}/cloudkit_core.wasm`);
const harness = await startBrowser({ crossOriginIsolated: true });
try {
  const page = await harness.newPage();
  const figures = await page.evaluate(async (calls) => {
    if (!crossOriginIsolated) throw new Error("the bench page is not cross-origin isolated: its clock is too coarse");
    const percentile = (samples, p) => {
      const sorted = [...samples].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    };
    const summary = (samples) => ({ p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) });
    const us = (ms) => ms * 1000;
    const perCall = async (paths) => {
      const samples = paths.map(() => []);
      for (let i = 0; i < calls; ++i) {
        for (let k = 0; k < paths.length; ++k) {
          const p = (i + k) % paths.length;
          const start = performance.now();
          await paths[p]();
          samples[p].push(us(performance.now() - start));
        }
      }
      return samples.map(summary);
    };
    const BATCH = 20;
    const batchMeans = async (paths) => {
      const samples = paths.map(() => []);
      for (let i = 0; i < calls; i += BATCH) {
        for (let p = 0; p < paths.length; ++p) {
          const start = performance.now();
          for (let j = 0; j < BATCH; ++j) await paths[p]();
          samples[p].push(us(performance.now() - start) / BATCH);
        }
      }
      return samples.map(summary);
    };
    // The barest echo: a 64-byte Uint8Array structured-cloned both ways (a
    // transfer is slower for small buffers, which would flatter the ratio),
    // read on arrival as the page reads its replies.
    const echoSource = "onmessage = (e) => postMessage(e.data);";
    const echo = new Worker(URL.createObjectURL(new Blob([echoSource], { type: "text/javascript" })));
    const echoOnce = () => new Promise((resolve) => {
      echo.onmessage = ({ data }) => resolve(data.length);
      echo.postMessage(new Uint8Array(64));
    });
    const { CloudKit } = await import("/web/cloudkit.js");
    const ck = await CloudKit.start({ workers: 2 });
    await ck.kv.put("bench", "key", new Uint8Array(64));
    const paths = [echoOnce, () => ck.kv.get("bench", "key")];
    for (const once of paths) for (let i = 0; i < 1000; ++i) await once();  // warm up
    const [bare, actor] = await perCall(paths);
    const [bareBatch, actorBatch] = await batchMeans(paths);
    await ck.stop();
    echo.terminate();
    return { bare, actor, bareBatch, actorBatch };
  }, calls);
  const result = {
    calls,
    wasm_bytes: wasm.length,
    wasm_gzip_bytes: gzipSync(wasm, { level: 9 }).length,
    echo_p50_us: figures.bare.p50, echo_p99_us: figures.bare.p99,
    kv_get_p50_us: figures.actor.p50, kv_get_p99_us: figures.actor.p99,
    p50_ratio: figures.actor.p50 / figures.bare.p50,
    p99_ratio: figures.actor.p99 / figures.bare.p99,
    batch_echo_p50_us: figures.bareBatch.p50, batch_kv_get_p50_us: figures.actorBatch.p50,
    batch_p50_ratio: figures.actorBatch.p50 / figures.bareBatch.p50,
  };
  if (json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const us = (v) => `${v.toFixed(0)} µs`;
    console.log(`wasm: ${result.wasm_bytes} bytes, ${result.wasm_gzip_bytes} gzipped (targets 1.5 MB, 500 KB)`);
    console.log(`bare postMessage echo: p50 ${us(result.echo_p50_us)}, p99 ${us(result.echo_p99_us)}`);
    console.log(`kv get via worker actor: p50 ${us(result.kv_get_p50_us)}, p99 ${us(result.kv_get_p99_us)}`);
    console.log(`p50 ratio: ${result.p50_ratio.toFixed(2)}x (target <= 2x); p99 ratio ${result.p99_ratio.toFixed(2)}x`);
    console.log(`older method (medians of 20-call batch means): echo ${us(result.batch_echo_p50_us)}, ` +
                `kv get ${us(result.batch_kv_get_p50_us)}, ratio ${result.batch_p50_ratio.toFixed(2)}x`);
  }
} finally {
  await harness.close();
}
