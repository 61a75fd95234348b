// The JS half of the browser HTTP port (wasm/fetch_http.cc): fetch with a
// timeout, and response bodies read chunk by chunk from their ReadableStream.
// Calls and replies are serialized cloudkit.web.v1.HttpCall / HttpReply.
// Headers the browser sets itself are dropped from requests; a response
// shows only the headers CORS lets the page see (those the server exposes).
import { create, toBinary, fromBinary } from "@bufbuild/protobuf";
import { HttpCallSchema, HttpReplySchema } from "./gen/cloudkit/web/v1/worker_pb.js";
import { StatusCode } from "./gen/cloudkit/v1/status_pb.js";

const DEFAULT_TIMEOUT_MS = 30_000;

// Request headers a page may not set (the Fetch standard's forbidden
// request-header names): the browser sets them itself, so they are dropped
// here rather than left for fetch to ignore. Host is one: the browser sends
// the URL's host and port, the very value a signature over `host` (AWS
// Signature V4) covers; Content-Length is the body's length either way.
const FORBIDDEN_HEADERS = new Set([
  "accept-charset", "accept-encoding", "access-control-request-headers", "access-control-request-method",
  "connection", "content-length", "cookie", "cookie2", "date", "dnt", "expect", "host", "keep-alive", "origin",
  "referer", "set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "via",
]);
// A URL as messages show it: without its query, which may carry a signature.
const where = (url) => url.split("?")[0];

function allowedRequestHeaders(headers) {
  return headers.map((h) => [h.name, h.value]).filter(([name]) => {
    const lower = name.toLowerCase();
    return !FORBIDDEN_HEADERS.has(lower) && !lower.startsWith("proxy-") && !lower.startsWith("sec-");
  });
}

export function createFetchHttp(fetchImpl = globalThis.fetch.bind(globalThis)) {
  const responses = new Map();  // handle -> {reader, pending: Uint8Array | null}
  let nextHandle = 1;

  const ops = {
    async send(call) {
      const controller = new AbortController();
      const timeoutMs = call.timeoutMs || DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(() => controller.abort(new DOMException("timeout", "TimeoutError")), timeoutMs);
      let response;
      try {
        response = await fetchImpl(call.url, {
          method: call.method,
          headers: allowedRequestHeaders(call.headers),
          body: call.body.length > 0 ? call.body : undefined,
          signal: controller.signal,
          redirect: "follow",
          // Never the HTTP cache: a GET after a PUT must see the new object,
          // and S3 answers carry Last-Modified, which invites heuristic caching.
          cache: "no-store",
        });
      } catch (error) {
        clearTimeout(timer);
        const timedOut = controller.signal.aborted;
        // A browser tells a page nothing more than "Failed to fetch", whether
        // the network failed or the server's CORS rules refused the page.
        return {
          code: timedOut ? StatusCode.DEADLINE_EXCEEDED : StatusCode.UNAVAILABLE,
          message: timedOut ? `deadline exceeded: ${call.method} ${where(call.url)} took over ${timeoutMs} ms`
                            : `unavailable: ${call.method} ${where(call.url)}: ${error.message} ` +
                              "(the server is unreachable, or its CORS rules do not allow this page)",
        };
      }
      const handle = nextHandle++;
      responses.set(handle, { reader: response.body?.getReader(), pending: null, timer });
      // A fetch decodes a body sent with a Content-Encoding: its Content-Length
      // counts the encoded bytes, not those the core reads, so it is left out.
      const encoded = (response.headers.get("content-encoding") ?? "identity") !== "identity";
      const headers = [...response.headers]
        .map(([name, value]) => ({ name: name.toLowerCase(), value }))
        .filter((h) => !(encoded && h.name === "content-length"));
      return { status: response.status, handle, headers };
    },
    async read(call) {
      const state = responses.get(call.handle);
      if (!state) return { code: StatusCode.INTERNAL, message: `internal: no response ${call.handle}` };
      if (!state.pending) {
        const next = state.reader ? await state.reader.read() : { done: true };
        if (next.done) {
          clearTimeout(state.timer);
          responses.delete(call.handle);
          return { chunk: new Uint8Array(0) };
        }
        state.pending = next.value;
      }
      const chunk = state.pending.subarray(0, call.maxBytes);
      state.pending = chunk.length < state.pending.length ? state.pending.subarray(chunk.length) : null;
      return { chunk };
    },
    async close(call) {
      const state = responses.get(call.handle);
      responses.delete(call.handle);
      if (state) {
        clearTimeout(state.timer);
        await state.reader?.cancel().catch(() => {});
      }
      return {};
    },
  };

  return {
    async call(op, bytes) {  // op is also inside the message
      const call = fromBinary(HttpCallSchema, bytes);
      let reply;
      try {
        const op = ops[call.op];
        reply = op ? await op(call) : { code: StatusCode.INTERNAL, message: `internal: unknown http op '${call.op}'` };
      } catch (error) {
        reply = { code: StatusCode.UNAVAILABLE, message: `unavailable: ${call.method} ${where(call.url)}: ${error.message}` };
      }
      return toBinary(HttpReplySchema, create(HttpReplySchema, reply));
    },
  };
}
