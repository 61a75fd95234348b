// The JS half of the browser HTTP port (wasm/fetch_http.cc): fetch with a
// timeout, and response bodies read chunk by chunk from their ReadableStream.
// Calls and replies are serialized cloudkit.web.v1.HttpCall / HttpReply.
import { create, toBinary, fromBinary } from "@bufbuild/protobuf";
import { HttpCallSchema, HttpReplySchema } from "./gen/cloudkit/web/v1/worker_pb.js";
import { StatusCode } from "./gen/cloudkit/v1/status_pb.js";

const DEFAULT_TIMEOUT_MS = 30_000;

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
          headers: call.headers.map((h) => [h.name, h.value]),
          body: call.body.length > 0 ? call.body : undefined,
          signal: controller.signal,
          redirect: "follow",
        });
      } catch (error) {
        clearTimeout(timer);
        const timedOut = controller.signal.aborted;
        return {
          code: timedOut ? StatusCode.DEADLINE_EXCEEDED : StatusCode.UNAVAILABLE,
          message: timedOut ? `deadline exceeded: ${call.method} ${call.url} took over ${timeoutMs} ms`
                            : `unavailable: ${call.method} ${call.url}: ${error.message}`,
        };
      }
      const handle = nextHandle++;
      responses.set(handle, { reader: response.body?.getReader(), pending: null, timer });
      return {
        status: response.status, handle,
        headers: [...response.headers].map(([name, value]) => ({ name: name.toLowerCase(), value })),
      };
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
        reply = { code: StatusCode.UNAVAILABLE, message: `unavailable: ${call.method} ${call.url}: ${error.message}` };
      }
      return toBinary(HttpReplySchema, create(HttpReplySchema, reply));
    },
  };
}
