// The loopback HTTP server of the native HTTP port's tests
// (http_client_test.cc). Listens on a free port of 127.0.0.1, prints
// "listening PORT" on stdout, and serves until killed:
//   /hello            200, a short text body and a few headers; x-client-port is
//                     the client's port (the same on a reused connection)
//   /status?code=N    status N, empty body
//   /echo             the request body back; x-echo-method, x-echo-header (the
//                     request's x-cloudkit-test), x-echo-length, and how the
//                     body came (x-echo-content-length, x-echo-transfer-encoding)
//   /digest           reads the body, answers "SIZE MD5HEX" (same x-echo-* headers)
//   /bytes?n=N        N bytes of the pattern byte[i] = (i * 31) % 251, streamed
//   /truncated?n=N    announces N bytes, sends half, then drops the connection
//   /slow?ms=T        answers "slow" after T ms
import { createHash } from "node:crypto";
import { createServer } from "node:http";

// Two periods of the pattern: any 64 KiB window starts at offset % 251.
const PERIOD = 251;
const PATTERN = Buffer.alloc(PERIOD * 600);
for (let i = 0; i < PATTERN.length; ++i) PATTERN[i] = (i * 31) % PERIOD;
const PIECE = 65536;

function bodyHeaders(req) {
  return {
    "x-echo-method": req.method,
    "x-echo-header": req.headers["x-cloudkit-test"] ?? "",
    "x-echo-content-length": req.headers["content-length"] ?? "",
    "x-echo-transfer-encoding": req.headers["transfer-encoding"] ?? "",
  };
}

async function handle(req, res) {
  const url = new URL(req.url, "http://x");
  const param = (name, fallback) => Number(url.searchParams.get(name) ?? fallback);
  switch (url.pathname) {
    case "/hello":
      res.writeHead(200, { "content-type": "text/plain", "X-Mixed-Case": "Value", "x-twice": ["a", "b"],
                           "x-client-port": String(req.socket.remotePort) });
      return res.end("hello, world\n");
    case "/status":
      return res.writeHead(param("code", 200)).end();
    case "/echo": {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      res.writeHead(200, { ...bodyHeaders(req), "x-echo-length": String(body.length) });
      return res.end(body);
    }
    case "/digest": {
      const md5 = createHash("md5");
      let size = 0;
      for await (const chunk of req) {
        md5.update(chunk);
        size += chunk.length;
      }
      res.writeHead(200, bodyHeaders(req));
      return res.end(`${size} ${md5.digest("hex")}`);
    }
    case "/bytes":
    case "/truncated": {
      const n = param("n", 0);
      const send = url.pathname === "/bytes" ? n : Math.floor(n / 2);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(n) });
      for (let at = 0; at < send; at += PIECE) {
        const start = at % PERIOD;
        const piece = PATTERN.subarray(start, start + Math.min(PIECE, send - at));
        if (!res.write(piece)) await new Promise((resolve) => res.once("drain", resolve));
        if (res.destroyed) return;
      }
      if (send === n) return res.end();
      return res.write(Buffer.alloc(0), () => req.socket.destroy());
    }
    case "/slow":
      await new Promise((resolve) => setTimeout(resolve, param("ms", 1000)));
      if (!res.destroyed) res.writeHead(200, { "content-type": "text/plain" }).end("slow");
      return;
    default:
      return res.writeHead(404).end();
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => res.destroy());
});
server.keepAliveTimeout = 30_000;
server.listen({ port: 0, host: "127.0.0.1", backlog: 1024 }, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
