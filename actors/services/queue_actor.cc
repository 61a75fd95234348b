// The actor serving the Queue service of one binding. Each call is an
// operation of its own (services/operation_actor): it takes its place in its
// client's order on its queue, runs the provider's coroutine and replies.
//
// Long polls: a Receive with wait_ms that finds nothing parks its operation
// (services/parked_calls) on its queue; no thread waits and nothing polls.
// The provider reports arrivals (a send, a visibility set to 0, a
// FIFO head acked, a dead-lettered message): one arriving now wakes the
// oldest waiter of its queue, and a receive that got messages wakes the next
// one, since more may be left. A timer (ports/timers.h) wakes a waiter when
// its wait ends, shortly before its call's deadline, or when a message it
// could receive (delayed, or in flight) becomes visible. A woken waiter tries
// again and parks again if it still finds nothing; a cancelled one ends.
// Wakes run on a later turn, one by one, never nested in another operation.
// Without a Timers port a receive never waits.
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "services/call_frames.h"
#include "services/operation_actor.h"
#include "services/parked_calls.h"
#include "services/queue_provider.h"
#include "services/service_descriptor.h"

namespace cloudkit {
namespace {

constexpr char kServicePrefix[] = "cloudkit.v1.Queue/";
constexpr uint32_t kMaxWaitMs = 20'000;
// A long poll answers this long before its call's deadline, so that the
// answer (possibly empty) reaches the client rather than DEADLINE_EXCEEDED.
constexpr int64_t kDeadlineMarginMs = 200;
constexpr uint32_t kWaitTimer = 1;   // the earliest wake-up of a waiter
constexpr uint32_t kReadyTimer = 2;  // waiters to wake on the next turn

using Keys = std::vector<KeyLocks::Key>;

template <typename Req>
Keys WritesQueue(const Req& req) { return {{req.queue(), true}}; }
template <typename Req>
Keys ReadsQueue(const Req& req) { return {{req.queue(), false}}; }
Keys NoKeys(const v1::ListQueuesRequest&) { return {}; }

class QueueActor : public OperationActor {
 public:
  QueueActor(QueueProvider* provider, ports::Clock* clock, Outbox* outbox, ports::Timers* timers)
      : OperationActor(clock, outbox), provider_(provider), parked_(clock, timers, kWaitTimer, kReadyTimer) {}
  ~QueueActor() override { EndOperations(); }

  void Receive(Inbound&& frame) override;
  void OnTimer(uint32_t token) override;

  using Handler = Task<void> (QueueActor::*)(Call&, Inbound&);
  struct Method {
    const char* name;
    Handler handler;
  };
  // Every method, in proto order: the one table Start and the descriptor read.
  static const std::vector<Method>& Methods();

 protected:
  Task<void> Start(Call& call, Inbound& request) override {
    return Dispatch(this, Methods(), kServicePrefix, call, request);
  }

 private:
  template <typename Req, typename Resp, Task<Result<Resp>> (QueueProvider::*ProviderMethod)(const Req&),
            Keys (*KeysOf)(const Req&)>
  Task<void> Unary(Call& call, Inbound& in) {
    return RunUnary<Req>(call, in, KeysOf, [this](const Req& req) { return (provider_->*ProviderMethod)(req); });
  }
  void AfterUnary() override { NoteArrivals(); }
  size_t parked_calls() const override { return parked_.size(); }
  Task<void> ReceiveMessages(Call& call, Inbound& in);

  void NoteArrivals();

  QueueProvider* provider_;
  ParkedCalls parked_;
};

const std::vector<QueueActor::Method>& QueueActor::Methods() {
  using P = QueueProvider;
  using A = QueueActor;
  static const std::vector<Method> methods = {
      {"CreateQueue", &A::Unary<v1::CreateQueueRequest, v1::CreateQueueResponse, &P::CreateQueue,
                                &WritesQueue<v1::CreateQueueRequest>>},
      {"DeleteQueue", &A::Unary<v1::DeleteQueueRequest, v1::DeleteQueueResponse, &P::DeleteQueue,
                                &WritesQueue<v1::DeleteQueueRequest>>},
      {"ListQueues", &A::Unary<v1::ListQueuesRequest, v1::ListQueuesResponse, &P::ListQueues, &NoKeys>},
      {"Send", &A::Unary<v1::SendRequest, v1::SendResponse, &P::Send, &WritesQueue<v1::SendRequest>>},
      {"SendBatch", &A::Unary<v1::SendBatchRequest, v1::SendBatchResponse, &P::SendBatch,
                              &WritesQueue<v1::SendBatchRequest>>},
      {"Receive", &A::ReceiveMessages},
      {"Ack", &A::Unary<v1::AckRequest, v1::AckResponse, &P::Ack, &WritesQueue<v1::AckRequest>>},
      {"ChangeVisibility", &A::Unary<v1::ChangeVisibilityRequest, v1::ChangeVisibilityResponse,
                                     &P::ChangeVisibility, &WritesQueue<v1::ChangeVisibilityRequest>>},
      {"Depth", &A::Unary<v1::DepthRequest, v1::DepthResponse, &P::Depth, &ReadsQueue<v1::DepthRequest>>},
      {"Purge", &A::Unary<v1::PurgeRequest, v1::PurgeResponse, &P::Purge, &WritesQueue<v1::PurgeRequest>>},
  };
  return methods;
}

Task<void> QueueActor::ReceiveMessages(Call& call, Inbound& in) {
  v1::ReceiveRequest req;
  Status decoded = frames::Decode(in, &req);
  if (!decoded.ok()) co_return Fail(call, decoded);
  if (req.wait_ms() > kMaxWaitMs) {
    co_return Fail(call, Status::InvalidArgument("wait of " + std::to_string(req.wait_ms()) +
                                                 " ms is over the limit of " + std::to_string(kMaxWaitMs) + " ms"));
  }
  auto ticket = OrderFor(in, WritesQueue(req));
  co_await ticket->Granted();
  int64_t wait_end = clock().NowMs() + req.wait_ms();
  if (in.deadline_ms != 0) wait_end = std::min(wait_end, in.deadline_ms - kDeadlineMarginMs);
  for (;;) {
    Result<QueueProvider::Received> received = co_await WithCallDeadline(in.deadline_ms, provider_->Receive(req));
    // The client's later calls on the queue (a send that would end this
    // wait) need not wait for the long poll.
    ticket.reset();
    NoteArrivals();
    if (!received.ok()) co_return Fail(call, received.status());
    const bool got = received->response.messages_size() > 0;
    if (got) parked_.WakeOldest(req.queue());
    if (got || call.cancelled() || !parked_.can_park() || clock().NowMs() >= wait_end) {
      co_return Reply(call, Result<v1::ReceiveResponse>(std::move(received->response)));
    }
    const int64_t wake_at =
        received->next_visible_ms == 0 ? wait_end : std::min(wait_end, received->next_visible_ms);
    co_await parked_.Wait(req.queue(), call.id(), wake_at);
    if (call.cancelled()) co_return;  // nobody listens
  }
}

void QueueActor::Receive(Inbound&& frame) {
  // A CANCEL, or a DATA frame (no queue call takes any: it fails the call),
  // ends a long poll now rather than when its wait would.
  const bool ends_call = frame.kind == v1::CANCEL || frame.kind == v1::DATA;
  const uint64_t call_id = frame.call_id;
  OperationActor::Receive(std::move(frame));
  if (ends_call) parked_.WakeCall(call_id);
}

void QueueActor::NoteArrivals() {
  for (const QueueProvider::Arrival& arrival : provider_->TakeArrivals()) parked_.Arrived(arrival.queue, arrival.at_ms);
}

void QueueActor::OnTimer(uint32_t token) { (void)parked_.OnTimer(token); }

}  // namespace

// The Queue service: "queue", cloudkit.v1.Queue, this actor. Inline over
// memory: Depth and Purge walk a long queue over many turns
// (core/next_turn.h), so no call holds the front door long.
ServiceDescriptor QueueService() {
  ServiceDescriptor service;
  service.name = kQueueService;
  service.proto_service = "cloudkit.v1.Queue";
  for (const QueueActor::Method& method : QueueActor::Methods()) {
    service.methods.push_back({method.name, false, /*waits_for_events=*/std::string_view(method.name) == "Receive"});
  }
  service.runs_inline_over_memory = true;
  service.make_actor = [](ServiceProvider& provider, const ActorContext& context) -> std::unique_ptr<Actor> {
    auto* queue = dynamic_cast<QueueProvider*>(&provider);
    if (!queue) return nullptr;
    return std::make_unique<QueueActor>(queue, context.clock, context.outbox, context.timers);
  };
  return service;
}

}  // namespace cloudkit
