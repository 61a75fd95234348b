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

// mounts: {"/web/": "/abs/build/web", "/": "/abs/examples/web"}
export async function serve(mounts, port = 0) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const prefix = Object.keys(mounts).filter((p) => path.startsWith(p)).sort((a, b) => b.length - a.length)[0];
    if (prefix === undefined) return res.writeHead(404).end();
    let file = normalize(join(mounts[prefix], path.slice(prefix.length)));
    if (!file.startsWith(normalize(mounts[prefix]))) return res.writeHead(403).end();
    try {
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}
