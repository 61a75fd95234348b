// The script each Web Worker of the pool runs: one instance of the wasm core
// (actors/ compiled with Emscripten) hosting the actors the page placed here.
// Messages from the page: {op: "spawn", actorId, spec}, {op: "frame", actorId,
// envelope, body}, {op: "stop", actorId}. To the page: {op: "ready"},
// {op: "spawned", actorId, code, message}, {op: "frame", actorId, envelope,
// body, endsCall}. Envelopes and bodies are protobuf bytes (Uint8Array); large
// bodies are transferred across the worker boundary, never copied.
import createCloudKitCore from "./core/cloudkit_core.mjs";
import { Mailboxes } from "./mailboxes.js";
import { TRANSFER_THRESHOLD } from "./transfer.js";
import { createIdbStorage } from "./idb_storage.js";
import { createMd5Port } from "./md5_port.js";
import { createFetchHttp } from "./fetch_http.js";

// envelope and body are fresh copies out of the wasm heap. Large bodies are
// transferred; small ones are cheaper to copy again than to transfer.
function emit(actorId, envelope, body, endsCall) {
  self.postMessage({ op: "frame", actorId, envelope, body, endsCall },
                   body.byteLength >= TRANSFER_THRESHOLD ? [body.buffer] : []);
}

const core = await createCloudKitCore({
  ckMd5: createMd5Port(),
  ckEmit: emit,
  ckIdb: createIdbStorage(self.indexedDB),
  ckHttp: createFetchHttp(),
  locateFile: (file) => new URL(file, self.location.href).href,
});

// Copies buffers into one wasm heap allocation for the duration of
// fn(ptr0, size0, ptr1, size1, ...). Returns fn's result, or a promise of it
// when the core suspended (an actor waiting on storage or HTTP).
function withHeapBytes(buffers, fn) {
  const arrays = buffers.map((b) => (b instanceof Uint8Array ? b : new Uint8Array(b)));
  const total = arrays.reduce((sum, a) => sum + a.length, 0);
  const base = core._malloc(Math.max(total, 1));
  const args = [];
  let at = base;
  for (const bytes of arrays) {
    core.HEAPU8.set(bytes, at);
    args.push(at, bytes.length);
    at += bytes.length;
  }
  let result;
  try {
    result = fn(...args);
  } catch (error) {
    core._free(base);
    throw error;
  }
  if (result instanceof Promise) return result.finally(() => core._free(base));
  core._free(base);
  return result;
}
// Without {async: true}, Emscripten's ccall returns the plain result when the
// call did not suspend and a promise when it did: no promise on the fast path.
const call = (name, args) => core.ccall(name, "number", args.map(() => "number"), args);

// A failure escaping the core (a wasm trap, an abort) leaves it unusable: make
// it an uncaught error, which the page sees as this worker dying and answers
// by replacing it.
const die = (error) => setTimeout(() => { throw error; });
self.addEventListener("unhandledrejection", (event) => die(event.reason));

const mailboxes = new Mailboxes(
  (actorId, message) => {
    if (actorId === Mailboxes.CONTROL) return message.run();
    try {
      const done = withHeapBytes([message.envelope, message.body], (envPtr, envSize, bodyPtr, bodySize) =>
        call("ck_deliver", [actorId, envPtr, envSize, bodyPtr, bodySize]));
      return done instanceof Promise ? done.catch(die) : done;
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
  switch (data.op) {
    case "spawn":
      mailboxes.exclusive(async () => {
        const code = await withHeapBytes([data.spec], (ptr, size) => call("ck_spawn", [ptr, size]));  // may suspend
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
    case "ping":  // liveness, and the floor of a page <-> worker round trip
      self.postMessage({ op: "pong", id: data.id });
      break;
    case "crash":  // tests: die the way a wasm trap would
      setTimeout(() => { throw new Error("worker crashed on request"); });
      break;
  }
};
self.postMessage({ op: "ready" });
