// The worker bundle in headless Chromium: the provider conformance suite (the
// native suite's cases compiled to wasm) on memory and IndexedDB, the JS API
// on both providers, persistence across a reload, a 100 MiB streamed blob
// checked by hash, a worker killed mid-request, and bad input from JS; and
// the providers of remote services over fetch, each against a real emulator
// on another origin (CORS): `s3` on s3rver and `azure` on Azurite, the
// conformance suite and the JS API.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { BUILD_WEB, startBrowser } from "./browser_harness.mjs";
import { serve } from "./static_server.mjs";
import { AZURITE_CREDENTIALS, startAzurite } from "./azurite.mjs";
import { EMULATORS_DIR } from "./node_emulator.mjs";
import { S3RVER_CREDENTIALS, startS3rver } from "./s3rver.mjs";

let harness;
before(async () => { harness = await startBrowser(); });
after(async () => { await harness?.close(); });

describe("conformance in the browser", () => {
  test("every conformance case passes on memory and IndexedDB local, and the HTTP, hash and sleep ports work", { timeout: 600_000 }, async () => {
    const page = await harness.newPage();
    const { exitCode, lines } = await page.evaluate(() => new Promise((resolve) => {
      const lines = [];
      const worker = new Worker("/web-tests/wasm_tests_worker.js", { type: "module" });
      worker.onmessage = ({ data }) => {
        if (data.line !== undefined) lines.push(data.line);
        if (data.exitCode !== undefined) resolve({ exitCode: data.exitCode, lines });
      };
      worker.onerror = (e) => resolve({ exitCode: -1, lines: [...lines, `worker error: ${e.message}`] });
    }));
    const summary = lines.filter((l) => /^\[  (PASSED|FAILED|SKIPPED) |tests ran|fan-out/.test(l));
    console.log(summary.join("\n"));
    assert.equal(exitCode, 0, lines.filter((l) => /Failure|FAILED|error/.test(l)).join("\n"));
    assert.ok(lines.some((l) => /Providers\/KeyValueConformance.*\/local/.test(l)), "local cases ran");
    assert.ok(lines.some((l) => /OK \] Providers\/QueueLongPoll\..*\/local/.test(l)), "queue long poll cases ran on IndexedDB");
    assert.ok(lines.some((l) => /OK \] Providers\/SecretsConformance\.KeepsTheLatestHundredVersions\/memory/.test(l)), "secrets cases ran");
    assert.ok(lines.some((l) => /OK \] Providers\/PubSubStream\..*\/local/.test(l)), "pub/sub stream cases ran on IndexedDB");
    assert.ok(lines.some((l) => /OK \] Providers\/SecretsConformance\.AProviderWithoutSecretsRefusesEveryCall\/local/.test(l)), "local refuses secrets");
    assert.ok(lines.some((l) => /OK \] IndexedDbStoragePortTest\./.test(l)), "storage port cases ran");
    assert.ok(lines.some((l) => /OK \] FetchHttpClientTest\./.test(l)), "HTTP port cases ran");
    assert.ok(lines.some((l) => /OK \] JsHashPortTest\.SignsAwsRequests/.test(l)), "hash port cases ran");
    assert.ok(lines.some((l) => /OK \] JsSleepPortTest\.SleepsInFlightWake/.test(l)), "sleep port cases ran");
    assert.ok(lines.some((l) => /OK \] FetchHttpClientTest\.DropsHeadersTheBrowserSets/.test(l)), "forbidden headers case ran");
    await page.context().close();
  });
});

for (const provider of ["memory", "local"]) {
  describe(`JS API on ${provider}`, () => {
    test("objects and items round trip with the daemon's semantics", async () => {
      const page = await harness.newPage();
      const result = await page.evaluate(async (provider) => {
        const { CloudKit } = await import("/web/cloudkit.js");
        const ck = await CloudKit.start({ workers: 2, bindings: [{ name: "default", provider, options: provider === "local" ? { path: `api-${Date.now()}` } : {} }] });
        const out = {};
        await ck.storage.createBucket("docs");
        const put = await ck.storage.putObject("docs", "notes/a.txt", "hello world", { contentType: "text/plain", metadata: { owner: "ada" } });
        out.etag = put.etag;
        const got = await ck.storage.getObject("docs", "notes/a.txt", { range: { start: 6, length: 5 } });
        out.range = await new Response(got.body).text();
        out.head = await ck.storage.headObject("docs", "notes/a.txt");
        await ck.storage.copyObject("docs", "notes/a.txt", "docs", "notes/b.txt");
        const listed = await ck.storage.listObjects("docs", { prefix: "notes/", delimiter: "/" });
        out.keys = listed.objects.map((o) => o.key);
        const top = await ck.storage.listObjects("docs", { delimiter: "/" });
        out.prefixes = top.commonPrefixes;
        try { await ck.storage.deleteBucket("docs"); } catch (e) { out.deleteBucket = e.codeName; }
        try { await ck.storage.getObject("docs", "missing.txt"); } catch (e) { out.missing = `${e.codeName}: ${e.message}`; }
        const first = await ck.kv.put("users", "ada", "v1", { ifAbsent: true });
        try { await ck.kv.put("users", "ada", "v2", { ifAbsent: true }); } catch (e) { out.ifAbsent = e.codeName; }
        await ck.kv.put("users", "ada", "v2", { ifMatch: first.etag });
        try { await ck.kv.put("users", "ada", "v3", { ifMatch: first.etag }); } catch (e) { out.ifMatch = e.codeName; }
        out.value = new TextDecoder().decode((await ck.kv.get("users", "ada")).value);
        await ck.kv.batchPut("users", [{ key: "bob", value: "b" }, { key: "cy", value: "c", ttlMs: 60000 }]);
        const batch = await ck.kv.batchGet("users", ["cy", "nobody", "bob"]);
        out.batch = [batch.items.map((i) => i.key), batch.missing];
        out.list = (await ck.kv.list("users", { pageSize: 2 })).items.map((i) => i.key);
        out.deleted = await ck.kv.delete("users", "bob");
        out.exists = await ck.kv.exists("users", "bob");
        await ck.stop();
        return out;
      }, provider);
      assert.equal(result.etag, '"5eb63bbbe01eeed093cb22bb8f5acdc3"');
      assert.equal(result.range, "world");
      assert.equal(result.head.contentType, "text/plain");
      assert.equal(result.head.metadata.owner, "ada");
      assert.deepEqual(result.keys, ["notes/a.txt", "notes/b.txt"]);
      assert.deepEqual(result.prefixes, ["notes/"]);
      assert.equal(result.deleteBucket, "FAILED_PRECONDITION");
      assert.equal(result.missing, "NOT_FOUND: not found: object 'missing.txt' in bucket 'docs'");
      assert.equal(result.ifAbsent, "ALREADY_EXISTS");
      assert.equal(result.ifMatch, "FAILED_PRECONDITION");
      assert.equal(result.value, "v2");
      assert.deepEqual(result.batch, [["cy", "bob"], ["nobody"]]);
      assert.deepEqual(result.list, ["ada", "bob"]);
      assert.equal(result.deleted, true);
      assert.equal(result.exists, false);
      await page.context().close();
    });

    test("queues: a long poll woken by a send, redelivery, dead letters, FIFO order", async () => {
      const page = await harness.newPage();
      const result = await page.evaluate(async (provider) => {
        const { CloudKit } = await import("/web/cloudkit.js");
        const ck = await CloudKit.start({ workers: 2, bindings: [{ name: "default", provider, options: provider === "local" ? { path: `queues-${Date.now()}` } : {} }] });
        const text = (bytes) => new TextDecoder().decode(bytes);
        const out = {};
        await ck.queue.create("jobs-dlq");
        await ck.queue.create("jobs", { deadLetterQueue: "jobs-dlq", maxReceives: 2 });
        out.names = (await ck.queue.list()).queues.map((q) => q.name);
        let started = performance.now();
        const waiting = ck.queue.receive("jobs", { waitMs: 10000, visibilityTimeoutMs: 300 });
        await new Promise((resolve) => setTimeout(resolve, 300));
        const sent = await ck.queue.send("jobs", "hello", { attributes: { kind: "greeting" } });
        const [first] = await waiting;
        out.wokenAfterMs = performance.now() - started;
        out.first = [text(first.body), first.attributes.kind, first.receiveCount, first.messageId === sent.messageId];
        // Not acked: it comes back once its 300 ms are over, to a waiting receive.
        started = performance.now();
        const [second] = await ck.queue.receive("jobs", { waitMs: 5000, visibilityTimeoutMs: 300 });
        out.backAfterMs = performance.now() - started;
        out.second = [text(second.body), second.receiveCount];
        try { await ck.queue.ack("jobs", first.receiptHandle); } catch (e) { out.stale = e.codeName; }
        // Received twice: the next try moves it to the dead-letter queue, whose waiter it wakes.
        const dead = ck.queue.receive("jobs-dlq", { waitMs: 5000 });
        out.third = (await ck.queue.receive("jobs", { waitMs: 1000 })).length;
        const [moved] = await dead;
        out.dead = [text(moved.body), moved.messageId === sent.messageId];
        await ck.queue.ack("jobs-dlq", moved.receiptHandle);
        out.depth = await ck.queue.depth("jobs-dlq");
        const dup = await ck.queue.send("jobs", "once", { deduplicationId: "d1" });
        out.dup = (await ck.queue.send("jobs", "once", { deduplicationId: "d1" })).duplicate && !dup.duplicate;
        out.purged = await ck.queue.purge("jobs");
        await ck.queue.create("orders", { fifo: true });
        await ck.queue.sendBatch("orders", [{ body: "m1" }, { body: "m2" }, { body: "m3" }]);
        out.fifo = (await ck.queue.receive("orders", { maxMessages: 10 })).map((m) => text(m.body));
        try { await ck.queue.receive("orders", { waitMs: 20001 }); } catch (e) { out.tooLong = e.codeName; }
        await ck.stop();
        return out;
      }, provider);
      assert.deepEqual(result.names, ["jobs", "jobs-dlq"]);
      assert.ok(result.wokenAfterMs < 5000, `woken by the send after ${result.wokenAfterMs} ms`);
      assert.deepEqual(result.first, ["hello", "greeting", 1, true]);
      assert.deepEqual(result.second, ["hello", 2]);
      assert.ok(result.backAfterMs < 4000, `back after ${result.backAfterMs} ms`);
      assert.equal(result.stale, "FAILED_PRECONDITION");
      assert.equal(result.third, 0);
      assert.deepEqual(result.dead, ["hello", true]);
      assert.deepEqual(result.depth, { visible: 0, inFlight: 0, delayed: 0 });
      assert.equal(result.dup, true);
      assert.equal(result.purged, 1);
      assert.deepEqual(result.fifo, ["m1", "m2", "m3"]);
      assert.equal(result.tooLong, "INVALID_ARGUMENT");
      await page.context().close();
    });

    test("pub/sub: fan-out with a filter, a subscription as an async iterator under credits, redelivery, nack, dead letters", async () => {
      const page = await harness.newPage();
      const result = await page.evaluate(async (provider) => {
        const { CloudKit } = await import("/web/cloudkit.js");
        const ck = await CloudKit.start({ workers: 2, bindings: [{ name: "default", provider, options: provider === "local" ? { path: `pubsub-${Date.now()}` } : {} }] });
        const text = (bytes) => new TextDecoder().decode(bytes);
        const out = {};
        await ck.pubsub.createTopic("orders");
        await ck.pubsub.createTopic("dead");
        await ck.pubsub.createSubscription("graveyard", "dead");
        await ck.pubsub.createSubscription("paid", "orders", { filter: { kind: "paid" } });
        await ck.pubsub.createSubscription("all", "orders");
        out.topics = (await ck.pubsub.listTopics()).topics.map((t) => t.name);
        out.subscriptions = (await ck.pubsub.listSubscriptions("orders")).subscriptions.map((s) => [s.name, s.filter.kind ?? ""]);
        // A stream waiting on the subscription, woken by a publish.
        const stream = ck.pubsub.subscribe("paid");
        const first = stream.next();
        await new Promise((resolve) => setTimeout(resolve, 300));
        const published = await ck.pubsub.publish("orders", "order 7", { attributes: { kind: "paid" } });
        const { value: got } = await first;
        out.published = [published.subscriptions, got.messageId === published.messageId, text(got.body), got.attributes.kind, got.deliveryCount];
        out.acked = (await got.ack()).acked;
        // Window 1: one more message arrives ahead of the consumer, no more.
        await ck.pubsub.publishBatch("orders", [1, 2, 3].map((i) => ({ body: `p${i}`, attributes: { kind: "paid" } })));
        const bodies = [];
        for await (const m of stream) {
          bodies.push(text(m.body));
          await m.ack();
          if (bodies.length === 3) break;  // return(): the call ends
        }
        out.bodies = bodies;
        // Redelivery after the 300 ms ack deadline, a nack (back at once), then the dead-letter subscription.
        await ck.pubsub.createTopic("jobs");
        await ck.pubsub.createSubscription("workers", "jobs", { ackDeadlineMs: 300, deadLetterSubscription: "graveyard", maxDeliveries: 3 });
        await ck.pubsub.publish("jobs", "poison");
        const deliveries = [];
        for await (const m of ck.pubsub.subscribe("workers")) {
          deliveries.push(m.deliveryCount);
          if (deliveries.length === 2) await m.nack();
          if (deliveries.length === 3) break;  // not acked either
        }
        out.deliveries = deliveries;
        // Delivered three times: when it comes back, the next pull moves it to the graveyard.
        const again = ck.pubsub.subscribe("workers");
        const nothing = again.next();
        for await (const m of ck.pubsub.subscribe("graveyard")) {
          out.dead = [text(m.body), m.deliveryCount];
          await m.ack();
          break;
        }
        await again.return();
        out.nothingMore = (await nothing).done;
        try { for await (const m of ck.pubsub.subscribe("nosuch")) break; } catch (e) { out.missing = e.codeName; }
        try { await ck.pubsub.deleteTopic("orders"); } catch (e) { out.inUse = e.codeName; }
        await ck.stop();
        return out;
      }, provider);
      assert.deepEqual(result.topics, ["dead", "orders"]);
      assert.deepEqual(result.subscriptions, [["all", ""], ["paid", "paid"]]);
      assert.deepEqual(result.published, [2, true, "order 7", "paid", 1]);
      assert.equal(result.acked, 1);
      assert.deepEqual(result.bodies, ["p1", "p2", "p3"]);
      assert.equal(result.missing, "NOT_FOUND");
      assert.equal(result.inUse, "FAILED_PRECONDITION");
      assert.deepEqual(result.deliveries, [1, 2, 3]);
      assert.deepEqual(result.dead, ["poison", 1]);
      assert.equal(result.nothingMore, true);
      await page.context().close();
    });

    test(provider === "memory" ? "secrets keep versions, list names and delete, naming the secret in errors"
                               : "secrets are declared unsupported: every call is UNIMPLEMENTED", async () => {
      const page = await harness.newPage();
      const result = await page.evaluate(async (provider) => {
        const { CloudKit } = await import("/web/cloudkit.js");
        const ck = await CloudKit.start({ workers: 1, bindings: [{ name: "default", provider, options: provider === "local" ? { path: `secrets-${Date.now()}` } : {} }] });
        const out = {};
        const code = (promise) => promise.then(() => "OK", (e) => `${e.codeName}: ${e.message}`);
        if (provider === "local") {
          out.refused = [await code(ck.secrets.put("db/password", "s3cret")), await code(ck.secrets.get("db/password")),
                         await code(ck.secrets.list()), await code(ck.secrets.versions("db/password")),
                         await code(ck.secrets.delete("db/password"))];
          await ck.stop();
          return out;
        }
        out.puts = [await ck.secrets.put("db/password", "first-value"), await ck.secrets.put("db/password", new Uint8Array([0, 255]))]
          .map((p) => p.version);
        await ck.secrets.put("api/token", "t");
        const latest = await ck.secrets.get("db/password");
        out.latest = [latest.name, latest.version, Array.from(latest.value)];
        out.first = new TextDecoder().decode((await ck.secrets.get("db/password", { version: 1 })).value);
        const page1 = await ck.secrets.list({ pageSize: 1 });
        const page2 = await ck.secrets.list({ pageSize: 1, continuationToken: page1.nextContinuationToken });
        out.names = [...page1.secrets, ...page2.secrets].map((s) => `${s.name}@${s.latestVersion}`);
        out.versions = (await ck.secrets.versions("db/password")).map((v) => v.version);
        out.deleted = await ck.secrets.delete("db/password");
        out.missing = await code(ck.secrets.get("db/password"));
        out.badName = await code(ck.secrets.put("/abs", "first-value"));
        await ck.stop();
        return out;
      }, provider);
      if (provider === "local") {
        assert.equal(result.refused.length, 5);
        for (const refused of result.refused) assert.match(refused, /^UNIMPLEMENTED: .*secrets on 'local'/);
      } else {
        assert.deepEqual(result.puts, [1, 2]);
        assert.deepEqual(result.latest, ["db/password", 2, [0, 255]]);
        assert.equal(result.first, "first-value");
        assert.deepEqual(result.names, ["api/token@1", "db/password@2"]);
        assert.deepEqual(result.versions, [1, 2]);
        assert.equal(result.deleted, 2);
        assert.equal(result.missing, "NOT_FOUND: not found: secret 'db/password'");
        assert.match(result.badName, /^INVALID_ARGUMENT: .*secret name '\/abs'/);
        assert.doesNotMatch(result.badName, /first-value/);
      }
      await page.context().close();
    });
  });
}

test("local data persists across a page reload", async () => {
  const page = await harness.newPage();
  const start = `CloudKit.start({ workers: 2, bindings: [{ name: "default", provider: "local", options: { path: "reload" } }] })`;
  await page.evaluate(async (start) => {
    const { CloudKit } = await import("/web/cloudkit.js");
    const ck = await eval(start);
    await ck.storage.createBucket("keep");
    await ck.storage.putObject("keep", "file.bin", new Blob([new Uint8Array(700_000).fill(7)]));
    await ck.kv.put("settings", "theme", "dark");
  }, start);
  await page.reload();
  const after = await page.evaluate(async (start) => {
    const { CloudKit } = await import("/web/cloudkit.js");
    const ck = await eval(start);
    const object = await ck.storage.getObject("keep", "file.bin");
    const bytes = new Uint8Array(await object.arrayBuffer());
    return { size: bytes.length, allSevens: bytes.every((b) => b === 7),
             theme: new TextDecoder().decode((await ck.kv.get("settings", "theme")).value) };
  }, start);
  assert.deepEqual(after, { size: 700_000, allSevens: true, theme: "dark" });
  await page.context().close();
});

// Two tabs of one browser (two pages of one context) on one `local` binding
// race on the same names; IndexedDB is shared, the actors are not. Each
// page starts its own CloudKit; `race` runs in both at once.
describe("two tabs on one local binding", () => {
  const ATTEMPTS = 200;
  async function twoTabs(path) {
    const context = await harness.browser.newContext();
    const pages = [await context.newPage(), await context.newPage()];
    for (const page of pages) {
      page.on("pageerror", (error) => console.error("page error:", error.message));
      await page.goto(`${harness.url}/index.html`);
      await page.evaluate(async (path) => {
        const { CloudKit } = await import("/web/cloudkit.js");
        window.ck = await CloudKit.start({ workers: 2, bindings: [{ name: "default", provider: "local", options: { path } }] });
        // The names a tab won: call(name) for each, all at once; `losing` is a loser's code.
        window.winners = async (names, call, losing) => (await Promise.all(names.map((name) => call(name).then(() => name, (e) => {
          if (e.codeName !== losing) throw e;
          return null;
        })))).filter((name) => name !== null);
      }, path);
    }
    return { pages, close: () => context.close() };
  }
  // Runs `fn(tab, attempts)` in both pages at once (both wait for the same
  // moment of the shared clock to start); resolves to both results.
  const race = (tabs, fn) => {
    const startAt = Date.now() + 300;
    return Promise.all(tabs.pages.map((page, tab) => page.evaluate(
      `new Promise((go) => setTimeout(go, ${startAt} - Date.now())).then(() => (${fn})(${tab}, ${ATTEMPTS}))`)));
  };
  const winnersOf = (a, b) => ({ both: a.filter((k) => b.includes(k)).length, total: a.length + b.length });
  const names = (prefix) => Array.from({ length: ATTEMPTS }, (_, i) => `${prefix}${i}`);

  test("two tabs: put ifAbsent has one winner per key", async () => {
    const tabs = await twoTabs(`tabs-absent-${Date.now()}`);
    const [a, b] = await race(tabs, `(tab) => window.winners(${JSON.stringify(names("k"))},
      (key) => window.ck.kv.put("t", key, "tab " + tab, { ifAbsent: true }), "ALREADY_EXISTS")`);
    assert.deepEqual(winnersOf(a, b), { both: 0, total: ATTEMPTS });
    // What each key holds is its winner's value.
    const held = await tabs.pages[0].evaluate(async (keys) => Promise.all(keys.map(async (k) =>
      new TextDecoder().decode((await window.ck.kv.get("t", k)).value))), a);
    assert.ok(held.every((v) => v === "tab 0"), "a key the first tab won holds its value");
    await tabs.close();
  });

  test("two tabs: a get + put(ifMatch) counter loses no acknowledged increment", { timeout: 300_000 }, async () => {
    const tabs = await twoTabs(`tabs-counter-${Date.now()}`);
    await tabs.pages[0].evaluate(() => window.ck.kv.put("t", "counter", "0"));
    const acknowledged = await race(tabs, async (tab, attempts) => {
      // Two loops per tab: conflicts inside a tab as well as across tabs.
      const loop = async (increments) => {
        let done = 0;
        while (done < increments) {
          const item = await window.ck.kv.get("t", "counter");
          const next = String(Number(new TextDecoder().decode(item.value)) + 1);
          try {
            await window.ck.kv.put("t", "counter", next, { ifMatch: item.etag });
            ++done;
          } catch (e) {
            if (e.codeName !== "FAILED_PRECONDITION") throw e;
          }
        }
        return done;
      };
      const loops = await Promise.all([loop(attempts / 4), loop(attempts / 4)]);
      return loops[0] + loops[1];
    });
    const final = await tabs.pages[1].evaluate(async () =>
      Number(new TextDecoder().decode((await window.ck.kv.get("t", "counter")).value)));
    assert.equal(acknowledged[0] + acknowledged[1], ATTEMPTS);
    assert.equal(final, ATTEMPTS, "every acknowledged increment is in the counter");
    await tabs.close();
  });

  test("two tabs: putObject ifNoneMatch has one winner per key", async () => {
    const tabs = await twoTabs(`tabs-objects-${Date.now()}`);
    await tabs.pages[0].evaluate(() => window.ck.storage.createBucket("docs"));
    const [a, b] = await race(tabs, `(tab) => window.winners(${JSON.stringify(names("o"))},
      (key) => window.ck.storage.putObject("docs", key, "tab " + tab, { ifNoneMatch: true }), "FAILED_PRECONDITION")`);
    assert.deepEqual(winnersOf(a, b), { both: 0, total: ATTEMPTS });
    const held = await tabs.pages[1].evaluate(async (keys) => Promise.all(keys.map(async (k) =>
      new TextDecoder().decode(await (await window.ck.storage.getObject("docs", k)).arrayBuffer()))), b);
    assert.ok(held.every((v) => v === "tab 1"), "an object the second tab won holds its body");
    await tabs.close();
  });

  test("two tabs: createBucket reports created to one tab per name", async () => {
    const tabs = await twoTabs(`tabs-buckets-${Date.now()}`);
    const [a, b] = await race(tabs, `(tab) => window.winners(${JSON.stringify(names("b"))},
      (bucket) => window.ck.storage.createBucket(bucket), "ALREADY_EXISTS")`);
    assert.deepEqual(winnersOf(a, b), { both: 0, total: ATTEMPTS });
    await tabs.close();
  });

  test("two tabs: createQueue, createTopic and createSubscription report created to one tab per name", { timeout: 120_000 }, async () => {
    const tabs = await twoTabs(`tabs-messaging-${Date.now()}`);
    // Each tab creates with options of its own: what the store keeps tells whose creation landed.
    const [qa, qb] = await race(tabs, `(tab) => window.winners(${JSON.stringify(names("q"))},
      (queue) => window.ck.queue.create(queue, { visibilityTimeoutMs: 1000 * (tab + 1) }), "ALREADY_EXISTS")`);
    assert.deepEqual(winnersOf(qa, qb), { both: 0, total: ATTEMPTS });
    const [ta, tb] = await race(tabs, `(tab) => window.winners(${JSON.stringify(names("t"))},
      (topic) => window.ck.pubsub.createTopic(topic), "ALREADY_EXISTS")`);
    assert.deepEqual(winnersOf(ta, tb), { both: 0, total: ATTEMPTS });
    const [sa, sb] = await race(tabs, `(tab) => window.winners(${JSON.stringify(names("s"))},
      (subscription) => window.ck.pubsub.createSubscription(subscription, "t0", { ackDeadlineMs: 1000 * (tab + 1) }), "ALREADY_EXISTS")`);
    assert.deepEqual(winnersOf(sa, sb), { both: 0, total: ATTEMPTS });
    // Read back by the second tab: every queue and subscription holds its winner's options.
    const kept = await tabs.pages[1].evaluate(async () => ({
      queues: Object.fromEntries((await window.ck.queue.list()).queues.map((q) => [q.name, q.options.visibilityTimeoutMs])),
      subscriptions: Object.fromEntries((await window.ck.pubsub.listSubscriptions("t0")).subscriptions
        .map((s) => [s.name, s.ackDeadlineMs])),
    }));
    const expected = (a, b) => Object.fromEntries([...a.map((n) => [n, 1000]), ...b.map((n) => [n, 2000])]);
    assert.deepEqual(kept.queues, expected(qa, qb));
    assert.deepEqual(kept.subscriptions, expected(sa, sb));
    await tabs.close();
  });
});

test("expired items leave IndexedDB on the actor's timer", async () => {
  const page = await harness.newPage();
  const result = await page.evaluate(async () => {
    const { CloudKit } = await import("/web/cloudkit.js");
    const ck = await CloudKit.start({ workers: 1, bindings: [{ name: "default", provider: "local", options: { path: "sweep" } }] });
    // Records in the binding's key-value database, expired or not.
    const stored = async () => {
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("cloudkit:sweep/kv");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const count = await new Promise((resolve) => {
        const request = db.transaction("entries").objectStore("entries").count();
        request.onsuccess = () => resolve(request.result);
      });
      db.close();
      return count;
    };
    await ck.kv.put("t", "keep", "forever");
    await ck.kv.put("t", "brief", "soon gone", { ttlMs: 300 });
    const before = await stored();
    const started = performance.now();
    let after = before;
    while (after === before && performance.now() - started < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await stored();
    }
    const waitedMs = performance.now() - started;
    const brief = await ck.kv.get("t", "brief").then(() => "found", (e) => e.codeName);
    const keep = new TextDecoder().decode((await ck.kv.get("t", "keep")).value);
    await ck.stop();
    return { removed: before - after, waitedMs, brief, keep };
  });
  assert.equal(result.removed, 1, "the expired item's record is gone from IndexedDB");
  assert.ok(result.waitedMs < 5000, `swept ${result.waitedMs} ms after the put`);
  assert.equal(result.brief, "NOT_FOUND");
  assert.equal(result.keep, "forever");
  await page.context().close();
});

test("a 100 MiB blob streams through IndexedDB local and back, checked by hash", { timeout: 300_000 }, async () => {
  const SIZE = 100 * 1024 * 1024;
  const pattern = (offset, n) => {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; ++i) bytes[i] = ((offset + i) * 31) % 251;
    return bytes;
  };
  const md5 = createHash("md5");
  for (let at = 0; at < SIZE; at += 1 << 20) md5.update(pattern(at, Math.min(1 << 20, SIZE - at)));
  const expected = `"${md5.digest("hex")}"`;

  const page = await harness.newPage();
  const result = await page.evaluate(async ({ SIZE, patternSource }) => {
    const pattern = eval(patternSource);
    const { CloudKit } = await import("/web/cloudkit.js");
    const ck = await CloudKit.start({ workers: 2, bindings: [{ name: "default", provider: "local", options: { path: `big-${Date.now()}` } }] });
    await ck.storage.createBucket("big");
    let produced = 0;
    const source = new ReadableStream({
      pull(controller) {
        if (produced >= SIZE) return controller.close();
        const n = Math.min(1 << 20, SIZE - produced);
        controller.enqueue(pattern(produced, n));
        produced += n;
      },
    }, { highWaterMark: 0 });
    const info = await ck.storage.putObject("big", "blob", source);
    const object = await ck.storage.getObject("big", "blob");
    const reader = object.body.getReader();
    let offset = 0, matches = true;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const want = pattern(offset, value.length);
      for (let i = 0; i < value.length && matches; ++i) matches = value[i] === want[i];
      offset += value.length;
    }
    await ck.stop();
    return { etag: info.etag, size: Number(info.size), received: offset, matches };
  }, { SIZE, patternSource: pattern.toString() });
  assert.equal(result.size, SIZE);
  assert.equal(result.etag, expected, "the ETag the worker computed over the stream is the content's MD5");
  assert.equal(result.received, SIZE);
  assert.ok(result.matches, "downloaded bytes equal the uploaded ones");
  await page.context().close();
});

test("many calls in flight per worker: IndexedDB puts waiting on a held lock stall no other call", async () => {
  const page = await harness.newPage();
  const result = await page.evaluate(async () => {
    const { CloudKit } = await import("/web/cloudkit.js");
    const path = `inflight-${Date.now()}`;
    // One worker hosts every actor: `memory` and the IndexedDB `local` one.
    const ck = await CloudKit.start({ workers: 1, bindings: [
      { name: "default", provider: "memory" },
      { name: "disk", provider: "local", options: { path } },
    ] });
    const disk = ck.binding("disk");
    const N = 64, payload = new Uint8Array(1024).fill(1);
    await disk.kv.put("t", "first", "creates the database");
    await ck.kv.put("t", "m", "memory value");

    // The page takes the binding's `entries` store and holds it: every
    // IndexedDB call of the worker's `local` actor now waits behind it.
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(`cloudkit:${path}/kv`);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    let holding = true;
    const lock = db.transaction("entries", "readwrite");
    const store = lock.objectStore("entries");
    const spin = () => { if (holding) store.get(new ArrayBuffer(1)).onsuccess = spin; };
    spin();
    const released = new Promise((resolve) => { lock.oncomplete = resolve; });

    let answeredWhileHeld = 0;
    const puts = Array.from({ length: N }, (_, i) =>
      disk.kv.put("t", `k${i}`, payload).then(() => { if (holding) answeredWhileHeld++; }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Another actor of the worker, and another call of the very actor whose
    // puts wait, are both answered meanwhile.
    const memory = new TextDecoder().decode((await ck.kv.get("t", "m")).value);
    const sameActor = await disk.kv.put("t", "a\0b", "v").then(() => "ok", (e) => e.codeName);
    const stillHeld = holding;
    holding = false;
    await released;
    db.close();
    await Promise.all(puts);
    const stored = await disk.kv.batchGet("t", Array.from({ length: N }, (_, i) => `k${i}`));

    // Figures (logged, not asserted): N puts in flight at once against N one
    // after another, on the same actor.
    const timed = async (fn) => { const start = performance.now(); await fn(); return performance.now() - start; };
    const concurrentMs = await timed(() => Promise.all(Array.from({ length: N }, (_, i) => disk.kv.put("c", `k${i}`, payload))));
    const sequentialMs = await timed(async () => { for (let i = 0; i < N; ++i) await disk.kv.put("s", `k${i}`, payload); });
    await ck.stop();
    return { memory, sameActor, stillHeld, answeredWhileHeld, stored: stored.items.length, concurrentMs, sequentialMs };
  });
  console.log(`${64} local puts: ${result.concurrentMs.toFixed(0)} ms in flight together, ` +
              `${result.sequentialMs.toFixed(0)} ms one after another`);
  assert.equal(result.answeredWhileHeld, 0, "the puts waited on the held store");
  assert.equal(result.stillHeld, true);
  assert.equal(result.memory, "memory value", "the memory actor answered while the puts waited");
  assert.equal(result.sameActor, "INVALID_ARGUMENT", "the local actor answered another call while its puts waited");
  assert.equal(result.stored, 64, "every put landed once the store was free");
  await page.context().close();
});

test("many calls in flight per worker: replies for an actor stopped while its calls wait are dropped", async () => {
  const page = await harness.newPage();
  const result = await page.evaluate(async () => {
    const { CloudKit } = await import("/web/cloudkit.js");
    const path = `stopped-${Date.now()}`;
    const ck = await CloudKit.start({ workers: 1, timeoutMs: 1500, bindings: [
      { name: "default", provider: "memory" },
      { name: "disk", provider: "local", options: { path } },
    ] });
    const disk = ck.binding("disk");
    await disk.kv.put("t", "first", "creates the database");
    await ck.kv.put("t", "m", "memory value");
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(`cloudkit:${path}/kv`);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    let holding = true;
    const lock = db.transaction("entries", "readwrite");
    const store = lock.objectStore("entries");
    const spin = () => { if (holding) store.get(new ArrayBuffer(1)).onsuccess = spin; };
    spin();
    const released = new Promise((resolve) => { lock.oncomplete = resolve; });
    const puts = Array.from({ length: 8 }, (_, i) => disk.kv.put("t", `k${i}`, "v").then(() => "ok", (e) => e.codeName));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Stop the local actor while its puts wait on IndexedDB, then let their
    // transactions finish: the replies reach a worker where the actor is gone.
    const actorId = ck.bindings.get("disk").actors.key_value.id;
    ck.pool.workers[0].worker.postMessage({ op: "stop", actorId });
    await new Promise((resolve) => setTimeout(resolve, 50));
    holding = false;
    await released;
    db.close();
    const outcomes = [...new Set(await Promise.all(puts))];
    const memory = new TextDecoder().decode((await ck.kv.get("t", "m")).value);
    const restarts = ck.stats.restarts;
    await ck.stop();
    return { outcomes, memory, restarts };
  });
  assert.deepEqual(result, { outcomes: ["DEADLINE_EXCEEDED"], memory: "memory value", restarts: 0 });
  await page.context().close();
});

test("a worker killed mid-request fails it with UNAVAILABLE and the next calls succeed", async () => {
  const page = await harness.newPage();
  const result = await page.evaluate(async () => {
    const { CloudKit } = await import("/web/cloudkit.js");
    const ck = await CloudKit.start({ workers: 2, bindings: [{ name: "default", provider: "memory" }] });
    await ck.storage.createBucket("docs");
    // An upload that waits on its source, so it is surely in flight at the kill.
    let release;
    const gate = new Promise((r) => { release = r; });
    const source = new ReadableStream({
      async pull(controller) { await gate; controller.close(); },
      start(controller) { controller.enqueue(new Uint8Array(300_000)); controller.enqueue(new Uint8Array(300_000)); },
    });
    const upload = ck.storage.putObject("docs", "in-flight", source).then(() => "ok", (e) => e.codeName);
    await new Promise((r) => setTimeout(r, 50));
    const storageWorker = ck.pool.actors.get(ck.bindings.get("default").actors.object_storage.id).worker.index;
    ck.killWorker(storageWorker);
    release();
    const failed = await upload;
    await ck.storage.createBucket("after");  // memory data died with the worker; the actor is back
    await ck.storage.putObject("after", "k", "v");
    const kv = await ck.kv.put("t", "k", "v").then(() => "ok");
    return { failed, after: await ck.storage.bucketExists("after"), kv, restarts: ck.stats.restarts };
  });
  assert.deepEqual(result, { failed: "UNAVAILABLE", after: true, kv: "ok", restarts: 1 });
  await page.context().close();
});

test("a worker that crashes on its own is detected and replaced", async () => {
  const page = await harness.newPage();
  const result = await page.evaluate(async () => {
    const { CloudKit } = await import("/web/cloudkit.js");
    const ck = await CloudKit.start({ workers: 1, bindings: [{ name: "default", provider: "memory" }] });
    await ck.kv.put("t", "before", "v");
    let release;
    const gate = new Promise((r) => { release = r; });
    const upload = ck.storage.createBucket("docs")
      .then(() => ck.storage.putObject("docs", "k", new ReadableStream({
        start(c) { c.enqueue(new Uint8Array(300_000)); c.enqueue(new Uint8Array(300_000)); },
        async pull(c) { await gate; c.close(); },
      })))
      .then(() => "ok", (e) => e.codeName);
    await new Promise((r) => setTimeout(r, 50));
    ck.pool.workers[0].worker.postMessage({ op: "crash" });  // an uncaught error inside the worker
    const failed = await upload;
    release();
    const after = await ck.kv.put("t", "after", "v").then(() => "ok", (e) => e.codeName);
    return { failed, after, restarts: ck.stats.restarts };
  });
  assert.deepEqual(result, { failed: "UNAVAILABLE", after: "ok", restarts: 1 });
  await page.context().close();
});

describe("lifecycle", () => {
  test("lifecycle: after stop() every call rejects at once with UNAVAILABLE, not retryable, and killWorker does nothing", async () => {
    const page = await harness.newPage();
    const result = await page.evaluate(async () => {
      const { CloudKit, CloudKitError } = await import("/web/cloudkit.js");
      const ck = await CloudKit.start({ workers: 2 });
      await ck.storage.createBucket("docs");
      // In flight at stop(): an upload whose source never ends.
      const stalled = new ReadableStream({ start(c) { c.enqueue(new Uint8Array(300_000)); c.enqueue(new Uint8Array(300_000)); }, pull() {} });
      const inFlight = ck.storage.putObject("docs", "stalled", stalled);
      await new Promise((r) => setTimeout(r, 50));
      const workers = ck.pool.workers.map((w) => w.worker);
      await ck.stop();
      const outcome = (promise) => Promise.race([
        promise.then(() => "resolved", (e) => (e instanceof CloudKitError ? `${e.codeName} retryable=${e.retryable}` : `untyped ${e}`)),
        new Promise((r) => setTimeout(() => r("still pending after 2 s"), 2000)),
      ]);
      const never = new ReadableStream({ pull() {} });  // a body that never yields
      const subscription = ck.pubsub.subscribe("s")[Symbol.asyncIterator]();
      const out = {
        inFlight: await outcome(inFlight),
        kvGet: await outcome(ck.kv.get("t", "k")),
        kvPut: await outcome(ck.kv.put("t", "k", "v")),
        streamedPut: await outcome(ck.storage.putObject("docs", "k", never)),
        getObject: await outcome(ck.storage.getObject("docs", "k")),
        queue: await outcome(ck.queue.send("q", "m")),
        subscribe: await outcome(subscription.next()),
        secrets: await outcome(ck.secrets.get("s")),
        otherBinding: await outcome(ck.binding("default").kv.exists("t", "k")),
        stopAgain: await outcome(ck.stop()),
      };
      ck.killWorker(0);
      out.sameWorkersAfterKill = ck.pool.workers.every((w, i) => w.worker === workers[i]);
      out.restarts = ck.stats.restarts;
      return out;
    });
    const refused = "UNAVAILABLE retryable=false";
    assert.deepEqual(result, {
      inFlight: refused, kvGet: refused, kvPut: refused, streamedPut: refused, getObject: refused, queue: refused,
      subscribe: refused, secrets: refused, otherBinding: refused, stopAgain: "resolved",
      sameWorkersAfterKill: true, restarts: 0,
    });
    await page.context().close();
  });

  test("lifecycle: a failed start() leaves no worker behind", async () => {
    const page = await harness.newPage();
    const result = await page.evaluate(async () => {
      const { CloudKit } = await import("/web/cloudkit.js");
      // Counts the workers pages create and terminate from here on.
      const Original = window.Worker;
      let created = 0;
      const terminated = new Set();
      window.Worker = class extends Original {
        constructor(...args) { super(...args); ++created; }
        terminate() { terminated.add(this); super.terminate(); }
      };
      const codes = [];
      for (const options of [{ timeoutMs: -1 }, { workers: 1.5 }, { bindings: [{ name: "x", provider: "no-such-provider" }] },
                             { bindings: [{ name: "a", provider: "memory" }, { name: "a", provider: "memory" }] },
                             { workerUrl: "/web/no-such-worker.js" }]) {
        codes.push(await CloudKit.start(options).then(() => "started", (e) => e.codeName));
      }
      window.Worker = Original;
      return { codes, created, terminated: terminated.size };
    });
    assert.deepEqual(result.codes, ["INVALID_ARGUMENT", "INVALID_ARGUMENT", "INVALID_ARGUMENT", "INVALID_ARGUMENT", "UNAVAILABLE"]);
    assert.ok(result.created > 0, "the starts that got that far made workers");
    assert.equal(result.terminated, result.created, "every worker made was terminated");
    await page.context().close();
  });

  test("lifecycle: a worker script that does not load fails start() naming its URL and HTTP status", async () => {
    const page = await harness.newPage();
    const message = await page.evaluate(async () => {
      const { CloudKit } = await import("/web/cloudkit.js");
      return CloudKit.start({ workers: 1, workerUrl: new URL("/web/no-such-worker.js", location.href) })
        .then(() => "started", (e) => `${e.codeName}: ${e.message}`);
    });
    assert.match(message, /^UNAVAILABLE: .*http:\/\/127\.0\.0\.1:\d+\/web\/no-such-worker\.js.*HTTP 404/);
    await page.context().close();
  });

  test("lifecycle: a wasm that does not load fails start() naming the wasm's URL and HTTP status", async () => {
    // worker.js served alone, without cloudkit_core.wasm beside it.
    const dir = await mkdtemp(join(tmpdir(), "cloudkit-no-wasm-"));
    let server;
    try {
      await cp(`${BUILD_WEB}/worker.js`, `${dir}/worker.js`);
      server = await serve({ "/web/": BUILD_WEB, "/no-wasm/": dir, "/": fileURLToPath(new URL("./pages", import.meta.url)) });
      const context = await harness.browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.url}/index.html`);
      const message = await page.evaluate(async () => {
        const { CloudKit } = await import("/web/cloudkit.js");
        return CloudKit.start({ workers: 1, workerUrl: "/no-wasm/worker.js" })
          .then(() => "started", (e) => `${e.codeName} retryable=${e.retryable}: ${e.message}`);
      });
      assert.match(message, new RegExp("^UNAVAILABLE retryable=false: unavailable: worker script http://127\\.0\\.0\\.1:\\d+/no-wasm/worker\\.js " +
                                       "loaded, but its wasm http://127\\.0\\.0\\.1:\\d+/no-wasm/cloudkit_core\\.wasm did not load: HTTP 404"));
      await context.close();
    } finally {
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("lifecycle: a start() not done within timeoutMs rejects DEADLINE_EXCEEDED, retryable, and terminates its workers", async () => {
    const page = await harness.newPage();
    const result = await page.evaluate(async () => {
      const { CloudKit, CloudKitError } = await import("/web/cloudkit.js");
      const Original = window.Worker;
      let created = 0;
      const terminated = new Set();
      window.Worker = class extends Original {
        constructor(...args) { super(...args); ++created; }
        terminate() { terminated.add(this); super.terminate(); }
      };
      const began = performance.now();
      // The static server never answers under /hang/: the workers never load.
      const outcome = await CloudKit.start({ workers: 2, timeoutMs: 500, workerUrl: "/hang/worker.js" }).then(() => "started",
        (e) => (e instanceof CloudKitError ? `${e.codeName} retryable=${e.retryable}: ${e.message}` : `untyped ${e}`));
      const elapsedMs = performance.now() - began;
      window.Worker = Original;
      return { outcome, elapsedMs, created, terminated: terminated.size };
    });
    assert.match(result.outcome, new RegExp("^DEADLINE_EXCEEDED retryable=true: deadline exceeded: CloudKit did not start within 500 ms " +
                                            "\\(0 of 2 workers from http://127\\.0\\.0\\.1:\\d+/hang/worker\\.js loaded\\)$"));
    assert.ok(result.elapsedMs >= 400 && result.elapsedMs < 5000, `rejected after ${result.elapsedMs} ms`);
    assert.equal(result.created, 2);
    assert.equal(result.terminated, 2, "every worker started was terminated");
    await page.context().close();
  });

  test("lifecycle: a workerUrl that is not a URL is refused with INVALID_ARGUMENT before any worker starts", async () => {
    const page = await harness.newPage();
    const result = await page.evaluate(async () => {
      const { CloudKit } = await import("/web/cloudkit.js");
      const Original = window.Worker;
      let created = 0;
      window.Worker = class extends Original { constructor(...args) { super(...args); ++created; } };
      const messages = [];
      for (const workerUrl of ["http://[::1/worker.js", "http://host:99999/worker.js", "", 42]) {
        messages.push(await CloudKit.start({ workerUrl }).then(() => "started", (e) => `${e.codeName}: ${e.message}`));
      }
      window.Worker = Original;
      return { messages, created };
    });
    assert.deepEqual(result, {
      messages: [
        "INVALID_ARGUMENT: invalid argument: workerUrl is not a valid URL: 'http://[::1/worker.js'",
        "INVALID_ARGUMENT: invalid argument: workerUrl is not a valid URL: 'http://host:99999/worker.js'",
        "INVALID_ARGUMENT: invalid argument: workerUrl is empty",
        "INVALID_ARGUMENT: invalid argument: workerUrl must be a URL or a string, got number",
      ],
      created: 0,
    });
    await page.context().close();
  });

  test("lifecycle: stop() while a subscription stream and a download are open rejects both with UNAVAILABLE, not retryable", async () => {
    const page = await harness.newPage();
    const result = await page.evaluate(async () => {
      const { CloudKit, CloudKitError } = await import("/web/cloudkit.js");
      const ck = await CloudKit.start({ workers: 2 });
      await ck.storage.createBucket("docs");
      await ck.storage.putObject("docs", "big", new Uint8Array(8 * 1024 * 1024).fill(3));  // 32 chunks: more than one window
      await ck.pubsub.createTopic("t");
      await ck.pubsub.createSubscription("s", "t");
      // A stream that delivered one message and waits for the next...
      const stream = ck.pubsub.subscribe("s");
      await ck.pubsub.publish("t", "first");
      const first = await stream.next();
      const waiting = stream.next();
      // ...and a download whose first chunk was read, the rest not yet.
      const download = await ck.storage.getObject("docs", "big");
      const reader = download.body.getReader();
      const chunk = await reader.read();
      await ck.stop();
      const outcome = (promise) => Promise.race([
        promise.then((v) => `resolved ${v}`, (e) => (e instanceof CloudKitError ? `${e.codeName} retryable=${e.retryable}` : `untyped ${e}`)),
        new Promise((r) => setTimeout(() => r("still pending after 2 s"), 2000)),
      ]);
      // Chunks that arrived before stop() are dropped with the stream; reading on ends in the failure.
      const readOn = async () => {
        let bytes = chunk.value.length;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return `ended after ${bytes} bytes`;
          bytes += value.length;
        }
      };
      return {
        delivered: new TextDecoder().decode(first.value.body),
        firstChunkRead: chunk.value.length > 0,
        stream: await outcome(waiting),
        streamAgain: await outcome(stream.next()),
        download: await outcome(readOn()),
      };
    });
    const refused = "UNAVAILABLE retryable=false";
    assert.deepEqual(result, { delivered: "first", firstChunkRead: true, stream: refused, streamAgain: refused, download: refused });
    await page.context().close();
  });

  test("lifecycle: killWorker refuses an index out of range; duplicate binding names are refused", async () => {
    const page = await harness.newPage();
    const result = await page.evaluate(async () => {
      const { CloudKit } = await import("/web/cloudkit.js");
      const ck = await CloudKit.start({ workers: 2 });
      const outcome = (fn) => { try { fn(); return "no error"; } catch (e) { return `${e.name} ${e.codeName}`; } };
      const out = {
        tooBig: outcome(() => ck.killWorker(99)), negative: outcome(() => ck.killWorker(-1)),
        notNumber: outcome(() => ck.killWorker("0")), last: outcome(() => ck.killWorker(1)),
        duplicate: await CloudKit.start({ bindings: [{ name: "a", provider: "memory" }, { name: "a", provider: "local" }] })
          .then(() => "started", (e) => `${e.codeName}: ${e.message}`),
      };
      out.restarts = ck.stats.restarts;
      await ck.stop();
      return out;
    });
    assert.deepEqual(result, {
      tooBig: "CloudKitError INVALID_ARGUMENT", negative: "CloudKitError INVALID_ARGUMENT",
      notNumber: "CloudKitError INVALID_ARGUMENT", last: "no error", restarts: 1,
      duplicate: "INVALID_ARGUMENT: invalid argument: binding 'a' is given twice",
    });
    await page.context().close();
  });

  test("lifecycle: a ReadableStream body that errors rejects the upload with a CloudKitError", async () => {
    const page = await harness.newPage();
    const result = await page.evaluate(async () => {
      const { CloudKit, CloudKitError } = await import("/web/cloudkit.js");
      const ck = await CloudKit.start({ workers: 1 });
      await ck.storage.createBucket("docs");
      const describe = (e) => (e instanceof CloudKitError ? `${e.codeName} (cause: ${e.cause?.message})` : `untyped ${e}`);
      const atOnce = new ReadableStream({ start(c) { c.error(new Error("disk gone")); } });
      const later = new ReadableStream({
        start(c) { c.enqueue(new Uint8Array(300_000)); c.enqueue(new Uint8Array(300_000)); },
        pull(c) { c.error(new Error("network gone")); },
      });
      return {
        atOnce: await ck.storage.putObject("docs", "a", atOnce).then(() => "resolved", describe),
        later: await ck.storage.putObject("docs", "b", later).then(() => "resolved", describe),
        nothingWritten: await ck.storage.listObjects("docs").then((l) => l.objects.length),
      };
    });
    assert.deepEqual(result, {
      atOnce: "INVALID_ARGUMENT (cause: disk gone)", later: "INVALID_ARGUMENT (cause: network gone)", nothingWritten: 0,
    });
    await page.context().close();
  });
});

test("bad input from JS gets a typed CloudKitError", async () => {
  const page = await harness.newPage();
  const result = await page.evaluate(async () => {
    const { CloudKit, CloudKitError } = await import("/web/cloudkit.js");
    const ck = await CloudKit.start({ workers: 1 });
    const outcome = async (fn) => {
      try { await fn(); return "no error"; } catch (e) { return e instanceof CloudKitError ? e.codeName : `untyped ${e}`; }
    };
    return {
      numberKey: await outcome(() => ck.kv.put("t", 42, "v")),
      objectValue: await outcome(() => ck.kv.put("t", "k", { not: "bytes" })),
      badBucket: await outcome(() => ck.storage.createBucket("../etc")),
      nulKey: await outcome(() => ck.kv.put("t", "a\0b", "v")),
      loneSurrogateKey: await outcome(() => ck.kv.put("t", "a\uD800b", "v")),
      loneLowSurrogateTable: await outcome(() => ck.kv.get("\uDC00t", "k")),
      loneSurrogateObject: await outcome(() => ck.storage.putObject("b", "x\uDBFF", "v")),
      loneSurrogateValue: await outcome(() => ck.kv.put("t", "k", "\uD83D")),
      loneSurrogateMetadata: await outcome(() => ck.storage.putObject("b", "k", "v", { metadata: { m: "\uDE00" } })),
      pairIsFine: await ck.kv.put("t", "emoji \uD83D\uDE00", "v").then(() => ck.kv.get("t", "emoji \u{1F600}")).then((i) => i.key),
      unknownBinding: await outcome(async () => ck.binding("nope").kv.get("t", "k")),
      badProvider: await outcome(() => CloudKit.start({ bindings: [{ name: "x", provider: "no-such-provider" }] })),
      badCredentials: await outcome(() => CloudKit.start({ bindings: [{ name: "x", provider: "memory", credentials: { key: 42 } }] })),
      s3WithoutBucket: await outcome(() => CloudKit.start({ bindings: [{ name: "x", provider: "s3" }] })),
      // Not in the browser's core: a page opens no TCP connections (redis),
      // and dynamodb is the daemon's only.
      redis: await outcome(() => CloudKit.start({ bindings: [{ name: "x", provider: "redis" }] })),
      dynamodb: await outcome(() => CloudKit.start({ bindings: [{ name: "x", provider: "dynamodb", options: { table: "t" } }] })),
      redisMessage: await CloudKit.start({ bindings: [{ name: "x", provider: "redis" }] }).then(() => "", (e) => e.message),
      providers: [...ck.providers.keys()].join(", "),
      badWorkers: await outcome(() => CloudKit.start({ workers: 0 })),
      badRange: await outcome(() => ck.storage.getObject("b", "k", { range: { start: -1 } })),
      stillServes: await ck.kv.put("t", "k", "v").then(() => "ok"),
    };
  });
  assert.deepEqual(result, {
    numberKey: "INVALID_ARGUMENT", objectValue: "INVALID_ARGUMENT", badBucket: "INVALID_ARGUMENT",
    nulKey: "INVALID_ARGUMENT", loneSurrogateKey: "INVALID_ARGUMENT", loneLowSurrogateTable: "INVALID_ARGUMENT",
    loneSurrogateObject: "INVALID_ARGUMENT", loneSurrogateValue: "INVALID_ARGUMENT", loneSurrogateMetadata: "INVALID_ARGUMENT",
    pairIsFine: "emoji \u{1F600}", unknownBinding: "NOT_FOUND", badProvider: "INVALID_ARGUMENT",
    badCredentials: "INVALID_ARGUMENT", s3WithoutBucket: "INVALID_ARGUMENT", badWorkers: "INVALID_ARGUMENT", badRange: "INVALID_ARGUMENT", stillServes: "ok",
    redis: "INVALID_ARGUMENT", dynamodb: "INVALID_ARGUMENT",
    redisMessage: "invalid argument: binding 'x': unknown provider 'redis' (known: azure, local, memory, s3)",
    providers: "azure, local, memory, s3",
  });
  await page.context().close();
});

// The example of docs/browser.md, as it is there: compiled by the TypeScript
// the repo pins (strict, the bundle's declarations checked too), bundled by
// esbuild with the worker set up as docs/browser.md says, and run.
test("typescript app: the docs example compiles under strict and runs bundled by esbuild", { timeout: 120_000 }, async () => {
  const repo = fileURLToPath(new URL("../../", import.meta.url));
  const tools = `${repo}web-worker/node_modules`;
  const docs = await readFile(`${repo}docs/browser.md`, "utf8");
  const example = docs.match(/^```ts\n([\s\S]*?)^```$/m)?.[1];
  assert.ok(example, "docs/browser.md has a ```ts example");
  const dir = await mkdtemp(join(tmpdir(), "cloudkit-ts-app-"));
  let server;
  try {
    await mkdir(`${dir}/node_modules`);
    await symlink(BUILD_WEB, `${dir}/node_modules/cloudkit-web`);
    await writeFile(`${dir}/app.ts`, example);
    await writeFile(`${dir}/tsconfig.json`, JSON.stringify({
      compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, target: "es2022", module: "es2022",
                         moduleResolution: "bundler", lib: ["es2022", "dom", "dom.iterable"], types: [] },
      files: ["app.ts"],
    }));
    const run = promisify(execFile);
    await run(process.execPath, [`${tools}/typescript/bin/tsc`, "-p", dir]).catch((e) => {
      assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
    });
    await run(`${tools}/.bin/esbuild`, ["app.ts", "--bundle", "--format=esm", "--target=es2022", "--outfile=dist/app.js",
                                       "--log-level=warning"], { cwd: dir });
    await mkdir(`${dir}/dist/assets/cloudkit`, { recursive: true });
    for (const file of ["worker.js", "cloudkit_core.wasm"]) await cp(`${BUILD_WEB}/${file}`, `${dir}/dist/assets/cloudkit/${file}`);
    await writeFile(`${dir}/dist/index.html`, '<!doctype html><pre id="log"></pre><script type="module" src="/app.js"></script>\n');
    server = await serve({ "/": `${dir}/dist` });
    const context = await harness.browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => /done|Error/.test(document.getElementById("log").textContent), null, { timeout: 60_000 })
      .catch(() => {});
    const log = await page.$eval("#log", (e) => e.textContent);
    assert.deepEqual({ log: log.trim().split("\n"), errors }, {
      log: ["hello.txt: 12 bytes, hello, world, etag true", "theme: dark, expires in 60 min", "stale ifMatch: FAILED_PRECONDITION",
            "scratch has step 1; default: NOT_FOUND", "done"],
      errors: [],
    });
    await context.close();
  } finally {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("typescript app: StatusCode's declared values are the protocol's and the bundle's", async () => {
  const repo = fileURLToPath(new URL("../../", import.meta.url));
  const entries = (text, pattern) => [...text.matchAll(pattern)].map(([, name, value]) => [name, Number(value)]);
  const proto = entries(await readFile(`${repo}proto/cloudkit/v1/status.proto`, "utf8"), /^\s+([A-Z_]+) = (\d+);/gm);
  const declared = entries(await readFile(`${BUILD_WEB}/cloudkit.d.ts`, "utf8"), /^\s+([A-Z_]+) = (\d+),/gm);
  assert.deepEqual(declared, proto);
  const page = await harness.newPage();
  const runtime = await page.evaluate(async (names) => {
    const { StatusCode } = await import("/web/cloudkit.js");
    return names.map((name) => [name, StatusCode[name]]);
  }, proto.map(([name]) => name));
  assert.deepEqual(runtime, proto);
  await page.context().close();
});

test("the example page uploads, lists, downloads and deletes files", async () => {
  const page = await harness.newPage("/examples/index.html");
  await page.waitForFunction(() => document.getElementById("status").textContent === "ready");
  await page.setInputFiles("#files", [
    { name: "hello.txt", mimeType: "text/plain", buffer: Buffer.from("hello from the example") },
    { name: "data.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(300_000, 3) },
  ]);
  await page.click("#upload");
  await page.waitForFunction(() => document.querySelectorAll("#list tr").length === 2);
  const names = await page.$$eval("#list tr td:first-child", (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(names, ["data.bin", "hello.txt"]);

  const download = page.waitForEvent("download");
  await page.click('#list tr[data-key="hello.txt"] button[data-op="download"]');
  const file = await download;
  const chunks = [];
  for await (const chunk of await file.createReadStream()) chunks.push(chunk);
  assert.equal(Buffer.concat(chunks).toString(), "hello from the example");

  await page.click('#list tr[data-key="data.bin"] button[data-op="delete"]');
  await page.waitForFunction(() => document.querySelectorAll("#list tr").length === 1);
  await page.reload();
  await page.waitForFunction(() => document.getElementById("status").textContent === "ready");
  const after = await page.$$eval("#list tr td:first-child", (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(after, ["hello.txt"], "the files persist across a reload");
  await page.context().close();
});

// `s3` over fetch, against s3rver on its own port: another origin than the
// page's, so every call goes through CORS (the buckets' allow-all rule,
// tests/emulators/s3rver-cors-allow-all.xml). One s3rver for these tests,
// started by the first that runs and stopped after them.
describe("s3 on s3rver", () => {
  let s3rver;
  const server = async () => (s3rver ??= await startS3rver({ buckets: ["conformance", "browser"], closedBuckets: ["closed"] }));
  after(async () => { await s3rver?.stop(); });
  const s3Binding = (endpoint, prefix, { bucket = "browser", credentials = S3RVER_CREDENTIALS, options = {} } = {}) => ({
    name: "default", provider: "s3", credentials,
    options: { endpoint, bucket, prefix, conditional_writes: "false", part_size_mb: "5", ...options },
  });

  test("s3 on s3rver: the wasm suite's object storage cases pass over fetch", { timeout: 600_000 }, async () => {
    const { endpoint } = await server();
    const page = await harness.newPage();
    const query = new URLSearchParams([["arg", "--gtest_filter=*s3_on_s3rver*"], ["arg", `--s3rver=${endpoint}`]]);
    const { exitCode, lines } = await page.evaluate((url) => new Promise((resolve) => {
      const lines = [];
      const worker = new Worker(url, { type: "module" });
      worker.onmessage = ({ data }) => {
        if (data.line !== undefined) lines.push(data.line);
        if (data.exitCode !== undefined) resolve({ exitCode: data.exitCode, lines });
      };
      worker.onerror = (e) => resolve({ exitCode: -1, lines: [...lines, `worker error: ${e.message}`] });
    }), `/web-tests/wasm_tests_worker.js?${query}`);
    console.log(lines.filter((l) => /^\[  (PASSED|FAILED|SKIPPED) |tests ran/.test(l)).join("\n"));
    assert.equal(exitCode, 0, lines.filter((l) => /Failure|FAILED|error|Expected|Which is|Value of/.test(l)).join("\n"));
    const passed = lines.filter((l) => /OK \] Providers\/ObjectStorageConformance\..*\/s3_on_s3rver/.test(l)).length;
    assert.ok(passed >= 20, `${passed} s3_on_s3rver cases passed`);
    assert.ok(s3rver.log().length > 0);
    await page.context().close();
  });

  test("s3 on s3rver: the JS API on buckets and objects, small and multipart, ranges, listing, copy, presign", { timeout: 300_000 }, async () => {
    const { endpoint } = await server();
    const BIG = 12 * 1024 * 1024 + 12345;  // three parts of 5 MiB at most
    const pattern = (offset, n) => {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; ++i) bytes[i] = ((offset + i) * 31) % 251;
      return bytes;
    };
    const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
    const page = await harness.newPage();
    const out = await page.evaluate(async ({ binding, BIG, patternSource }) => {
      const pattern = eval(patternSource);
      const hex = async (bytes) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
        .map((b) => b.toString(16).padStart(2, "0")).join("");
      const text = async (object) => new Response(object.body).text();
      const { CloudKit } = await import("/web/cloudkit.js");
      const ck = await CloudKit.start({ workers: 2, bindings: [binding] });
      const out = {};
      out.created = (await ck.storage.createBucket("docs")).name;
      out.again = await ck.storage.createBucket("docs").then(() => "created twice", (e) => e.codeName);
      out.exists = await ck.storage.bucketExists("docs");
      out.buckets = (await ck.storage.listBuckets()).map((b) => b.name);

      const small = await ck.storage.putObject("docs", "notes/a.txt", "hello world",
                                               { contentType: "text/plain", metadata: { owner: "ada" } });
      out.smallEtag = small.etag;
      out.whole = await text(await ck.storage.getObject("docs", "notes/a.txt"));
      const ranged = await ck.storage.getObject("docs", "notes/a.txt", { range: { start: 6, length: 5 } });
      out.range = { text: await text(ranged), start: ranged.rangeStart, length: ranged.contentLength, size: Number(ranged.object.size) };
      const head = await ck.storage.headObject("docs", "notes/a.txt");
      out.head = { size: Number(head.size), contentType: head.contentType, owner: head.metadata.owner, etag: head.etag,
                   lastModifiedAgoMs: Date.now() - Number(head.lastModifiedMs) };

      let produced = 0;
      const source = new ReadableStream({
        pull(controller) {
          if (produced >= BIG) return controller.close();
          const n = Math.min(1 << 20, BIG - produced);
          controller.enqueue(pattern(produced, n));
          produced += n;
        },
      });
      const big = await ck.storage.putObject("docs", "big.bin", source, { metadata: { owner: "bob" } });
      out.big = { size: Number(big.size), etag: big.etag };
      const bigBack = await ck.storage.getObject("docs", "big.bin");
      out.big.sha256 = await hex(await bigBack.arrayBuffer());
      const middle = await ck.storage.getObject("docs", "big.bin", { range: { start: 5 * 1024 * 1024 - 10, length: 20 } });
      const middleBytes = new Uint8Array(await middle.arrayBuffer());
      out.big.rangeMatches = middleBytes.length === 20 &&
        middleBytes.every((b, i) => b === pattern(5 * 1024 * 1024 - 10, 20)[i]);
      out.big.headOwner = (await ck.storage.headObject("docs", "big.bin")).metadata.owner;

      for (const key of ["notes/b.txt", "top.txt", "page/k1", "page/k2", "page/k3", "page/k4", "page/k5"]) {
        await ck.storage.putObject("docs", key, key);
      }
      const notes = await ck.storage.listObjects("docs", { prefix: "notes/", delimiter: "/" });
      out.notes = notes.objects.map((o) => `${o.key}:${Number(o.size)}`);
      out.top = await ck.storage.listObjects("docs", { delimiter: "/" })
        .then((l) => ({ keys: l.objects.map((o) => o.key), prefixes: l.commonPrefixes }));
      out.pages = [];
      let token = "";
      do {
        const page = await ck.storage.listObjects("docs", { prefix: "page/", pageSize: 2, continuationToken: token });
        out.pages.push(page.objects.map((o) => o.key));
        token = page.nextContinuationToken;
      } while (token && out.pages.length < 10);

      const copy = await ck.storage.copyObject("docs", "notes/a.txt", "docs", "copies/a.txt");
      out.copy = { size: Number(copy.size), owner: copy.metadata.owner, etag: copy.etag,
                   text: await text(await ck.storage.getObject("docs", "copies/a.txt")) };

      // Presigned URLs: plain fetches from the page, no credentials.
      const get = await ck.storage.presignObject("docs", "notes/a.txt", { expiresSeconds: 600 });
      out.presignedGet = { method: get.method, expiresInS: Math.round((get.expiresMs - Date.now()) / 1000),
                           signed: get.url.includes("X-Amz-Signature="), text: await (await fetch(get.url)).text() };
      const put = await ck.storage.presignObject("docs", "uploaded.txt", { method: "PUT" });
      const putStatus = (await fetch(put.url, { method: "PUT", body: "put through a presigned URL" })).status;
      out.presignedPut = { status: putStatus, text: await text(await ck.storage.getObject("docs", "uploaded.txt")) };

      out.deleted = await ck.storage.deleteObject("docs", "top.txt");
      out.deletedAgain = await ck.storage.deleteObject("docs", "top.txt");
      const batch = await ck.storage.deleteObjects("docs", ["page/k1", "page/k2"]);
      out.batchDeleted = batch.deleted;
      out.nonEmpty = await ck.storage.deleteBucket("docs").then(() => "deleted", (e) => e.codeName);
      await ck.stop();
      return out;
    }, { binding: s3Binding(endpoint, `api-${Date.now()}`), BIG, patternSource: pattern.toString() });

    assert.equal(out.created, "docs");
    assert.equal(out.again, "ALREADY_EXISTS");
    assert.equal(out.exists, true);
    assert.deepEqual(out.buckets, ["docs"]);
    assert.equal(out.smallEtag, '"5eb63bbbe01eeed093cb22bb8f5acdc3"');
    assert.equal(out.whole, "hello world");
    assert.deepEqual(out.range, { text: "world", start: 6, length: 5, size: 11 });
    assert.equal(out.head.size, 11);
    assert.equal(out.head.contentType, "text/plain");
    assert.equal(out.head.owner, "ada", "x-amz-meta-owner is exposed through CORS");
    assert.equal(out.head.etag, out.smallEtag);
    assert.ok(Math.abs(out.head.lastModifiedAgoMs) < 120_000, `Last-Modified ${out.head.lastModifiedAgoMs} ms ago`);
    assert.equal(out.big.size, BIG);
    assert.match(out.big.etag, /^".+"$/);
    assert.match(s3rver.log(), /partNumber=3&uploadId=\S+ 200/, "the big object went up as a multipart upload");
    assert.doesNotMatch(s3rver.log(), /partNumber=4&/, "in parts of 5 MiB");
    assert.equal(out.big.sha256, sha256(pattern(0, BIG)), "the multipart object reads back as written");
    assert.equal(out.big.rangeMatches, true, "a range across the first part boundary");
    assert.equal(out.big.headOwner, "bob");
    assert.deepEqual(out.notes, ["notes/a.txt:11", "notes/b.txt:11"]);
    assert.deepEqual(out.top.keys, ["big.bin", "top.txt"]);
    assert.deepEqual(out.top.prefixes, ["notes/", "page/"]);
    assert.deepEqual(out.pages, [["page/k1", "page/k2"], ["page/k3", "page/k4"], ["page/k5"]]);
    assert.deepEqual(out.copy, { size: 11, owner: "ada", etag: out.smallEtag, text: "hello world" });
    assert.deepEqual(out.presignedGet, { method: "GET", expiresInS: 600, signed: true, text: "hello world" });
    assert.deepEqual(out.presignedPut, { status: 200, text: "put through a presigned URL" });
    assert.equal(out.deleted, true);
    assert.equal(out.deletedAgain, false);
    assert.deepEqual(out.batchDeleted, ["page/k1", "page/k2"]);
    assert.equal(out.nonEmpty, "FAILED_PRECONDITION");
    await page.context().close();
  });

  test("s3 on s3rver: failures are typed (NOT_FOUND, UNAUTHENTICATED, a bucket without CORS UNAVAILABLE), credentials unseen and kept across a worker restart", { timeout: 120_000 }, async () => {
    const { endpoint } = await server();
    const page = await harness.newPage();
    const prefix = `errors-${Date.now()}`;
    const out = await page.evaluate(async ({ good, wrongKey, closed }) => {
      const { CloudKit, CloudKitError } = await import("/web/cloudkit.js");
      const outcome = (promise) => promise.then(() => "ok", (e) => ({
        code: e instanceof CloudKitError ? e.codeName : `untyped ${e}`, message: e.message, retryable: e.retryable }));
      const ck = await CloudKit.start({ workers: 1, bindings: [good, { ...wrongKey, name: "wrong" }, { ...closed, name: "closed" }] });
      await ck.storage.createBucket("docs");
      const out = {
        missingObject: await outcome(ck.storage.getObject("docs", "missing.txt")),
        missingHead: await outcome(ck.storage.headObject("docs", "missing.txt")),
        missingBucket: await outcome(ck.storage.getObject("nobucket", "a.txt")),
        wrongKey: await outcome(ck.binding("wrong").storage.listObjects("docs")),
        noCors: await outcome(ck.binding("closed").storage.bucketExists("docs")),
        // Nothing a page keeps shows the credentials.
        shown: JSON.stringify([...ck.pool.actors.values()].map((a) => ({ ...a.spec }))),
      };
      // A replaced worker's actors come back with their credentials.
      ck.killWorker(0);
      out.afterRestart = await outcome(ck.storage.listObjects("docs"));
      out.wrongAfterRestart = (await outcome(ck.binding("wrong").storage.listObjects("docs"))).code;
      await ck.stop();
      return out;
    }, {
      good: s3Binding(endpoint, prefix),
      wrongKey: s3Binding(endpoint, prefix, { credentials: { access_key_id: "NOT-S3RVER", secret_access_key: "TOPSECRET" } }),
      closed: s3Binding(endpoint, prefix, { bucket: "closed", options: { max_attempts: "1" } }),
    });
    assert.equal(out.missingObject.code, "NOT_FOUND");
    assert.match(out.missingObject.message, /object 'missing.txt' in bucket 'docs'/);
    assert.equal(out.missingHead.code, "NOT_FOUND");
    assert.equal(out.missingBucket.code, "NOT_FOUND");
    assert.match(out.missingBucket.message, /bucket 'nobucket'/);
    assert.equal(out.wrongKey.code, "UNAUTHENTICATED");
    assert.equal(out.wrongKey.retryable, false);
    assert.doesNotMatch(out.wrongKey.message, /TOPSECRET/);
    assert.equal(out.noCors.code, "UNAVAILABLE");
    assert.match(out.noCors.message, /CORS/);
    assert.doesNotMatch(out.shown, /TOPSECRET|S3RVER/);
    assert.equal(out.afterRestart, "ok");
    assert.equal(out.wrongAfterRestart, "UNAUTHENTICATED");
    await page.context().close();
  });
});

// `azure` over fetch, against Azurite on its own ports: another origin than
// the page's, so every call goes through CORS (the rule docs/browser.md gives,
// for the page's origin only: web-worker/tests/azurite.mjs). Blob serves
// object storage, Table key-value. One Azurite for these tests, started by
// the first that runs and stopped after them.
describe("azure on azurite", () => {
  let azurite;
  const server = async () => (azurite ??= await startAzurite({ origin: harness.url }));
  after(async () => { await azurite?.stop(); });
  const azureBinding = ({ blobEndpoint, tableEndpoint }, { container = "browser", prefix = "", table, services,
                                                          credentials = AZURITE_CREDENTIALS, options = {} } = {}) => ({
    name: "default", provider: "azure", credentials, ...(services ? { services } : {}),
    options: {
      endpoint: blobEndpoint, table_endpoint: tableEndpoint, create_container: "true", block_size_mb: "1",
      ...(container ? { container, prefix } : {}), ...(table ? { table, create_table: "true" } : {}), ...options,
    },
  });
  let tables = 0;
  const freshTable = () => `browser${Date.now()}n${tables++}`;

  test("azure on azurite: the wasm suite's object storage and key-value cases pass over fetch", { timeout: 600_000 }, async () => {
    const { blobEndpoint, tableEndpoint } = await server();
    const page = await harness.newPage();
    const query = new URLSearchParams([["arg", "--gtest_filter=*azure_on_azurite*"],
                                       ["arg", `--azurite-blob=${blobEndpoint}`], ["arg", `--azurite-table=${tableEndpoint}`]]);
    const { exitCode, lines } = await page.evaluate((url) => new Promise((resolve) => {
      const lines = [];
      const worker = new Worker(url, { type: "module" });
      worker.onmessage = ({ data }) => {
        if (data.line !== undefined) lines.push(data.line);
        if (data.exitCode !== undefined) resolve({ exitCode: data.exitCode, lines });
      };
      worker.onerror = (e) => resolve({ exitCode: -1, lines: [...lines, `worker error: ${e.message}`] });
    }), `/web-tests/wasm_tests_worker.js?${query}`);
    console.log(lines.filter((l) => /^\[  (PASSED|FAILED|SKIPPED) |tests ran/.test(l)).join("\n"));
    assert.equal(exitCode, 0, lines.filter((l) => /Failure|FAILED|error|Expected|Which is|Value of/.test(l)).join("\n"));
    const passed = (service) => lines.filter((l) => new RegExp(`OK \\] Providers/${service}\\..*/azure_on_azurite`).test(l)).length;
    assert.ok(passed("ObjectStorageConformance") >= 20, `${passed("ObjectStorageConformance")} object storage cases passed`);
    assert.ok(passed("KeyValueConformance") >= 12, `${passed("KeyValueConformance")} key-value cases passed`);
    await page.context().close();
  });

  test("azure on azurite: the JS API on Blob: buckets, small and multi-block objects, ranges, listing, copy, SAS", { timeout: 300_000 }, async () => {
    const emulator = await server();
    const BIG = 3 * 1024 * 1024 + 12345;  // four blocks of 1 MiB at most
    const pattern = (offset, n) => {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; ++i) bytes[i] = ((offset + i) * 31) % 251;
      return bytes;
    };
    const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
    const page = await harness.newPage();
    const out = await page.evaluate(async ({ binding, BIG, patternSource }) => {
      const pattern = eval(patternSource);
      const hex = async (bytes) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
        .map((b) => b.toString(16).padStart(2, "0")).join("");
      const text = async (object) => new Response(object.body).text();
      const { CloudKit } = await import("/web/cloudkit.js");
      const ck = await CloudKit.start({ workers: 2, bindings: [binding] });
      const out = { providers: [...ck.providers.keys()] };
      out.created = (await ck.storage.createBucket("docs")).name;
      out.again = await ck.storage.createBucket("docs").then(() => "created twice", (e) => e.codeName);
      out.exists = await ck.storage.bucketExists("docs");
      out.buckets = (await ck.storage.listBuckets()).map((b) => b.name);

      const small = await ck.storage.putObject("docs", "notes/a.txt", "hello world",
                                               { contentType: "text/plain", metadata: { owner: "ada" } });
      out.smallEtag = small.etag;
      out.whole = await text(await ck.storage.getObject("docs", "notes/a.txt"));
      const ranged = await ck.storage.getObject("docs", "notes/a.txt", { range: { start: 6, length: 5 } });
      out.range = { text: await text(ranged), start: ranged.rangeStart, length: ranged.contentLength,
                    size: Number(ranged.object.size), etag: ranged.object.etag };
      const head = await ck.storage.headObject("docs", "notes/a.txt");
      out.head = { size: Number(head.size), contentType: head.contentType, owner: head.metadata.owner, etag: head.etag,
                   lastModifiedAgoMs: Date.now() - Number(head.lastModifiedMs) };

      let produced = 0;
      const source = new ReadableStream({
        pull(controller) {
          if (produced >= BIG) return controller.close();
          const n = Math.min(1 << 20, BIG - produced);
          controller.enqueue(pattern(produced, n));
          produced += n;
        },
      });
      const big = await ck.storage.putObject("docs", "big.bin", source, { metadata: { owner: "bob" } });
      out.big = { size: Number(big.size), etag: big.etag };
      const bigBack = await ck.storage.getObject("docs", "big.bin");
      out.big.sha256 = await hex(await bigBack.arrayBuffer());
      const middle = await ck.storage.getObject("docs", "big.bin", { range: { start: 1024 * 1024 - 10, length: 20 } });
      const middleBytes = new Uint8Array(await middle.arrayBuffer());
      out.big.rangeMatches = middleBytes.length === 20 &&
        middleBytes.every((b, i) => b === pattern(1024 * 1024 - 10, 20)[i]);
      const bigHead = await ck.storage.headObject("docs", "big.bin");
      out.big.head = { owner: bigHead.metadata.owner, etag: bigHead.etag, size: Number(bigHead.size) };

      for (const key of ["notes/b.txt", "top.txt", "page/k1", "page/k2", "page/k3", "page/k4", "page/k5"]) {
        await ck.storage.putObject("docs", key, key);
      }
      const notes = await ck.storage.listObjects("docs", { prefix: "notes/", delimiter: "/" });
      out.notes = notes.objects.map((o) => `${o.key}:${Number(o.size)}`);
      out.top = await ck.storage.listObjects("docs", { delimiter: "/" })
        .then((l) => ({ keys: l.objects.map((o) => o.key), prefixes: l.commonPrefixes }));
      out.pages = [];
      let token = "";
      do {
        const page = await ck.storage.listObjects("docs", { prefix: "page/", pageSize: 2, continuationToken: token });
        out.pages.push(page.objects.map((o) => o.key));
        token = page.nextContinuationToken;
      } while (token && out.pages.length < 10);

      const copy = await ck.storage.copyObject("docs", "notes/a.txt", "docs", "copies/a.txt");
      out.copy = { size: Number(copy.size), owner: copy.metadata.owner, etag: copy.etag, contentType: copy.contentType,
                   text: await text(await ck.storage.getObject("docs", "copies/a.txt")) };

      // SAS URLs: plain fetches from the page, no credentials. A PUT through
      // one says which kind of blob it writes, as Azure wants.
      const get = await ck.storage.presignObject("docs", "notes/a.txt", { expiresSeconds: 600 });
      out.presignedGet = { method: get.method, expiresInS: Math.round((get.expiresMs - Date.now()) / 1000),
                           signed: /[?&]sig=/.test(get.url), text: await (await fetch(get.url)).text() };
      const put = await ck.storage.presignObject("docs", "uploaded.txt", { method: "PUT" });
      const putStatus = (await fetch(put.url, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" },
                                                body: "put through a SAS URL" })).status;
      out.presignedPut = { status: putStatus, text: await text(await ck.storage.getObject("docs", "uploaded.txt")) };
      out.getSasRefusesPut = (await fetch(get.url, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" },
                                                     body: "not allowed" })).status;

      out.deleted = await ck.storage.deleteObject("docs", "top.txt");
      out.deletedAgain = await ck.storage.deleteObject("docs", "top.txt");
      const batch = await ck.storage.deleteObjects("docs", ["page/k1", "page/k2"]);
      out.batchDeleted = batch.deleted;
      out.nonEmpty = await ck.storage.deleteBucket("docs").then(() => "deleted", (e) => e.codeName);
      await ck.storage.createBucket("empty");
      await ck.storage.deleteBucket("empty");
      out.emptyGone = await ck.storage.bucketExists("empty");
      await ck.stop();
      return out;
    }, { binding: azureBinding(emulator, { prefix: `api-${Date.now()}`, table: freshTable() }), BIG,
         patternSource: pattern.toString() });

    assert.deepEqual(out.providers, ["azure", "local", "memory", "s3"]);
    assert.equal(out.created, "docs");
    assert.equal(out.again, "ALREADY_EXISTS");
    assert.equal(out.exists, true);
    assert.deepEqual(out.buckets, ["docs"]);
    assert.equal(out.smallEtag, '"5eb63bbbe01eeed093cb22bb8f5acdc3"', "the ETag is the content's MD5");
    assert.equal(out.whole, "hello world");
    assert.deepEqual(out.range, { text: "world", start: 6, length: 5, size: 11, etag: out.smallEtag },
                     "size from Content-Range, ETag from x-ms-blob-content-md5: both exposed through CORS");
    assert.equal(out.head.size, 11);
    assert.equal(out.head.contentType, "text/plain");
    assert.equal(out.head.owner, "ada", "x-ms-meta-owner is exposed through CORS (x-ms-meta-*)");
    assert.equal(out.head.etag, out.smallEtag);
    assert.ok(Math.abs(out.head.lastModifiedAgoMs) < 120_000, `Last-Modified ${out.head.lastModifiedAgoMs} ms ago`);
    assert.equal(out.big.size, BIG);
    assert.equal(out.big.sha256, sha256(pattern(0, BIG)), "the multi-block object reads back as written");
    assert.equal(out.big.etag, `"${createHash("md5").update(pattern(0, BIG)).digest("hex")}"`);
    assert.equal((azurite.log().match(/PUT \S+\/big\.bin\?comp=block&blockid=/g) ?? []).length, 4,
                 "the big object went up in four blocks of 1 MiB");
    assert.match(azurite.log(), /PUT \S+\/big\.bin\?comp=blocklist/, "committed by Put Block List");
    assert.equal(out.big.rangeMatches, true, "a range across the first block boundary");
    assert.deepEqual(out.big.head, { owner: "bob", etag: out.big.etag, size: BIG });
    assert.deepEqual(out.notes, ["notes/a.txt:11", "notes/b.txt:11"]);
    assert.deepEqual(out.top.keys, ["big.bin", "top.txt"]);
    assert.deepEqual(out.top.prefixes, ["notes/", "page/"]);
    assert.deepEqual(out.pages, [["page/k1", "page/k2"], ["page/k3", "page/k4"], ["page/k5"]]);
    assert.deepEqual(out.copy, { size: 11, owner: "ada", etag: out.smallEtag, contentType: "text/plain", text: "hello world" });
    const { expiresInS, ...presignedGet } = out.presignedGet;
    assert.ok(expiresInS >= 599 && expiresInS <= 600, `expires in ${expiresInS} s (SAS times are whole seconds)`);
    assert.deepEqual(presignedGet, { method: "GET", signed: true, text: "hello world" });
    assert.deepEqual(out.presignedPut, { status: 201, text: "put through a SAS URL" });
    assert.equal(out.getSasRefusesPut, 403, "a read SAS does not write");
    assert.equal(out.deleted, true);
    assert.equal(out.deletedAgain, false);
    assert.deepEqual(out.batchDeleted, ["page/k1", "page/k2"]);
    assert.equal(out.nonEmpty, "FAILED_PRECONDITION");
    assert.equal(out.emptyGone, false);
    await page.context().close();
  });

  test("azure on azurite: the JS API on Table: conditional writes, batches, expiry, listing", { timeout: 120_000 }, async () => {
    const emulator = await server();
    const page = await harness.newPage();
    const out = await page.evaluate(async (binding) => {
      const { CloudKit } = await import("/web/cloudkit.js");
      const ck = await CloudKit.start({ workers: 1, bindings: [binding] });
      const out = {};
      const first = await ck.kv.put("users", "ada", "v1", { ifAbsent: true });
      out.firstEtag = first.etag;
      out.ifAbsent = await ck.kv.put("users", "ada", "v2", { ifAbsent: true }).then(() => "put", (e) => e.codeName);
      await ck.kv.put("users", "ada", "v2", { ifMatch: first.etag });
      out.ifMatch = await ck.kv.put("users", "ada", "v3", { ifMatch: first.etag }).then(() => "put", (e) => e.codeName);
      out.value = new TextDecoder().decode((await ck.kv.get("users", "ada")).value);
      out.binary = [...(await ck.kv.put("users", "bytes", new Uint8Array([0, 255, 1])).then(() => ck.kv.get("users", "bytes"))).value];
      await ck.kv.batchPut("users", [{ key: "bob", value: "b" }, { key: "cy", value: "c", ttlMs: 60_000 },
                                     { key: "brief", value: "soon gone", ttlMs: 2000 }]);
      const batch = await ck.kv.batchGet("users", ["cy", "nobody", "bob"]);
      out.batch = [batch.items.map((i) => i.key), batch.missing];
      out.list = (await ck.kv.list("users", { pageSize: 2 })).items.map((i) => i.key);
      out.listAll = (await ck.kv.list("users")).items.map((i) => i.key);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      out.expired = await ck.kv.get("users", "brief").then(() => "found", (e) => e.codeName);
      out.deleted = await ck.kv.delete("users", "bob");
      out.exists = await ck.kv.exists("users", "bob");
      out.missing = await ck.kv.get("users", "nobody").then(() => "found", (e) => `${e.codeName}: ${e.message}`);
      out.otherTable = (await ck.kv.list("other")).items.length;
      await ck.stop();
      return out;
    }, azureBinding(emulator, { container: "", table: freshTable(), services: ["key_value"] }));
    assert.match(out.firstEtag, /^.+$/);
    assert.equal(out.ifAbsent, "ALREADY_EXISTS");
    assert.equal(out.ifMatch, "FAILED_PRECONDITION");
    assert.equal(out.value, "v2");
    assert.deepEqual(out.binary, [0, 255, 1]);
    assert.deepEqual(out.batch, [["cy", "bob"], ["nobody"]]);
    assert.deepEqual(out.list, ["ada", "bob"]);
    assert.deepEqual(out.listAll, ["ada", "bob", "brief", "bytes", "cy"]);
    assert.equal(out.expired, "NOT_FOUND");
    assert.equal(out.deleted, true);
    assert.equal(out.exists, false);
    assert.match(out.missing, /^NOT_FOUND: .*'nobody'/);
    assert.equal(out.otherTable, 0);
    await page.context().close();
  });

  test("azure on azurite: a page given only a SAS token, never the account key, reads and writes what it grants", { timeout: 120_000 }, async () => {
    const emulator = await server();
    // What a web app's backend would hand its pages: an account SAS, signed with the key on the server.
    const require = createRequire(join(EMULATORS_DIR, "package.json"));
    const blobSdk = require("@azure/storage-blob");
    const { account_name: name, account_key: key } = AZURITE_CREDENTIALS;
    const sas = (permissions) => blobSdk.generateAccountSASQueryParameters({
      permissions: blobSdk.AccountSASPermissions.parse(permissions), services: "bt", resourceTypes: "sco",
      protocol: "https,http", version: "2021-12-02", expiresOn: new Date(Date.now() + 3600_000),
    }, new blobSdk.StorageSharedKeyCredential(name, key)).toString();
    const table = freshTable();
    const prefix = `sas-${Date.now()}`;
    const full = azureBinding(emulator, { prefix, table, credentials: { sas_token: sas("rwdlacu") } });
    // It may not create what it reads: the full binding does.
    const reader = { ...azureBinding(emulator, { prefix, table, credentials: { sas_token: sas("rl") },
                                                 options: { create_container: "false", create_table: "false" } }),
                     name: "reader" };
    const page = await harness.newPage();
    const out = await page.evaluate(async (bindings) => {
      const { CloudKit } = await import("/web/cloudkit.js");
      const ck = await CloudKit.start({ workers: 1, bindings });
      const code = (promise) => promise.then(() => "ok", (e) => e.codeName);
      const out = {};
      await ck.storage.createBucket("docs");
      await ck.storage.putObject("docs", "a.txt", "from a page with a SAS");
      out.read = await new Response((await ck.binding("reader").storage.getObject("docs", "a.txt")).body).text();
      out.readerPut = await code(ck.binding("reader").storage.putObject("docs", "b.txt", "no"));
      out.presign = await code(ck.storage.presignObject("docs", "a.txt"));
      await ck.kv.put("users", "ada", "v1");
      out.item = new TextDecoder().decode((await ck.binding("reader").kv.get("users", "ada")).value);
      out.shown = JSON.stringify([...ck.pool.actors.values()].map((a) => ({ ...a.spec })));
      await ck.stop();
      return out;
    }, [full, reader]);
    assert.equal(out.read, "from a page with a SAS");
    assert.equal(out.readerPut, "PERMISSION_DENIED");
    assert.equal(out.presign, "FAILED_PRECONDITION");
    assert.equal(out.item, "v1");
    assert.doesNotMatch(out.shown, /sig=/, "the token is not kept where the page can read it back");
    await page.context().close();
  });

  test("azure on azurite: failures are typed (NOT_FOUND, UNAUTHENTICATED, another origin UNAVAILABLE), the key unseen", { timeout: 120_000 }, async () => {
    const emulator = await server();
    const WRONG_KEY = Buffer.from("TOPSECRET-not-the-account-key").toString("base64");
    const good = azureBinding(emulator, { prefix: `errors-${Date.now()}`, table: freshTable() });
    const wrongKey = azureBinding(emulator, { prefix: `errors-${Date.now()}`, table: freshTable(),
                                              credentials: { ...AZURITE_CREDENTIALS, account_key: WRONG_KEY } });
    const run = async (page, bindings) => page.evaluate(async ({ bindings, wrongKey }) => {
      const { CloudKit, CloudKitError } = await import("/web/cloudkit.js");
      const outcome = (promise) => promise.then(() => "ok", (e) => ({
        code: e instanceof CloudKitError ? e.codeName : `untyped ${e}`, message: e.message, retryable: e.retryable }));
      const started = await CloudKit.start({ workers: 1, bindings }).then((ck) => ({ ck }), (e) => ({ error: e }));
      if (started.error) return { start: { code: started.error.codeName, message: started.error.message } };
      const ck = started.ck;
      const out = {};
      if (ck.bindings.has("wrong")) {
        await ck.storage.createBucket("docs");
        out.missingObject = await outcome(ck.storage.getObject("docs", "missing.txt"));
        out.missingHead = await outcome(ck.storage.headObject("docs", "missing.txt"));
        out.missingBucket = await outcome(ck.storage.getObject("nobucket", "a.txt"));
        out.missingItem = await outcome(ck.kv.get("t", "missing"));
        out.wrongKey = await outcome(ck.binding("wrong").storage.listObjects("docs"));
        out.wrongKeyTable = await outcome(ck.binding("wrong").kv.get("t", "k"));
        // A HEAD's 404 has no body: only the exposed x-ms-error-code tells a missing container from a missing blob.
        out.noContainer = await outcome(ck.binding("nocontainer").storage.headObject("docs", "a.txt"));
        out.shown = JSON.stringify([...ck.pool.actors.values()].map((a) => ({ ...a.spec })));
        ck.killWorker(0);
        out.afterRestart = await outcome(ck.storage.listObjects("docs"));
        out.wrongAfterRestart = (await outcome(ck.binding("wrong").storage.listObjects("docs"))).code;
      } else {
        out.otherOrigin = await outcome(ck.storage.bucketExists("docs"));
        out.otherOriginTable = await outcome(ck.kv.get("t", "k"));
      }
      await ck.stop();
      return out;
    }, { bindings });

    const page = await harness.newPage();
    const noContainer = azureBinding(emulator, { container: `missing-${Date.now()}`, services: ["object_storage"],
                                                 options: { create_container: "false" } });
    const out = await run(page, [good, { ...wrongKey, name: "wrong" }, { ...noContainer, name: "nocontainer" }]);
    assert.equal(out.missingObject.code, "NOT_FOUND");
    assert.match(out.missingObject.message, /object 'missing.txt' in bucket 'docs'/);
    assert.equal(out.missingHead.code, "NOT_FOUND");
    assert.equal(out.noContainer.code, "FAILED_PRECONDITION", "x-ms-error-code ContainerNotFound is exposed through CORS");
    assert.match(out.noContainer.message, /container 'missing-\d+' does not exist/);
    assert.equal(out.missingBucket.code, "NOT_FOUND");
    assert.match(out.missingBucket.message, /bucket 'nobucket'/);
    assert.equal(out.missingItem.code, "NOT_FOUND");
    assert.equal(out.wrongKey.code, "UNAUTHENTICATED");
    assert.equal(out.wrongKey.retryable, false);
    assert.equal(out.wrongKeyTable.code, "UNAUTHENTICATED");
    for (const message of [out.wrongKey.message, out.wrongKeyTable.message]) {
      assert.doesNotMatch(message, new RegExp(`TOPSECRET|${WRONG_KEY}|${AZURITE_CREDENTIALS.account_key.slice(0, 12)}`));
    }
    assert.doesNotMatch(out.shown, new RegExp(`${WRONG_KEY.slice(0, 12)}|${AZURITE_CREDENTIALS.account_key.slice(0, 12)}`));
    assert.equal(out.afterRestart, "ok");
    assert.equal(out.wrongAfterRestart, "UNAUTHENTICATED");
    await page.context().close();

    // The same service from a page of another origin, which the rule does not list.
    const other = await harness.newPage();
    await other.goto(`${harness.url.replace("127.0.0.1", "localhost")}/index.html`);
    const refused = await run(other, [azureBinding(emulator, { prefix: "other", table: freshTable(),
                                                               options: { max_attempts: "1", create_container: "false" } })]);
    assert.equal(refused.otherOrigin.code, "UNAVAILABLE");
    assert.match(refused.otherOrigin.message, /CORS/);
    assert.equal(refused.otherOriginTable.code, "UNAVAILABLE");
    await other.context().close();

    // A binding that serves no service it is given, named without its services.
    const page2 = await harness.newPage();
    const containerOnly = await run(page2, [azureBinding(emulator, { prefix: "x" })]);
    assert.equal(containerOnly.start.code, "INVALID_ARGUMENT");
    assert.match(containerOnly.start.message, /serves key_value with option 'table'/);
    await page2.context().close();
  });
});
