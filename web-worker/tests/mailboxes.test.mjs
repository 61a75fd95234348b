// The worker-side scheduling (src/mailboxes.js) under Node: per-actor FIFO,
// round-robin fairness between actors, one delivery at a time even when a
// delivery is asynchronous, and time slices that give the event loop back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Mailboxes } from "../src/mailboxes.js";

const nextTask = (fn) => setImmediate(fn);
const idle = () => new Promise((resolve) => setTimeout(resolve, 20));

test("each actor's messages arrive in order", async () => {
  const seen = [];
  const boxes = new Mailboxes((actor, m) => seen.push([actor, m]), nextTask);
  for (let i = 0; i < 5; ++i) boxes.post(1, i);
  await idle();
  assert.deepEqual(seen.map(([, m]) => m), [0, 1, 2, 3, 4]);
});

// A delivery for actor "gate" that holds the loop until release(): messages
// posted meanwhile form a backlog, as they do while a worker is busy.
function gated(deliver) {
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  return { release, deliver: (actor, m) => (actor === "gate" ? gate : deliver(actor, m)) };
}

test("a busy actor does not starve the others on its worker", async () => {
  const seen = [];
  const { release, deliver } = gated((actor) => seen.push(actor));
  const boxes = new Mailboxes(deliver, nextTask);
  boxes.post("gate", 0);
  for (let i = 0; i < 1000; ++i) boxes.post("busy", i);
  boxes.post("quiet", 0);
  boxes.post("other", 0);
  release();
  await idle();
  assert.equal(seen.length, 1002);
  assert.ok(seen.indexOf("quiet") <= 2, `quiet ran at position ${seen.indexOf("quiet")}`);
  assert.ok(seen.indexOf("other") <= 2, `other ran at position ${seen.indexOf("other")}`);
});

test("an idle loop delivers at once, without waiting for another task", () => {
  const seen = [];
  const boxes = new Mailboxes((actor, m) => seen.push(m), () => assert.fail("scheduled a task"));
  boxes.post(1, "now");
  assert.deepEqual(seen, ["now"]);
});

test("asynchronous deliveries never overlap and keep order", async () => {
  let running = 0, maxRunning = 0;
  const seen = [];
  const boxes = new Mailboxes(async (actor, m) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((resolve) => setTimeout(resolve, 1));
    seen.push(`${actor}${m}`);
    running--;
  }, nextTask);
  for (let i = 0; i < 3; ++i) { boxes.post("a", i); boxes.post("b", i); }
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(maxRunning, 1);
  assert.deepEqual(seen, ["a0", "b0", "a1", "b1", "a2", "b2"]);
});

test("exclusive chores run between deliveries, in turn", async () => {
  const seen = [];
  const boxes = new Mailboxes((actor, m) => (actor === Mailboxes.CONTROL ? m.run() : seen.push(m)), nextTask);
  boxes.post(1, "first");
  const chore = boxes.exclusive(() => { seen.push("chore"); return 7; });
  boxes.post(1, "second");
  assert.equal(await chore, 7);
  await idle();
  assert.deepEqual(seen, ["first", "chore", "second"]);
});

test("a long run yields to the event loop after its time slice", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const boxes = new Mailboxes(() => { const until = Date.now() + 2; while (Date.now() < until); }, nextTask, 8);
  for (let i = 0; i < 50; ++i) boxes.post(1, i);  // ~100 ms of work
  await new Promise((resolve) => setTimeout(resolve, 300));
  clearInterval(timer);
  assert.ok(ticks > 3, `timers ran ${ticks} times during the work`);
});

test("a removed actor's pending mail is dropped", async () => {
  const seen = [];
  const { release, deliver } = gated((actor, m) => seen.push(m));
  const boxes = new Mailboxes(deliver, nextTask);
  boxes.post("gate", 0);
  boxes.post(1, "dropped");
  boxes.remove(1);
  boxes.post(2, "kept");
  release();
  await idle();
  assert.deepEqual(seen, ["kept"]);
});
