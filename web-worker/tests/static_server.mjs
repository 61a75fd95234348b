// A static file server on a free loopback port for the browser tests and the
// example: serves the given directories under their URL prefixes, with the
// right MIME types for ES modules and wasm. No COOP/COEP headers: the bundle
// must work without them.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".wasm": "application/wasm", ".map": "application/json", ".json": "application/json", ".css": "text/css",
};

// Test endpoints for the HTTP port's tests, outside every mount:
//   /echo        the request body back, with x-echo-method, x-echo-header (the
//                request's x-cloudkit-test), x-echo-host and x-echo-content-length
//   /bytes?n=N   N bytes of a known pattern, streamed
//   /slow?ms=T   answers after T ms
//   /hang/...    never answers (a worker script that never arrives); the
//                request ends when the client gives up or the server closes
async function testEndpoint(req, res, url) {
  if (url.pathname.startsWith("/hang/")) return true;
  if (url.pathname === "/echo") {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    res.writeHead(200, { "x-echo-method": req.method, "x-echo-header": req.headers["x-cloudkit-test"] ?? "",
                         "x-echo-host": req.headers.host ?? "",
                         "x-echo-content-length": req.headers["content-length"] ?? "",
                         "access-control-expose-headers": "*" });
    res.end(Buffer.concat(chunks));
    return true;
  }
  if (url.pathname === "/bytes") {
    const n = Number(url.searchParams.get("n") ?? 0);
    res.writeHead(200, { "content-type": "application/octet-stream" });
    for (let at = 0; at < n; at += 65536) {
      const chunk = Buffer.alloc(Math.min(65536, n - at));
      for (let i = 0; i < chunk.length; ++i) chunk[i] = ((at + i) * 31) % 251;
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
      if (res.destroyed) return true;
    }
    res.end();
    return true;
  }
  if (url.pathname === "/slow") {
    await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get("ms") ?? 1000)));
    if (!res.destroyed) res.writeHead(200).end("slow");
    return true;
  }
  return false;
}

// mounts: {"/web/": "/abs/build/web", "/": "/abs/examples/web"}; headers are
// added to every file served (the benchmark isolates its page with them).
export async function serve(mounts, port = 0, headers = {}) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    if (await testEndpoint(req, res, url)) return;
    const path = decodeURIComponent(url.pathname);
    const prefix = Object.keys(mounts).filter((p) => path.startsWith(p)).sort((a, b) => b.length - a.length)[0];
    if (prefix === undefined) return res.writeHead(404).end();
    let file = normalize(join(mounts[prefix], path.slice(prefix.length)));
    if (!file.startsWith(normalize(mounts[prefix]))) return res.writeHead(403).end();
    try {
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store",
                          ...headers });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(resolve);
    }),
  };
}
