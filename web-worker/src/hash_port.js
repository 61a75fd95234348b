// The JS half of the browser's hash port (wasm/browser_ports.cc): incremental
// hashers by handle — MD5 from the spark-md5 package, SHA-256 from
// @noble/hashes — and HMAC-SHA256 (@noble/hashes), all synchronous.
import SparkMD5 from "spark-md5";
import { sha256 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";

const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

// The same three calls for either algorithm.
const algorithms = {
  md5: () => {
    const md5 = new SparkMD5.ArrayBuffer();
    return { update: (bytes) => md5.append(bytes), finish: () => md5.end() };
  },
  sha256: () => {
    const sha = sha256.create();
    // The wasm heap view is only valid during the call: noble copies what it needs.
    return { update: (bytes) => sha.update(bytes), finish: () => toHex(sha.digest()) };
  },
};

export function createHashPort() {
  const hashers = new Map();
  let next = 1;
  return {
    create(algorithm) {
      const handle = next++;
      hashers.set(handle, algorithms[algorithm]());
      return handle;
    },
    update(handle, bytes) { hashers.get(handle).update(bytes); },
    finish(handle) {
      const hex = hashers.get(handle).finish();
      hashers.delete(handle);
      return hex;
    },
    discard(handle) { hashers.delete(handle); },
    hmacSha256(key, data) { return hmac(sha256, key, data); },
  };
}
