// The worker-side scheduling (src/mailboxes.js) under Node: per-actor FIFO,
// round-robin fairness between actors, one delivery at a time, never waiting
// on one (many calls in flight), and time slices that give the event loop back.
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

// Messages posted while the loop is busy form a backlog, as they do while a
// worker runs a long delivery: gated() posts everything during the delivery
// of the "gate" message, then lets the loop go on.
function gated(deliver) {
  let during = () => {};
  return {
    whileBusy: (fn) => { during = fn; },
    deliver: (actor, m) => (actor === "gate" ? during() : deliver(actor, m)),
  };
}

test("a busy actor does not starve the others on its worker", async () => {
  const seen = [];
  const { whileBusy, deliver } = gated((actor) => seen.push(actor));
  const boxes = new Mailboxes(deliver, nextTask);
  whileBusy(() => {
    for (let i = 0; i < 1000; ++i) boxes.post("busy", i);
    boxes.post("quiet", 0);
    boxes.post("other", 0);
  });
  boxes.post("gate", 0);
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

test("the loop never waits on a delivery: work it starts overlaps, its answers come back as mail", async () => {
  // Each "call" starts work that answers 20 ms later by posting to its actor,
  // as a port's reply does; a delivery that returned a promise is not waited for.
  let inFlight = 0, maxInFlight = 0;
  const seen = [];
  const boxes = new Mailboxes((actor, m) => {
    if (m.reply !== undefined) {
      inFlight--;
      seen.push(`${actor}:reply${m.reply}`);
      return;
    }
    seen.push(`${actor}${m}`);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise((resolve) => setTimeout(() => { boxes.post(actor, { reply: m }); resolve(); }, 20));
  }, nextTask);
  for (let i = 0; i < 3; ++i) { boxes.post("a", i); boxes.post("b", i); }
  assert.equal(maxInFlight, 6, "all six calls started before any answered");
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(inFlight, 0);
  assert.deepEqual(seen.slice(0, 6), ["a0", "b0", "a1", "b1", "a2", "b2"]);
  assert.deepEqual(seen.filter((s) => s.startsWith("a")), ["a0", "a1", "a2", "a:reply0", "a:reply1", "a:reply2"]);
});

test("one delivery at a time: a delivery that posts is not re-entered", () => {
  let depth = 0, maxDepth = 0;
  const boxes = new Mailboxes((actor, m) => {
    depth++;
    maxDepth = Math.max(maxDepth, depth);
    if (m < 5) boxes.post(actor, m + 1);  // e.g. a {run} message asked for during a turn
    depth--;
  }, (fn) => setImmediate(fn));
  boxes.post(1, 0);
  assert.equal(maxDepth, 1);
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
  const { whileBusy, deliver } = gated((actor, m) => seen.push(m));
  const boxes = new Mailboxes(deliver, nextTask);
  whileBusy(() => {
    boxes.post(1, "dropped");
    boxes.remove(1);
    boxes.post(2, "kept");
  });
  boxes.post("gate", 0);
  await idle();
  assert.deepEqual(seen, ["kept"]);
});
