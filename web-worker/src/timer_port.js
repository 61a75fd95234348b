// The JS half of the browser sleep port (wasm/js_sleep.cc): a call carries a
// serialized cloudkit.web.v1.SleepCall and resolves, after that many
// milliseconds (setTimeout), to an empty reply, which the port calls
// (port_calls.js) post into the asking actor's mailbox.
import { fromBinary } from "@bufbuild/protobuf";
import { SleepCallSchema } from "./gen/cloudkit/web/v1/worker_pb.js";

const EMPTY = new Uint8Array(0);

export function createTimerPort(setTimer = globalThis.setTimeout.bind(globalThis)) {
  return {
    call(op, bytes) {
      if (op !== "sleep") return Promise.reject(new Error(`timer port: unknown op '${op}'`));
      const { ms } = fromBinary(SleepCallSchema, bytes);
      return new Promise((resolve) => setTimer(() => resolve(EMPTY), ms));
    },
  };
}
