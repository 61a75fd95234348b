// Browser figure for benchmarks/RESULTS.md, in headless Chromium: key-value
// puts and gets on an IndexedDB `local` binding through the bundle, many in
// flight on one worker, against raw IndexedDB puts and gets of the same values
// from the same page; and the bundle's conditional puts (ifAbsent, which
// check what they read inside their write transaction). Both sides keep the same number of puts in flight (a sliding window)
// and make each put durable the same way: one readwrite transaction with
// durability "strict" per put (what the bundle's storage port does for each
// write). Rounds alternate between the two paths (which goes first
// alternates too) and each figure is the median of the rounds' throughputs.
// Usage: node web-worker/bench/local_puts.mjs [--puts N] [--size BYTES]
//          [--inflight N] [--rounds N] [--json]
import { startBrowser } from "../tests/browser_harness.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const params = {
  puts: option("--puts", 2000), size: option("--size", 1024),
  inflight: option("--inflight", 64), rounds: option("--rounds", 5),
};
const json = args.includes("--json");

const harness = await startBrowser();
try {
  const page = await harness.newPage();
  const figures = await page.evaluate(async ({ puts, size, inflight, rounds }) => {
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    // Runs put(i) for i < puts with `inflight` of them at once; puts per second.
    const window = async (put) => {
      let next = 0;
      const lane = async () => { while (next < puts) await put(next++); };
      const start = performance.now();
      await Promise.all(Array.from({ length: inflight }, lane));
      return puts / ((performance.now() - start) / 1000);
    };
    const value = new Uint8Array(size).map((_, i) => i % 251);
    const stamp = Date.now();

    // Raw IndexedDB, from the page: the same layout as the bundle's store.
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(`bench-raw-${stamp}`, 1);
      request.onupgradeneeded = () => request.result.createObjectStore("entries");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const encoder = new TextEncoder();
    const rawPut = (round) => (i) => new Promise((resolve, reject) => {
      const tx = db.transaction("entries", "readwrite", { durability: "strict" });
      tx.objectStore("entries").put(value.slice().buffer, encoder.encode(`r${round}/k${i}`).buffer);
      tx.oncomplete = resolve;
      tx.onabort = tx.onerror = () => reject(tx.error);
    });
    const rawGet = (round) => (i) => new Promise((resolve, reject) => {
      const request = db.transaction("entries").objectStore("entries").get(encoder.encode(`r${round}/k${i}`).buffer);
      request.onsuccess = () => (request.result ? resolve() : reject(new Error(`r${round}/k${i} missing`)));
      request.onerror = () => reject(request.error);
    });

    const { CloudKit } = await import("/web/cloudkit.js");
    const ck = await CloudKit.start({ workers: 1, bindings: [{ name: "default", provider: "local", options: { path: `bench-${stamp}` } }] });
    const bundlePut = (round) => (i) => ck.kv.put(`r${round}`, `k${i}`, value);
    const bundleGet = (round) => (i) => ck.kv.get(`r${round}`, `k${i}`);
    const bundlePutIfAbsent = (round) => (i) => ck.kv.put(`a${round}`, `k${i}`, value, { ifAbsent: true });
    await window(bundlePut("warm"));  // opens the database, claims the generation, warms the JIT
    await window(rawPut("warm"));

    const raw = [], bundle = [], rawGets = [], bundleGets = [], ifAbsent = [];
    for (let round = 0; round < rounds; ++round) {
      const pair = [[raw, rawPut(round)], [bundle, bundlePut(round)]];
      const gets = [[rawGets, rawGet(round)], [bundleGets, bundleGet(round)]];
      for (const [into, put] of round % 2 === 0 ? pair : pair.reverse()) into.push(await window(put));
      for (const [into, get] of round % 2 === 0 ? gets : gets.reverse()) into.push(await window(get));
      ifAbsent.push(await window(bundlePutIfAbsent(round)));
    }
    await ck.stop();
    db.close();
    return { raw: median(raw), bundle: median(bundle), rawRounds: raw, bundleRounds: bundle,
             rawGets: median(rawGets), bundleGets: median(bundleGets), ifAbsent: median(ifAbsent) };
  }, params);
  const result = {
    ...params,
    raw_idb_puts_per_s: figures.raw, bundle_local_puts_per_s: figures.bundle,
    ratio: figures.bundle / figures.raw,
    raw_rounds: figures.rawRounds.map(Math.round), bundle_rounds: figures.bundleRounds.map(Math.round),
    raw_idb_gets_per_s: figures.rawGets, bundle_local_gets_per_s: figures.bundleGets,
    get_ratio: figures.bundleGets / figures.rawGets, bundle_local_puts_if_absent_per_s: figures.ifAbsent,
  };
  if (json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.log(`${params.puts} puts of ${params.size} B, ${params.inflight} in flight, median of ${params.rounds} rounds`);
    console.log(`raw IndexedDB (page, strict): ${result.raw_idb_puts_per_s.toFixed(0)} puts/s  ${JSON.stringify(result.raw_rounds)}`);
    console.log(`bundle local kv put (1 worker): ${result.bundle_local_puts_per_s.toFixed(0)} puts/s  ${JSON.stringify(result.bundle_rounds)}`);
    console.log(`ratio: ${result.ratio.toFixed(2)}x (target >= 0.9x)`);
    console.log(`raw IndexedDB gets (page): ${result.raw_idb_gets_per_s.toFixed(0)} gets/s`);
    console.log(`bundle local kv get (1 worker): ${result.bundle_local_gets_per_s.toFixed(0)} gets/s  ratio ${result.get_ratio.toFixed(2)}x`);
    console.log(`bundle local kv put ifAbsent (1 worker): ${result.bundle_local_puts_if_absent_per_s.toFixed(0)} puts/s`);
  }
} finally {
  await harness.close();
}
