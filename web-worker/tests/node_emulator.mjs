// Runs a Node emulator from tests/emulators for the browser tests, as the
// native harness does (tests/support/emulator.cc): in a fresh temporary
// directory, on ports it picks itself (the caller passes port 0 and reads the
// ports from what it prints), without the runner's NODE_* and proxy
// variables. stop() kills it and removes the directory. It stays in the test
// runner's process group, so whatever stops the runner (Ctrl-C, ctest's
// timeout) stops it too, and a runner that exits first kills it.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const EMULATORS_DIR = fileURLToPath(new URL("../../tests/emulators/", import.meta.url));

// name: for messages and the directory; args(dir): the node command line;
// ready(log): what it printed once it listens (say, its ports), or null.
export async function startNodeEmulator({ name, args, ready, timeoutMs = 60_000 }) {
  const dir = await mkdtemp(join(process.env.TMPDIR ?? tmpdir(), `cloudkit-${name}-`));
  const env = { ...process.env };
  for (const variable of ["NODE_OPTIONS", "NODE_PATH", "AZURITE_ACCOUNTS", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                          "https_proxy"]) delete env[variable];
  const child = spawn(process.execPath, args(dir), { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
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
  const found = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    const look = () => {
      const answer = ready(log);
      if (answer) { clearTimeout(timer); resolve(answer); }
    };
    child.stdout.on("data", look);
    gone.then(() => { clearTimeout(timer); resolve(null); });
  });
  if (!found) {
    await stop();
    throw new Error(`${name} did not start:\n${log}`);
  }
  return { ready: found, log: () => log, stop, pid: child.pid };
}
