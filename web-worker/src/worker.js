// The script each Web Worker of the pool runs: one instance of the wasm core
// (actors/ compiled with Emscripten) hosting the actors the page placed here.
// Messages from the page: {op: "spawn", actorId, spec}, {op: "stop", actorId},
// and call frames (frames.js: a packed Uint8Array, or {op: "frame", actorId,
// envelope, body} when the body is large). To the page: {op: "ready"},
// {op: "spawned", actorId, code, message}, {op: "failed", message} when the
// wasm core did not load, and the actors' frames, packed the same way
// ({op: "frame", ..., endsCall} when large). Envelopes and bodies are
// protobuf bytes; large bodies are transferred, never copied.
import createCloudKitCore from "./core/cloudkit_core.mjs";
import { Mailboxes } from "./mailboxes.js";
import { packs, packFrame, unpackFrame, packedActorId } from "./frames.js";
import { createIdbStorage } from "./idb_storage.js";
import { createHashPort } from "./hash_port.js";
import { createFetchHttp } from "./fetch_http.js";
import { createPortCalls } from "./port_calls.js";
import { createTimerPort } from "./timer_port.js";

// One outbound frame, read straight out of the wasm heap (the core's buffers
// are only valid during this call).
function emit(actorId, envelopePtr, envelopeSize, bodyPtr, bodySize, endsCall) {
  const heap = core.HEAPU8;
  const envelope = heap.subarray(envelopePtr, envelopePtr + envelopeSize);
  const body = heap.subarray(bodyPtr, bodyPtr + bodySize);
  if (packs(body)) {
    self.postMessage(packFrame(actorId, envelope, body, endsCall));
  } else {
    const owned = body.slice();
    self.postMessage({ op: "frame", actorId, envelope: envelope.slice(), body: owned, endsCall }, [owned.buffer]);
  }
}

// The JS halves of the asynchronous ports. A reply waits in the asking
// actor's mailbox like a frame and reaches the core on one of its turns.
const ports = { ckIdb: createIdbStorage(self.indexedDB), ckHttp: createFetchHttp(), ckTimer: createTimerPort() };

// The wasm core's URL, noted as the core asks for it, and why it did not
// load: the core's own error (an "Aborted(...)" RuntimeError) does not say
// what the server answered.
let wasmUrl = "";
async function wasmFailure(error) {
  const reason = error?.message ?? String(error);
  if (!wasmUrl) return `its wasm core did not start: ${reason}`;
  try {
    const response = await fetch(wasmUrl, { cache: "no-store" });
    if (!response.ok) {
      return `its wasm ${wasmUrl} did not load: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    }
    return `its wasm ${wasmUrl} loads (HTTP ${response.status}) but did not start: ${reason}`;
  } catch (fetchError) {
    return `fetching its wasm ${wasmUrl} failed: ${fetchError.message}`;
  }
}

const core = await createCloudKitCore({
  ckHash: createHashPort(),
  ckEmit: emit,
  ckIdb: ports.ckIdb,
  ckPortCall: createPortCalls(ports, (actorId, id, bytes) => mailboxes.post(actorId, { portReply: id, bytes }),
                              (error) => die(error)),
  // The actor's executor has functions to run: a turn of their own.
  ckRequestRun: (actorId) => mailboxes.post(actorId, RUN),
  // An actor's timer: its expiry waits in the actor's mailbox like a frame.
  // setTimeout fires at once beyond 2^31-1 ms; an early expiry only makes the
  // actor look and arm again.
  ckArmTimer: (actorId, token, generation, delayMs) =>
    setTimeout(() => mailboxes.post(actorId, { timer: token, generation }), Math.min(delayMs, 2 ** 31 - 1)),
  locateFile: (file) => {
    const url = new URL(file, self.location.href).href;
    if (file.endsWith(".wasm")) wasmUrl = url;
    return url;
  },
}).catch(async (error) => {
  // The page hears why and terminates this worker; nothing below runs.
  self.postMessage({ op: "failed", message: await wasmFailure(error) });
  return new Promise(() => {});
});

// A wasm heap region the worker reuses for the bytes of each delivery. A
// delivery runs to its end before the next (the core never waits inside
// one), so one region serves them all; it grows as needed.
let scratch = 0, scratchSize = 0;
function scratchFor(size) {
  if (size > scratchSize) {
    if (scratch) core._free(scratch);
    scratchSize = Math.max(size, 2 * scratchSize, 4096);
    scratch = core._malloc(scratchSize);
  }
  return scratch;
}
// Copies the byte arrays into the scratch region and returns their pointers.
function toHeap(...arrays) {
  let at = scratchFor(arrays.reduce((sum, a) => sum + a.length, 0));
  const heap = core.HEAPU8, pointers = [];
  for (const bytes of arrays) {
    heap.set(bytes, at);
    pointers.push(at);
    at += bytes.length;
  }
  return pointers;
}
// A failure escaping the core (a wasm trap, an abort) leaves it unusable: make
// it an uncaught error, which the page sees as this worker dying and answers
// by replacing it.
const die = (error) => setTimeout(() => { throw error; });
self.addEventListener("unhandledrejection", (event) => die(event.reason));

const RUN = { run: true };
// One message to one actor: a call frame, a port's reply, a timer expiry, or
// functions posted to its executor. Each returns once the actor's handlers
// ran; operations that wait on a port go on when its reply arrives here.
const mailboxes = new Mailboxes(
  (actorId, message) => {
    if (actorId === Mailboxes.CONTROL) return message.run();
    try {
      if (message instanceof Uint8Array || message.op === "frame") {
        const { envelope, body } = message instanceof Uint8Array ? unpackFrame(message) : message;
        const [envelopePtr, bodyPtr] = toHeap(envelope, body);
        core._ck_deliver(actorId, envelopePtr, envelope.length, bodyPtr, body.length);
      } else if (message.portReply !== undefined) {
        const [bytesPtr] = toHeap(message.bytes);
        core._ck_port_reply(actorId, message.portReply, bytesPtr, message.bytes.length);
      } else if (message === RUN) {
        core._ck_run(actorId);
      } else {
        core._ck_timer(actorId, message.timer, message.generation);
      }
    } catch (error) {
      die(error);
    }
  },
  (() => {
    const channel = new MessageChannel();
    const pending = [];
    channel.port1.onmessage = () => pending.shift()();
    return (callback) => { pending.push(callback); channel.port2.postMessage(0); };
  })());

self.onmessage = ({ data }) => {
  if (data instanceof Uint8Array) {
    mailboxes.post(packedActorId(data), data);
    return;
  }
  switch (data.op) {
    case "spawn":
      mailboxes.exclusive(() => {
        const spec = new Uint8Array(data.spec);
        const code = core._ck_spawn(toHeap(spec)[0], spec.length);
        const message = code === 0 ? "" : core.UTF8ToString(core._ck_last_error());
        self.postMessage({ op: "spawned", actorId: data.actorId, code, message });
      });
      break;
    case "frame":
      mailboxes.post(data.actorId, data);
      break;
    case "stop":
      mailboxes.remove(data.actorId);
      mailboxes.exclusive(() => core._ck_stop(data.actorId));
      break;
    case "crash":  // tests: die the way a wasm trap would
      setTimeout(() => { throw new Error("worker crashed on request"); });
      break;
  }
};
// The page routes calls from the core's table of services.
const describe = () => {
  const sizePtr = core._malloc(4);
  const at = core._ck_describe(sizePtr);
  const heap = core.HEAPU8;
  const size = (heap[sizePtr] | (heap[sizePtr + 1] << 8) | (heap[sizePtr + 2] << 16) | (heap[sizePtr + 3] << 24)) >>> 0;
  const bytes = heap.slice(at, at + size);
  core._free(sizePtr);
  return bytes;
};
self.postMessage({ op: "ready", description: describe() });
