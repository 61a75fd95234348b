// Runs the wasm test suite (wasm_tests.wasm: the native conformance suite's
// case files against `memory` and IndexedDB `local`) in a worker and posts
// its output to the page: {line} for each line, then {exitCode}.
//
// The ports' JS halves are the worker bundle's (src/port_calls.js). The
// suite waits for their replies in RunTask, asleep through Asyncify; each
// reply is handed to the suite's ck_port_reply during such a sleep, which
// posts it to the waiting test's executor.
import createWasmTests from "./core/wasm_tests.mjs";
import { createFetchHttp } from "./fetch_http.js";
import { createIdbStorage } from "./idb_storage.js";
import { createHashPort } from "./hash_port.js";
import { createPortCalls } from "./port_calls.js";
import { createTimerPort } from "./timer_port.js";

const post = (line) => self.postMessage({ line });
const ports = { ckIdb: createIdbStorage(self.indexedDB), ckHttp: createFetchHttp(), ckTimer: createTimerPort() };
// Emscripten's MODULARIZE makes this object the module: its exports land here.
const Module = {
  ckHash: createHashPort(),
  ckIdb: ports.ckIdb,
  ckPortCall: createPortCalls(ports, (actorId, id, bytes) => {
    const ptr = Module._malloc(Math.max(bytes.length, 1));
    Module.HEAPU8.set(bytes, ptr);
    Module._ck_port_reply(actorId, id, ptr, bytes.length);
    Module._free(ptr);
  }, (error) => setTimeout(() => { throw error; })),
  arguments: ["--gtest_color=no", ...new URL(self.location.href).searchParams.getAll("arg")],
  locateFile: (file) => new URL(file, self.location.href).href,
  print: post,
  printErr: post,
  onDone: (exitCode) => self.postMessage({ exitCode }),
};
await createWasmTests(Module);
