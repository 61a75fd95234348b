// The page side of the actor scheduler: a pool of Web Workers, each running the
// wasm core. It places actors on workers (the least loaded), routes each call's
// frames to its actor, enforces call timeouts, and recovers from a dead worker:
// the worker is replaced, its actors are re-created on the new one, and its
// calls in flight fail with UNAVAILABLE instead of hanging. A worker whose
// script (or wasm) does not load is not replaced: its failure names the
// script's URL (or the wasm's) and what fetching it answers. Once
// terminated, the pool starts nothing and every call fails at once.
import { create, toBinary, fromBinary } from "@bufbuild/protobuf";
import { RequestEnvelopeSchema, ResponseEnvelopeSchema, FrameKind } from "./gen/cloudkit/v1/envelope_pb.js";
import { StatusCode } from "./gen/cloudkit/v1/status_pb.js";
import { SpawnActorSchema } from "./gen/cloudkit/web/v1/worker_pb.js";
import { CloudKitError } from "./errors.js";
import { packs, packFrame, unpackFrame } from "./frames.js";

class PoolWorker {
  constructor(pool, index) {
    this.pool = pool;
    this.index = index;
    this.actors = new Set();
    this.calls = new Set();
    this.start();
  }

  start() {
    this.worker = new Worker(this.pool.workerUrl, { type: "module", name: `cloudkit-${this.index}` });
    this.spawnWaiters = new Map();
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.ready.catch(() => {});  // whoever waits for it reports the failure
    // Frames wait here until the worker is ready and its actors exist.
    this.accepting = false;
    this.queued = [];
    this.loaded = false;
    this.worker.onmessage = ({ data }) => this.onMessage(data);
    this.worker.onerror = (event) => {
      event.preventDefault?.();
      if (this.loaded) this.pool.onWorkerDied(this, event.message || "worker error");
      else this.pool.onWorkerFailedToLoad(this, event.message);
    };
  }

  onMessage(data) {
    if (data instanceof Uint8Array) return this.pool.onFrame(data);
    switch (data.op) {
      case "ready":
        this.loaded = true;
        this.pool.description ??= data.description;
        this.readyResolve();
        if (!this.restarting) this.open();
        break;
      case "spawned": {
        const waiter = this.spawnWaiters.get(data.actorId);
        this.spawnWaiters.delete(data.actorId);
        if (waiter) waiter(data);
        break;
      }
      case "frame": this.pool.onFrame(data); break;
      case "failed":  // the script ran but its wasm core did not load; `message` says why
        this.pool.onWorkerFailedToLoad(this, data.message, { reported: true });
        break;
    }
  }

  async spawn(actor) {
    await this.ready;
    if (this.loadFailure) throw this.loadFailure;
    // The credentials are not enumerable (cloudkit.js): named here, where they go to the worker.
    const spec = toBinary(SpawnActorSchema, create(SpawnActorSchema, {
      ...actor.spec, credentials: actor.spec.credentials ?? {}, actorId: actor.id,
    }));
    const reply = new Promise((resolve) => this.spawnWaiters.set(actor.id, resolve));
    this.worker.postMessage({ op: "spawn", actorId: actor.id, spec: spec.buffer }, [spec.buffer]);
    const { code, message } = await reply;
    if (code !== StatusCode.OK) throw new CloudKitError(code, message);
    this.actors.add(actor.id);
  }

  open() {
    this.accepting = true;
    for (const [message, transfer] of this.queued) this.worker.postMessage(message, transfer ?? []);
    this.queued = [];
  }

  post(message, transfer) {
    if (this.accepting) {
      if (transfer) this.worker.postMessage(message, transfer);
      else this.worker.postMessage(message);
    } else {
      this.queued.push([message, transfer]);
    }
  }
}

const STOPPED = "unavailable: CloudKit was stopped";

// The envelope of every frame the page sends, refilled each time: encoding is
// synchronous, and a new message per frame costs more than setting its fields.
const outgoing = create(RequestEnvelopeSchema);

// One call in flight: its frames go to onFrame(envelope, body) until it ends.
class Call {
  constructor(pool, actor, requestId, onFrame, timeoutMs) {
    this.pool = pool;
    this.actor = actor;
    this.requestId = requestId;
    this.onFrame = onFrame;
    this.timeoutMs = timeoutMs;
    this.ended = false;
    this.armTimer();
  }

  // Streams restart the deadline on every frame the page sends, as the daemon does.
  armTimer() {
    if (this.timeoutMs > 0) this.pool.deadlines.arm(this, performance.now() + this.timeoutMs);
  }

  expire() {
    this.send(FrameKind.CANCEL);
    this.fail(StatusCode.DEADLINE_EXCEEDED, `deadline exceeded: no reply within ${this.timeoutMs} ms`);
  }

  send(kind, body = new Uint8Array(0), { credits = 0, endOfStream = false, method = "", timeoutMs = 0 } = {}) {
    if (this.ended && kind !== FrameKind.CANCEL) return;
    Object.assign(outgoing, { requestId: this.requestId, kind, method, credits, endOfStream, timeoutMs });
    const envelope = toBinary(RequestEnvelopeSchema, outgoing);
    const worker = this.pool.workerOf(this.actor);
    if (kind !== FrameKind.CANCEL) this.armTimer();
    if (packs(body)) {
      worker.post(packFrame(this.actor.id, envelope, body));
    } else {
      // Large bodies move to the worker without a copy. A view shares its
      // buffer, which a transfer would take whole.
      if (body.byteOffset !== 0 || body.byteLength !== body.buffer.byteLength) body = body.slice();
      worker.post({ op: "frame", actorId: this.actor.id, envelope, body }, [body.buffer]);
    }
  }

  deliver(envelope, body, endsCall) {
    if (this.ended) return;
    if (endsCall) this.end();
    this.onFrame(envelope, body);
  }

  fail(code, message, retryable = true) {
    if (this.ended) return;
    this.end();
    this.onFrame(create(ResponseEnvelopeSchema, {
      requestId: this.requestId, kind: FrameKind.RESPONSE, status: { code, message, retryable },
    }), new Uint8Array(0));
  }

  end() {
    this.ended = true;
    this.pool.deadlines.disarm(this);
    this.pool.calls.delete(this.requestId);
    this.pool.workerOf(this.actor)?.calls.delete(this);
  }
}

// Call deadlines, checked by one coarse timer that ticks only while calls are
// in flight (it stops on the first idle tick): a timer per call costs more
// than the calls themselves.
class Deadlines {
  constructor(tickMs = 25) {
    this.tickMs = tickMs;
    this.calls = new Map();  // call -> deadline (performance.now() ms)
    this.timer = null;
  }
  arm(call, deadline) {
    this.calls.set(call, deadline);
    if (this.timer === null) this.timer = setInterval(() => this.check(), this.tickMs);
  }
  disarm(call) { this.calls.delete(call); }
  check() {
    if (this.calls.size === 0) {  // idle: stop ticking until the next call
      clearInterval(this.timer);
      this.timer = null;
      return;
    }
    const now = performance.now();
    for (const [call, deadline] of this.calls) if (deadline <= now) call.expire();
  }
}

export class WorkerPool {
  constructor(workerUrl, size) {
    this.deadlines = new Deadlines();
    this.workerUrl = workerUrl;
    this.description = undefined;  // the cores' CoreDescription bytes, from the first worker ready
    this.workers = [];
    for (let i = 0; i < size; ++i) this.workers.push(new PoolWorker(this, i));
    this.actors = new Map();  // actorId -> {id, spec, worker}
    this.calls = new Map();   // requestId -> Call
    this.nextActorId = 1;
    this.nextRequestId = 1;
    this.restarts = 0;
    this.terminated = false;
  }

  async ready() { await Promise.all(this.workers.map((w) => w.ready)); }

  async spawn(spec) {
    const worker = this.workers.reduce((a, b) => (b.actors.size < a.actors.size ? b : a));
    const actor = { id: this.nextActorId++, spec, worker };
    worker.actors.add(actor.id);  // counted for placement while it spawns
    try {
      await worker.spawn(actor);
    } catch (error) {
      worker.actors.delete(actor.id);
      throw error;
    }
    this.actors.set(actor.id, actor);
    return actor;
  }

  workerOf(actor) { return actor.worker; }

  // Starts a call to `actor`; frames come back through onFrame. A call the
  // pool cannot make (stopped, or the actor's worker did not load) fails on
  // the next microtask, as a reply would.
  call(actor, onFrame, timeoutMs) {
    const call = new Call(this, actor, this.nextRequestId++, onFrame, timeoutMs);
    this.calls.set(call.requestId, call);
    actor.worker.calls.add(call);
    const refusal = this.refusal(actor.worker);
    if (refusal) queueMicrotask(() => call.fail(StatusCode.UNAVAILABLE, refusal, false));
    return call;
  }

  // Why calls on `worker` cannot run, or undefined.
  refusal(worker) {
    if (this.terminated) return STOPPED;
    return worker?.loadFailure?.message;
  }

  onFrame(frame) {
    const { envelope, body, endsCall } = frame instanceof Uint8Array ? unpackFrame(frame) : frame;
    const decoded = fromBinary(ResponseEnvelopeSchema, envelope);
    const call = this.calls.get(Number(decoded.requestId));
    if (call) call.deliver(decoded, body, endsCall);
  }

  // A worker that never became ready. Either its script did not load, and
  // fetching the URL says why (most often an HTTP status), or the script ran
  // and `reported` why the wasm it loads did not (worker.js names the wasm's
  // URL and what fetching it answered).
  async onWorkerFailedToLoad(worker, errorMessage, { reported = false } = {}) {
    if (worker.loadFailure || this.terminated) return;
    worker.worker.terminate();
    const url = String(this.workerUrl);
    let message;
    if (reported) {
      message = `unavailable: worker script ${url} loaded, but ${errorMessage}`;
    } else {
      let why;
      try {
        const response = await fetch(url, { cache: "no-store" });
        why = response.ok ? `it loads (HTTP ${response.status}) but failed to start: ${errorMessage || "script error"}`
                          : `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
      } catch (error) {
        why = `fetching it failed: ${error.message}`;
      }
      if (worker.loadFailure || this.terminated) return;  // reported meanwhile, or stopped
      message = `unavailable: worker script ${url} did not load: ${why}`;
    }
    const failure = new CloudKitError(StatusCode.UNAVAILABLE, message);
    worker.loadFailure = failure;
    worker.readyReject?.(failure);
    for (const waiter of worker.spawnWaiters.values()) waiter({ code: failure.code, message: failure.message });
    for (const call of [...worker.calls]) call.fail(StatusCode.UNAVAILABLE, failure.message, false);
  }

  // Replaces a dead worker, re-creates its actors there, and fails its calls.
  onWorkerDied(worker, reason) {
    if (worker.dead || this.terminated) return;
    worker.dead = true;
    worker.worker.terminate();
    worker.readyReject?.(new CloudKitError(StatusCode.UNAVAILABLE, `unavailable: worker died: ${reason}`));
    for (const waiter of worker.spawnWaiters.values()) {
      waiter({ code: StatusCode.UNAVAILABLE, message: `unavailable: worker died: ${reason}` });
    }
    const calls = [...worker.calls];
    worker.calls.clear();
    this.restarts++;
    worker.dead = false;
    worker.restarting = true;
    worker.start();
    const actors = [...worker.actors].map((id) => this.actors.get(id)).filter(Boolean);
    worker.actors.clear();
    worker.respawned = Promise.all(actors.map((actor) => worker.spawn(actor).catch(() => {}))).then(() => {
      worker.restarting = false;
      worker.open();
    });
    for (const call of calls) call.fail(StatusCode.UNAVAILABLE, `unavailable: the worker running this call died (${reason})`);
  }

  // Tests and the example use this to simulate a crash.
  kill(index) { this.onWorkerDied(this.workers[index], "killed"); }

  // Ends every worker and fails every call in flight; later calls fail at once.
  terminate() {
    if (this.terminated) return;
    this.terminated = true;
    for (const w of this.workers) {
      w.worker.terminate();
      w.readyReject?.(new CloudKitError(StatusCode.UNAVAILABLE, STOPPED));
      for (const waiter of w.spawnWaiters.values()) waiter({ code: StatusCode.UNAVAILABLE, message: STOPPED });
    }
    for (const call of [...this.calls.values()]) call.fail(StatusCode.UNAVAILABLE, STOPPED, false);
  }
}
