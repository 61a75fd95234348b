// Runs the wasm test suite (wasm_tests.wasm: the native conformance suite's
// case files against `memory` and IndexedDB `local`, and the browser ports'
// tests) in a worker and posts its output to the page: {line} for each line,
// then {exitCode}.
import createWasmTests from "./core/wasm_tests.mjs";
import { createFetchHttp } from "./fetch_http.js";
import { createIdbStorage } from "./idb_storage.js";
import { createMd5Port } from "./md5_port.js";

const post = (line) => self.postMessage({ line });
await createWasmTests({
  ckHttp: createFetchHttp(),
  ckMd5: createMd5Port(),
  ckIdb: createIdbStorage(self.indexedDB),
  arguments: ["--gtest_color=no", ...new URL(self.location.href).searchParams.getAll("arg")],
  locateFile: (file) => new URL(file, self.location.href).href,
  print: post,
  printErr: post,
  onDone: (exitCode) => self.postMessage({ exitCode }),
});
