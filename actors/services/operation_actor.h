// OperationActor: the base of the service actors. Every call is an operation
// of its own: a coroutine (core/task.h) started when the call's REQUEST
// arrives, holding the call's state, that runs until it must wait — on a
// port (disk, HTTP, IndexedDB), on the call's next stream frame (DATA,
// CREDIT), or on an earlier call of the same client on the same keys
// (OrderFor) — and yields the actor to the other calls meanwhile. A call whose work never
// waits (a memory lookup) is answered inside the turn it arrived in.
//
// A subclass serves one service: Start decodes the request and runs the
// method. The base routes stream frames to their operation, ends waits when
// the client or the host cancels, and keeps the stream rules: a DATA frame
// beyond the credit the actor granted ends the call with an error. A call
// made with an idempotency key that an earlier call of the same request used
// gets that call's answer instead of running (services/idempotent_calls).
//
// REQUIRES: Receive and OnTimer run one at a time (the host's turns), and
// so do port completions (the actor's Executor).
#pragma once

#include <cstdint>
#include <vector>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/actor.h"
#include "core/call_deadline.h"
#include "core/coro.h"
#include "core/task.h"
#include "ports/clock.h"
#include "core/key_locks.h"
#include "services/idempotent_calls.h"

namespace cloudkit {

class OperationActor : public Actor {
 public:
  OperationActor(ports::Clock* clock, Outbox* outbox) : clock_(clock), outbox_(outbox) {}
  ~OperationActor() override;

  void Receive(Inbound&& frame) override;

  size_t open_calls() const { return calls_.size(); }
  ActorLoad load() const override {
    return {static_cast<uint32_t>(calls_.size()), static_cast<uint32_t>(parked_calls())};
  }
  // Broken once a provider threw: its call got INTERNAL, and the host
  // restarts the actor (the others' calls then fail too).
  Status health() const override { return health_; }

  // How long and in how much memory answers to calls with idempotency keys
  // are kept (the host's configuration).
  void set_idempotency_limits(IdempotencyLimits limits) { idempotent_ = IdempotentCalls(limits); }
  const IdempotentCalls& idempotent_calls() const { return idempotent_; }

 protected:
  // One open call, as its operation sees it.
  class Call {
   public:
    uint64_t id() const { return id_; }
    const std::string& method() const { return *method_; }
    bool cancelled() const { return cancelled_; }

    // The client's next DATA or CREDIT frame; nullopt once the call was
    // cancelled (client CANCEL, deadline, or a broken stream rule).
    struct NextFrame {
      Call* call;
      bool await_ready() const { return call->cancelled_ || call->next_frame_ < call->frames_.size(); }
      void await_suspend(coro::coroutine_handle<> waiter) { call->waiter_ = waiter; }
      std::optional<Inbound> await_resume();
    };
    NextFrame Next() { return NextFrame{this}; }
    // The client has sent the whole request (an upload's end of stream, or a
    // body that came whole in the REQUEST): DATA frames that still come are
    // ignored, never a reason to fail a call whose outcome is under way.
    void EndInput() { input_ended_ = true; }
    // Whether a DATA or CREDIT frame has arrived and not been taken: then
    // Next() answers without waiting (an operation that parks elsewhere
    // takes its frames when it wakes).
    bool frame_waiting() const { return next_frame_ < frames_.size(); }

   private:
    friend class OperationActor;
    uint64_t id_ = 0;
    const std::string* method_ = nullptr;  // the REQUEST's, alive as long as the call
    // Arrived and not yet taken: frames_[next_frame_...]. A vector, not a
    // deque: unary calls never use it, and an empty vector costs nothing.
    std::vector<Inbound> frames_;
    size_t next_frame_ = 0;
    bool cancelled_ = false;
    bool answered_ = false;
    bool registered_ = false;  // in calls_: the operation outlived its first turn
    uint32_t data_allowed_ = 0;  // DATA frames granted and not yet received
    bool input_ended_ = false;   // EndInput, or a DATA frame with end_of_stream arrived
    // The key this call runs under until its first frame (or its end) settles it.
    const std::string* idempotency_key_ = nullptr;
    coro::coroutine_handle<> waiter_;
    coro::coroutine_handle<> root_;  // the operation's frames, once registered
  };

  // The operation of the call's method; `request` holds the REQUEST frame
  // and outlives it. Answer with Reply/Send; an operation that ends without
  // a final frame gets INTERNAL.
  virtual Task<void> Start(Call& call, Inbound& request) = 0;
  // An operation that fails the call at once (an unknown method).
  Task<void> FailWith(Call& call, Status status);
  // The operation of a unary method: decodes the request as Req, takes the
  // call's place in its client's order on keys_of(req), awaits
  // provider_call(req) (a Task<Result<Resp>>), replies, then AfterUnary().
  template <typename Req, typename ProviderCall>
  Task<void> RunUnary(Call& call, Inbound& request, std::vector<KeyLocks::Key> (*keys_of)(const Req&),
                      ProviderCall provider_call);
  // Runs after each unary call's reply (the key-value actor notes new expiries).
  virtual void AfterUnary() {}
  // How many of the open calls wait for an arrival (ParkedCalls::size).
  virtual size_t parked_calls() const { return 0; }
  // The operation of `request`'s method: the handler `methods` (the
  // subclass's table of {name, ..., handler}) gives for the method named
  // after `prefix` ("cloudkit.v1.KeyValue/"), or UNIMPLEMENTED.
  template <typename Self, typename Methods>
  Task<void> Dispatch(Self* self, const Methods& methods, std::string_view prefix, Call& call, Inbound& request);

  // Sends a frame of `call` (nothing once it was cancelled: nobody listens).
  void Send(Call& call, Outbound&& frame);
  // Grants the client `credits` more DATA frames for an upload.
  void GrantData(Call& call, uint32_t credits);
  // The unary answer: the response, or the error.
  template <typename Resp>
  void Reply(Call& call, const Result<Resp>& result);
  void Fail(Call& call, const Status& status);

  // Takes the call's place in its client's order on `keys` (docs/protocol.md,
  // "Ordering"): `co_await ticket->Granted()` waits for that client's earlier
  // calls on them; releasing the ticket lets its later ones go. Calls of
  // other clients never wait here (providers keep their own steps atomic).
  std::unique_ptr<KeyLocks::Ticket> OrderFor(const Inbound& request, std::vector<KeyLocks::Key> keys);

  ports::Clock& clock() { return *clock_; }

  // Starts a task of the actor's own (an upkeep pass), ended with the actor
  // if it still runs then.
  void Spawn(Task<void> task);
  // Ends every operation and task still open, destroying their frames where
  // they wait (their calls get nothing more). Each service actor calls it
  // from its destructor, while the members its operations use still exist;
  // the base's destructor only catches what is left.
  void EndOperations();

 private:
  // Runs one call's operation; the Call lives in its frame. `finished` is
  // set when the operation ended before Receive returned (then it never
  // entered calls_).
  Task<void> Run(Inbound request, Call** started, bool* finished);
  void Wake(Call& call);
  // For a call with an idempotency key: answers it from the earlier call of
  // the key (waiting for it while it runs) and returns true, or marks the key
  // as running under this call and returns false.
  Task<bool> AnswerFromEarlierCall(Call& call, const Inbound& request);
  // Runs a Spawned task; `finished` as for Run.
  Task<void> RunOwned(Task<void> task, uint64_t id, bool* finished);

  ports::Clock* clock_;
  Outbox* outbox_;
  KeyLocks client_order_;
  IdempotentCalls idempotent_;
  std::unordered_map<uint64_t, Call*> calls_;  // operations that outlived their first turn
  std::unordered_map<uint64_t, coro::coroutine_handle<>> owned_;  // Spawned tasks still running
  uint64_t next_owned_ = 0;
  Status health_;
};

}  // namespace cloudkit

#include "services/call_frames.h"

namespace cloudkit {
template <typename Resp>
void OperationActor::Reply(Call& call, const Result<Resp>& result) {
  Send(call, frames::Reply(call.id(), result));
}

template <typename Req, typename ProviderCall>
Task<void> OperationActor::RunUnary(Call& call, Inbound& request, std::vector<KeyLocks::Key> (*keys_of)(const Req&),
                                    ProviderCall provider_call) {
  Req req;
  Status decoded = frames::Decode(request, &req);
  if (!decoded.ok()) co_return Fail(call, decoded);
  auto ticket = OrderFor(request, keys_of(req));
  co_await ticket->Granted();
  auto result = co_await WithCallDeadline(request.deadline_ms, provider_call(req));
  Reply(call, result);
  AfterUnary();
}

template <typename Self, typename Methods>
Task<void> OperationActor::Dispatch(Self* self, const Methods& methods, std::string_view prefix, Call& call,
                                    Inbound& request) {
  using Handler = decltype(methods.front().handler);
  // Built once per service: the table never changes.
  static const std::unordered_map<std::string_view, Handler> by_name = [&methods] {
    std::unordered_map<std::string_view, Handler> handlers;
    for (const auto& method : methods) handlers.emplace(method.name, method.handler);
    return handlers;
  }();
  std::string_view method(request.method);
  auto handler = method.starts_with(prefix) ? by_name.find(method.substr(prefix.size())) : by_name.end();
  if (handler == by_name.end()) return FailWith(call, Status::Unimplemented("method " + request.method));
  return (self->*(handler->second))(call, request);
}
}  // namespace cloudkit
