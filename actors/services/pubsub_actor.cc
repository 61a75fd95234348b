// The actor serving the PubSub service of one binding. Each call is an
// operation of its own (services/operation_actor): it takes its place in its
// client's order on its topic or subscription, runs the provider's coroutine
// and replies.
//
// Subscribe is a stream that lives until the client ends it. It answers the
// subscription first, then sends each message the provider's Pull hands out
// in a DATA frame, never more than the credits the client granted (with the
// REQUEST and in CREDIT frames). When it has no credit, or Pull finds
// nothing, the stream parks (services/parked_calls) until a frame of the
// client, an arrival on its subscription (a publish, a nack, a dead letter),
// or a timer: a message out whose ack deadline ends, its next heartbeat, or
// the end of its client's allowed silence. Liveness, not a deadline: the
// call's timeout bounds the pause between two frames of the client (it sends
// CREDIT frames, of 0 credits when it wants nothing more, as heartbeats), and
// the stream sends a heartbeat DATA frame after kHeartbeatMs without one, so
// that each side can tell the other is gone. Messages handed to a stream that
// ends come back when their ack deadline does.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "services/call_frames.h"
#include "services/operation_actor.h"
#include "services/parked_calls.h"
#include "services/pubsub_provider.h"
#include "services/service_descriptor.h"

namespace cloudkit {
namespace {

constexpr char kServicePrefix[] = "cloudkit.v1.PubSub/";
constexpr int64_t kHeartbeatMs = 5'000;
// Credits a stream counts ahead of what it sent (more are ignored, not saved).
constexpr uint32_t kMaxCredits = 1'000;
constexpr uint32_t kMaxPull = 100;  // messages one Pull claims
constexpr uint32_t kWaitTimer = 1;
constexpr uint32_t kReadyTimer = 2;
const std::string kNoKey;  // parked on no subscription

using Keys = std::vector<KeyLocks::Key>;

KeyLocks::Key Topic(const std::string& topic, bool exclusive) { return {"t" + topic, exclusive}; }
KeyLocks::Key Subscription(const std::string& subscription, bool exclusive) { return {"s" + subscription, exclusive}; }

template <typename Req>
Keys WritesTopic(const Req& req) { return {Topic(req.topic(), true)}; }
template <typename Req>
Keys ReadsTopic(const Req& req) { return {Topic(req.topic(), false)}; }
template <typename Req>
Keys WritesSubscription(const Req& req) { return {Subscription(req.subscription(), true)}; }
Keys CreateSubscriptionKeys(const v1::CreateSubscriptionRequest& req) {
  return {Topic(req.topic(), true), Subscription(req.subscription(), true)};
}
Keys NoKeys(const v1::ListTopicsRequest&) { return {}; }

class PubSubActor : public OperationActor {
 public:
  PubSubActor(PubSubProvider* provider, ports::Clock* clock, Outbox* outbox, ports::Timers* timers)
      : OperationActor(clock, outbox), provider_(provider), parked_(clock, timers, kWaitTimer, kReadyTimer) {}
  ~PubSubActor() override { EndOperations(); }

  void Receive(Inbound&& frame) override;
  void OnTimer(uint32_t token) override { (void)parked_.OnTimer(token); }

  using Handler = Task<void> (PubSubActor::*)(Call&, Inbound&);
  struct Method {
    const char* name;
    bool streams;
    Handler handler;
  };
  // Every method, in proto order: the one table Start and the descriptor read.
  static const std::vector<Method>& Methods();

 protected:
  Task<void> Start(Call& call, Inbound& request) override {
    return Dispatch(this, Methods(), kServicePrefix, call, request);
  }

 private:
  template <typename Req, typename Resp, Task<Result<Resp>> (PubSubProvider::*ProviderMethod)(const Req&),
            Keys (*KeysOf)(const Req&)>
  Task<void> Unary(Call& call, Inbound& in) {
    return RunUnary<Req>(call, in, KeysOf, [this](const Req& req) { return (provider_->*ProviderMethod)(req); });
  }
  void AfterUnary() override { NoteArrivals(); }
  size_t parked_calls() const override { return parked_.size(); }
  Task<void> Subscribe(Call& call, Inbound& in);
  void NoteArrivals();

  PubSubProvider* provider_;
  ParkedCalls parked_;
};

const std::vector<PubSubActor::Method>& PubSubActor::Methods() {
  using P = PubSubProvider;
  using A = PubSubActor;
  static const std::vector<Method> methods = {
      {"CreateTopic", false,
       &A::Unary<v1::CreateTopicRequest, v1::CreateTopicResponse, &P::CreateTopic, &WritesTopic<v1::CreateTopicRequest>>},
      {"DeleteTopic", false,
       &A::Unary<v1::DeleteTopicRequest, v1::DeleteTopicResponse, &P::DeleteTopic, &WritesTopic<v1::DeleteTopicRequest>>},
      {"ListTopics", false, &A::Unary<v1::ListTopicsRequest, v1::ListTopicsResponse, &P::ListTopics, &NoKeys>},
      {"CreateSubscription", false,
       &A::Unary<v1::CreateSubscriptionRequest, v1::CreateSubscriptionResponse, &P::CreateSubscription,
                 &CreateSubscriptionKeys>},
      {"DeleteSubscription", false,
       &A::Unary<v1::DeleteSubscriptionRequest, v1::DeleteSubscriptionResponse, &P::DeleteSubscription,
                 &WritesSubscription<v1::DeleteSubscriptionRequest>>},
      {"ListSubscriptions", false,
       &A::Unary<v1::ListSubscriptionsRequest, v1::ListSubscriptionsResponse, &P::ListSubscriptions,
                 &ReadsTopic<v1::ListSubscriptionsRequest>>},
      {"Publish", false,
       &A::Unary<v1::PublishRequest, v1::PublishResponse, &P::Publish, &WritesTopic<v1::PublishRequest>>},
      {"PublishBatch", false,
       &A::Unary<v1::PublishBatchRequest, v1::PublishBatchResponse, &P::PublishBatch,
                 &WritesTopic<v1::PublishBatchRequest>>},
      {"Subscribe", true, &A::Subscribe},
      {"Ack", false,
       &A::Unary<v1::AckMessagesRequest, v1::AckMessagesResponse, &P::Ack, &WritesSubscription<v1::AckMessagesRequest>>},
      {"Nack", false,
       &A::Unary<v1::NackMessagesRequest, v1::NackMessagesResponse, &P::Nack,
                 &WritesSubscription<v1::NackMessagesRequest>>},
  };
  return methods;
}

Task<void> PubSubActor::Subscribe(Call& call, Inbound& in) {
  v1::SubscribeRequest req;
  Status decoded = frames::Decode(in, &req);
  if (!decoded.ok()) co_return Fail(call, decoded);
  if (!parked_.can_park()) co_return Fail(call, Status::Unimplemented("Subscribe needs timers, which this host lacks"));
  const std::string& subscription = req.subscription();
  // The client's earlier calls on the subscription (creating it) go first;
  // its later ones (acks) need not wait for the stream.
  auto ticket = OrderFor(in, {Subscription(subscription, false)});
  co_await ticket->Granted();
  Result<v1::SubscriptionInfo> info = co_await WithCallDeadline(in.deadline_ms, provider_->GetSubscription(subscription));
  ticket.reset();
  if (!info.ok()) co_return Fail(call, info.status());
  v1::SubscribeResponse head;
  *head.mutable_subscription() = std::move(*info);
  head.set_heartbeat_ms(static_cast<uint32_t>(kHeartbeatMs));
  Send(call, frames::Response(call.id(), head.SerializeAsString(), /*ends_call=*/false));

  // The longest silence allowed to the client: the call's timeout.
  const int64_t silence_limit = in.deadline_ms == 0 ? 0 : std::max<int64_t>(in.deadline_ms - clock().NowMs(), 1);
  int64_t heard_at = clock().NowMs(), sent_at = heard_at;
  uint32_t credits = std::min(in.credits, kMaxCredits);
  for (;;) {
    while (call.frame_waiting()) {
      std::optional<Inbound> frame = co_await call.Next();
      if (!frame) co_return;  // cancelled
      heard_at = clock().NowMs();
      if (frame->kind == v1::CREDIT) credits = std::min(credits + frame->credits, kMaxCredits);
    }
    if (call.cancelled()) co_return;
    int64_t now = clock().NowMs();
    if (silence_limit != 0 && now - heard_at >= silence_limit) {
      co_return Fail(call, Status::DeadlineExceeded("no frame from the client of the stream of subscription '" +
                                                    subscription + "' within " + std::to_string(silence_limit) +
                                                    " ms (send CREDIT frames as heartbeats)"));
    }
    int64_t next_visible = 0;
    if (credits > 0) {
      const uint32_t asked = std::min(credits, kMaxPull);
      Result<PubSubProvider::Pulled> pulled = co_await provider_->Pull(subscription, asked);
      NoteArrivals();
      // Messages claimed for a stream that ended come back after their deadline.
      if (call.cancelled()) co_return;
      if (!pulled.ok()) {
        parked_.WakeOldest(subscription);  // a deleted subscription ends its other streams too
        co_return Fail(call, pulled.status());
      }
      const size_t got = pulled->deliveries.size();
      for (v1::Delivery& delivery : pulled->deliveries) {
        Send(call, frames::Data(call.id(), delivery.SerializeAsString(), /*end_of_stream=*/false));
      }
      credits -= static_cast<uint32_t>(got);
      now = clock().NowMs();
      if (got > 0) {
        sent_at = now;
        parked_.WakeOldest(subscription);  // more may be left for another stream
        if (got == asked) continue;
      }
      next_visible = pulled->next_visible_ms;
    }
    if (now - sent_at >= kHeartbeatMs) {
      v1::Delivery heartbeat;
      heartbeat.set_heartbeat(true);
      Send(call, frames::Data(call.id(), heartbeat.SerializeAsString(), /*end_of_stream=*/false));
      sent_at = now;
    }
    int64_t wake_at = sent_at + kHeartbeatMs;
    if (silence_limit != 0) wake_at = std::min(wake_at, heard_at + silence_limit);
    if (credits > 0 && next_visible != 0) wake_at = std::min(wake_at, next_visible);
    // Without credit, arrivals are of no use to it: only its client wakes it.
    // (The key is built before the co_await: g++ 12 mishandles a temporary
    // string made inside one.)
    const std::string& wake_on = credits > 0 ? subscription : kNoKey;
    co_await parked_.Wait(wake_on, call.id(), wake_at);
  }
}

void PubSubActor::Receive(Inbound&& frame) {
  const bool streamed = frame.kind != v1::REQUEST;
  const uint64_t call_id = frame.call_id;
  OperationActor::Receive(std::move(frame));
  // A parked stream takes its client's frames (credits, heartbeats, a cancel) when it wakes.
  if (streamed) parked_.WakeCall(call_id);
}

void PubSubActor::NoteArrivals() {
  for (const PubSubProvider::Arrival& arrival : provider_->TakeArrivals()) {
    parked_.Arrived(arrival.subscription, arrival.at_ms);
  }
}

}  // namespace

// The PubSub service: "pubsub", cloudkit.v1.PubSub, this actor. Not inline
// over memory: a stream parks, and deleting a subscription collects its
// messages.
ServiceDescriptor PubSubService() {
  ServiceDescriptor service;
  service.name = kPubSubService;
  service.proto_service = "cloudkit.v1.PubSub";
  for (const PubSubActor::Method& method : PubSubActor::Methods()) {
    service.methods.push_back({method.name, method.streams, /*waits_for_events=*/method.streams});
  }
  service.runs_inline_over_memory = false;
  service.make_actor = [](ServiceProvider& provider, const ActorContext& context) -> std::unique_ptr<Actor> {
    auto* pubsub = dynamic_cast<PubSubProvider*>(&provider);
    if (!pubsub) return nullptr;
    return std::make_unique<PubSubActor>(pubsub, context.clock, context.outbox, context.timers);
  };
  return service;
}

}  // namespace cloudkit
