// The JS half of the browser's hash port (wasm/browser_ports.cc): incremental
// MD5 hashers by handle, from the spark-md5 package.
import SparkMD5 from "spark-md5";

export function createMd5Port() {
  const hashers = new Map();
  let next = 1;
  return {
    create() {
      const handle = next++;
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
}
