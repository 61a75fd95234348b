// The JS half of wasm/js_port_call.cc, shared by the worker script and the
// wasm test suite's worker: Module.ckPortCall(actorId, id, port, op, bytes)
// runs ports[port].call(op, bytes) (the IndexedDB storage port, the fetch
// HTTP port, the setTimeout sleep port; each resolves to reply bytes and
// never rejects) and hands the
// reply to answer(actorId, id, replyBytes) when it settles. The worker's
// answer posts {portReply: id, bytes} into the actor's mailbox, so the reply
// reaches the core on one of the actor's turns (ck_port_reply). Id 0 asks for
// no answer. A port that rejects is a bug: fail(error) gets it.
//
// The call starts here, synchronously, so the ports see calls in the order
// the core made them (IndexedDB then runs one connection's transactions in
// that order).
export function createPortCalls(ports, answer, fail) {
  return (actorId, id, port, op, bytes) => {
    const target = ports[port];
    let pending;
    try {
      if (!target) throw new Error(`no JS port '${port}'`);
      pending = target.call(op, bytes);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then((reply) => { if (id !== 0) answer(actorId, id, reply); }, fail);
  };
}
