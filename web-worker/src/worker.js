// The script each Web Worker of the pool runs: one instance of the wasm core
// (actors/ compiled with Emscripten) hosting the actors the page placed here.
// Messages from the page: {op: "spawn", actorId, spec}, {op: "frame", actorId,
// envelope, body}, {op: "stop", actorId}. To the page: {op: "ready"},
// {op: "spawned", actorId, code, message}, {op: "frame", actorId, envelope,
// body, endsCall}. Envelopes and bodies are protobuf bytes in ArrayBuffers
// that are transferred, never copied, across the worker boundary.
import SparkMD5 from "spark-md5";
import createCloudKitCore from "./core/cloudkit_core.mjs";
import { Mailboxes } from "./mailboxes.js";

const hashers = new Map();
let nextHasher = 1;
const md5 = {
  create() {
    const handle = nextHasher++;
    hashers.set(handle, new SparkMD5.ArrayBuffer());
    return handle;
  },
  update(handle, bytes) { hashers.get(handle).append(bytes); },
  finish(handle) {
    const hex = hashers.get(handle).end();
    hashers.delete(handle);
    return hex;
  },
  discard(handle) { hashers.delete(handle); },
};

function emit(actorId, envelope, body, endsCall) {
  self.postMessage({ op: "frame", actorId, envelope: envelope.buffer, body: body.buffer, endsCall },
                   [envelope.buffer, body.buffer]);
}

const core = await createCloudKitCore({
  ckMd5: md5,
  ckEmit: emit,
  locateFile: (file) => new URL(file, self.location.href).href,
});

// Copies bytes into the wasm heap for the duration of fn(ptr, size).
function withHeapBytes(buffer, fn) {
  const bytes = new Uint8Array(buffer);
  const ptr = core._malloc(Math.max(bytes.length, 1));
  try {
    core.HEAPU8.set(bytes, ptr);
    return fn(ptr, bytes.length);
  } finally {
    core._free(ptr);
  }
}

const mailboxes = new Mailboxes(
  (actorId, { envelope, body }) =>
    withHeapBytes(envelope, (envPtr, envSize) =>
      withHeapBytes(body, (bodyPtr, bodySize) => core._ck_deliver(actorId, envPtr, envSize, bodyPtr, bodySize))),
  (() => {
    const channel = new MessageChannel();
    const pending = [];
    channel.port1.onmessage = () => pending.shift()();
    return (callback) => { pending.push(callback); channel.port2.postMessage(0); };
  })());

self.onmessage = ({ data }) => {
  switch (data.op) {
    case "spawn": {
      const code = withHeapBytes(data.spec, (ptr, size) => core._ck_spawn(ptr, size));
      const message = code === 0 ? "" : core.UTF8ToString(core._ck_last_error());
      self.postMessage({ op: "spawned", actorId: data.actorId, code, message });
      break;
    }
    case "frame":
      mailboxes.post(data.actorId, data);
      break;
    case "stop":
      mailboxes.remove(data.actorId);
      core._ck_stop(data.actorId);
      break;
    case "crash":  // tests: die the way a wasm trap would
      setTimeout(() => { throw new Error("worker crashed on request"); });
      break;
  }
};
self.postMessage({ op: "ready" });
