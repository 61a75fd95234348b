// Runs the browser conformance suite (conformance_web.wasm: the native suite's
// case files against `memory` and IndexedDB `local`) in a worker and posts
// its output to the page: {line} for each line, then {exitCode}.
import createConformance from "./core/conformance_web.mjs";
import { createIdbStorage } from "./idb_storage.js";
import { createMd5Port } from "./md5_port.js";

const post = (line) => self.postMessage({ line });
await createConformance({
  ckMd5: createMd5Port(),
  ckIdb: createIdbStorage(self.indexedDB),
  arguments: ["--gtest_color=no", ...new URL(self.location.href).searchParams.getAll("arg")],
  locateFile: (file) => new URL(file, self.location.href).href,
  print: post,
  printErr: post,
  onDone: (exitCode) => self.postMessage({ exitCode }),
});
