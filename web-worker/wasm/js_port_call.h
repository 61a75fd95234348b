// How the browser's asynchronous ports (storage, HTTP) call their JS halves,
// without Asyncify: a call registers its answer under a fresh id and hands
// the request to Module.ckPortCall(actorId, id, port, op, requestBytes),
// which runs Module[port].call(op, requestBytes) and, when its promise
// settles, sends the reply bytes back to the asking actor: in a worker, as a
// {portReply: id, bytes} message in that actor's mailbox, delivered on one of
// its turns through ck_port_reply. The actor core never waits on JS: many
// calls are in flight at once, each answered as a message (core/async.h).
// Requests and replies are serialized protobuf messages of
// web-worker/proto/cloudkit/web/v1/worker.proto.
//
// JS starts the calls in the order they are made, so the IndexedDB
// transactions of one connection keep that order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/async.h"
#include "core/executor.h"
#include "core/status.h"

namespace cloudkit::web {

// The executor of an actor the worker core hosts: it names the actor, so that
// a port call made on one of its turns is answered in its mailbox. Callers
// whose executor is not one (the wasm tests' RunTask) are actor 0: their
// host delivers replies with PostPortReply.
class ActorExecutor : public Executor {
 public:
  virtual uint32_t actor_id() const = 0;
};

// Calls Module[port].call(op, request) from an actor's turn; the reply bytes
// come back on a later turn of the same actor. INTERNAL, at once, when called
// outside an actor's turn.
Async<Result<std::string>> CallJsPort(const char* port, const std::string& op, const std::string& request);

// The same for a call whose answer nobody awaits (clean-up from a
// destructor); it may run outside any turn.
void CallJsPortAndForget(const char* port, const std::string& op, const std::string& request);

// Completes call `id` with its reply, on the turn of the actor that made it
// (the worker core runs it from that actor's mailbox). False when no such
// call is pending: its actor stopped, or the id is stale.
bool CompletePortCall(uint32_t id, Result<std::string> reply);

// Completes call `id` by posting to the caller's executor: for hosts that
// receive replies outside the caller's turns (the wasm tests).
bool PostPortReply(uint32_t id, Result<std::string> reply);

// Forgets the pending calls of a stopped actor: their replies are dropped
// and their waiters never resumed, as the native host drops the completions
// of a stopped actor.
void DropPortCalls(uint32_t actor_id);

// Calls waiting for a reply (tests and diagnostics).
size_t PendingPortCalls();

}  // namespace cloudkit::web
