// Starts s3rver (tests/emulators) for the browser tests, as the native
// harness does (tests/support/emulator.cc): a fresh temporary directory,
// 127.0.0.1 on a port it picks, the given buckets created at start with the
// allow-all CORS rule (tests/emulators/s3rver-cors-allow-all.xml) so that a
// page on another origin may call them, and `closedBuckets` without any CORS
// rule. stop() kills it and removes the directory. It stays in the test
// runner's process group, so whatever stops the runner (Ctrl-C, ctest's
// timeout) stops it too, and a runner that exits first kills it.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const emulators = fileURLToPath(new URL("../../tests/emulators/", import.meta.url));
export const S3RVER_CREDENTIALS = { access_key_id: "S3RVER", secret_access_key: "S3RVER" };

export async function startS3rver({ buckets = [], closedBuckets = [], timeoutMs = 60_000 } = {}) {
  const dir = await mkdtemp(join(process.env.TMPDIR ?? tmpdir(), "cloudkit-s3rver-"));
  const args = [
    // s3rver's continuation tokens are DES-encrypted: OpenSSL 3 has DES in its legacy provider only.
    "--openssl-legacy-provider", join(emulators, "node_modules/s3rver/bin/s3rver.js"),
    "--directory", join(dir, "s3"), "--address", "127.0.0.1", "--port", "0",
  ];
  for (const bucket of buckets) args.push("--configure-bucket", bucket, join(emulators, "s3rver-cors-allow-all.xml"));
  for (const bucket of closedBuckets) args.push("--configure-bucket", bucket);
  const env = { ...process.env };
  for (const name of ["NODE_OPTIONS", "NODE_PATH", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete env[name];
  const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const keep = (chunk) => { log = (log + chunk).slice(-(1 << 20)); };
  child.stdout.setEncoding("utf8").on("data", keep);
  child.stderr.setEncoding("utf8").on("data", keep);
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);

  let exited = false;
  const gone = new Promise((resolve) => child.once("exit", () => { exited = true; resolve(); }));
  const stop = async () => {
    process.off("exit", kill);
    kill();
    if (!exited) await gone;
    await rm(dir, { recursive: true, force: true });
  };
  const port = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(0), timeoutMs);
    const look = () => {
      const found = /S3rver listening on [\d.]+:(\d+)/.exec(log);
      if (found) { clearTimeout(timer); resolve(Number(found[1])); }
    };
    child.stdout.on("data", look);
    gone.then(() => { clearTimeout(timer); resolve(0); });
  });
  if (!port) {
    await stop();
    throw new Error(`s3rver did not start:\n${log}`);
  }
  return { endpoint: `http://127.0.0.1:${port}`, log: () => log, stop, pid: child.pid };
}
