// Starts s3rver (tests/emulators) for the browser tests (node_emulator.mjs):
// 127.0.0.1 on a port it picks, the given buckets created at start with the
// allow-all CORS rule (tests/emulators/s3rver-cors-allow-all.xml) so that a
// page on another origin may call them, and `closedBuckets` without any CORS
// rule. stop() kills it and removes its directory.
import { join } from "node:path";
import { EMULATORS_DIR, startNodeEmulator } from "./node_emulator.mjs";

export const S3RVER_CREDENTIALS = { access_key_id: "S3RVER", secret_access_key: "S3RVER" };

export async function startS3rver({ buckets = [], closedBuckets = [], timeoutMs = 60_000 } = {}) {
  const args = (dir) => {
    const args = [
      // s3rver's continuation tokens are DES-encrypted: OpenSSL 3 has DES in its legacy provider only.
      "--openssl-legacy-provider", join(EMULATORS_DIR, "node_modules/s3rver/bin/s3rver.js"),
      "--directory", join(dir, "s3"), "--address", "127.0.0.1", "--port", "0",
    ];
    for (const bucket of buckets) args.push("--configure-bucket", bucket, join(EMULATORS_DIR, "s3rver-cors-allow-all.xml"));
    for (const bucket of closedBuckets) args.push("--configure-bucket", bucket);
    return args;
  };
  const ready = (log) => /S3rver listening on [\d.]+:(\d+)/.exec(log)?.[1];
  const s3rver = await startNodeEmulator({ name: "s3rver", args, ready, timeoutMs });
  return { endpoint: `http://127.0.0.1:${s3rver.ready}`, log: s3rver.log, stop: s3rver.stop, pid: s3rver.pid };
}
