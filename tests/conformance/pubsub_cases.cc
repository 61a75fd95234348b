// What every PubSub provider promises, and the PubSub actor's streams over
// it. Instantiated for each target of the host's ConformanceTargets() that
// serves pub/sub. Time is the suite's ManualClock: ack deadlines pass without
// sleeping, and the actor's timers fire when the test says so.
#include <algorithm>
#include <set>

#include "conformance/conformance.h"
#include "services/pubsub_provider.h"
#include "services/service_descriptor.h"

namespace cloudkit::conformance {
namespace {

using Attributes = std::map<std::string, std::string>;

v1::SubscriptionOptions Filtered(const Attributes& filter) {
  v1::SubscriptionOptions options;
  for (const auto& [name, value] : filter) (*options.mutable_filter())[name] = value;
  return options;
}

v1::SubscriptionOptions AckDeadline(uint32_t ms) {
  v1::SubscriptionOptions options;
  options.set_ack_deadline_ms(ms);
  return options;
}

}  // namespace

class PubSubConformance : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    if (!binding_.Get<PubSubProvider>(kPubSubService)) GTEST_SKIP() << "target does not serve pub/sub";
  }
  PubSubProvider& pubsub() { return *binding_.Get<PubSubProvider>(kPubSubService); }

  Status CreateTopic(const std::string& topic) {
    v1::CreateTopicRequest req;
    req.set_topic(topic);
    return StatusOf(Sync(pubsub().CreateTopic(req)));
  }
  Status Subscribe(const std::string& subscription, const std::string& topic,
                   const v1::SubscriptionOptions& options = {}) {
    v1::CreateSubscriptionRequest req;
    req.set_subscription(subscription);
    req.set_topic(topic);
    *req.mutable_options() = options;
    return StatusOf(Sync(pubsub().CreateSubscription(req)));
  }
  Result<v1::PublishResponse> Publish(const std::string& topic, const std::string& body,
                                      const Attributes& attributes = {}) {
    v1::PublishRequest req;
    req.set_topic(topic);
    req.set_body(body);
    for (const auto& [name, value] : attributes) (*req.mutable_attributes())[name] = value;
    return Sync(pubsub().Publish(req));
  }
  std::vector<v1::Delivery> Pull(const std::string& subscription, uint32_t max = 10) {
    auto pulled = Sync(pubsub().Pull(subscription, max));
    EXPECT_TRUE(pulled.ok()) << pulled.status().message();
    return pulled.ok() ? pulled->deliveries : std::vector<v1::Delivery>();
  }
  std::vector<std::string> Bodies(const std::string& subscription, uint32_t max = 10) {
    std::vector<std::string> bodies;
    for (const v1::Delivery& delivery : Pull(subscription, max)) bodies.push_back(delivery.body());
    return bodies;
  }
  Result<v1::AckMessagesResponse> Ack(const std::string& subscription, const std::vector<std::string>& ack_ids) {
    v1::AckMessagesRequest req;
    req.set_subscription(subscription);
    for (const std::string& id : ack_ids) req.add_ack_ids(id);
    return Sync(pubsub().Ack(req));
  }
  Result<v1::NackMessagesResponse> Nack(const std::string& subscription, const std::vector<std::string>& ack_ids) {
    v1::NackMessagesRequest req;
    req.set_subscription(subscription);
    for (const std::string& id : ack_ids) req.add_ack_ids(id);
    return Sync(pubsub().Nack(req));
  }
  std::vector<std::string> SubscriptionsOf(const std::string& topic) {
    v1::ListSubscriptionsRequest req;
    req.set_topic(topic);
    auto listed = Sync(pubsub().ListSubscriptions(req));
    EXPECT_TRUE(listed.ok()) << listed.status().message();
    std::vector<std::string> names;
    if (listed.ok()) {
      for (const auto& subscription : listed->subscriptions()) names.push_back(subscription.name());
    }
    return names;
  }
};

TEST_P(PubSubConformance, TopicsAndSubscriptionsAreCreatedListedAndDeleted) {
  CK_ASSERT_OK(CreateTopic("orders"));
  CK_ASSERT_OK(CreateTopic("audit"));
  CK_EXPECT_CODE(CreateTopic("orders"), v1::ALREADY_EXISTS);
  CK_EXPECT_CODE(CreateTopic("bad/name"), v1::INVALID_ARGUMENT);
  v1::ListTopicsRequest list;
  auto topics = Sync(pubsub().ListTopics(list));
  CK_ASSERT_OK(topics);
  ASSERT_EQ(topics->topics_size(), 2);
  EXPECT_EQ(topics->topics(0).name(), "audit");
  EXPECT_EQ(topics->topics(1).name(), "orders");
  ExpectStampedNow(topics->topics(1).created_ms());
  list.set_page_size(1);
  auto first = Sync(pubsub().ListTopics(list));
  CK_ASSERT_OK(first);
  ASSERT_FALSE(first->next_continuation_token().empty());
  list.set_continuation_token(first->next_continuation_token());
  EXPECT_EQ(Sync(pubsub().ListTopics(list))->topics(0).name(), "orders");

  CK_ASSERT_OK(Subscribe("shipping", "orders", Filtered({{"kind", "paid"}})));
  CK_ASSERT_OK(Subscribe("billing", "orders"));
  CK_EXPECT_CODE(Subscribe("billing", "audit"), v1::ALREADY_EXISTS);
  CK_EXPECT_CODE(Subscribe("lost", "nosuch"), v1::NOT_FOUND);
  CK_EXPECT_CODE(Subscribe("too-long", "orders", AckDeadline(600'001)), v1::INVALID_ARGUMENT);
  v1::SubscriptionOptions half;
  half.set_max_deliveries(3);
  CK_EXPECT_CODE(Subscribe("half", "orders", half), v1::INVALID_ARGUMENT);
  EXPECT_EQ(SubscriptionsOf("orders"), (std::vector<std::string>{"billing", "shipping"}));
  EXPECT_TRUE(SubscriptionsOf("audit").empty());
  auto info = Sync(pubsub().GetSubscription("shipping"));
  CK_ASSERT_OK(info);
  EXPECT_EQ(info->topic(), "orders");
  EXPECT_EQ(info->options().filter().at("kind"), "paid");
  CK_EXPECT_CODE(Sync(pubsub().GetSubscription("nosuch")), v1::NOT_FOUND);

  v1::DeleteTopicRequest delete_topic;
  delete_topic.set_topic("orders");
  CK_EXPECT_CODE(Sync(pubsub().DeleteTopic(delete_topic)), v1::FAILED_PRECONDITION);
  v1::DeleteSubscriptionRequest delete_subscription;
  for (const char* name : {"shipping", "billing"}) {
    delete_subscription.set_subscription(name);
    CK_EXPECT_OK(Sync(pubsub().DeleteSubscription(delete_subscription)));
  }
  CK_EXPECT_CODE(Sync(pubsub().DeleteSubscription(delete_subscription)), v1::NOT_FOUND);
  CK_EXPECT_OK(Sync(pubsub().DeleteTopic(delete_topic)));
  CK_EXPECT_CODE(Sync(pubsub().DeleteTopic(delete_topic)), v1::NOT_FOUND);
  CK_EXPECT_CODE(Publish("orders", "late"), v1::NOT_FOUND);
}

TEST_P(PubSubConformance, APublishReachesEverySubscriptionAndEachAcksItsOwnCopy) {
  CK_ASSERT_OK(CreateTopic("orders"));
  CK_ASSERT_OK(Subscribe("shipping", "orders"));
  CK_ASSERT_OK(Subscribe("billing", "orders"));
  CK_ASSERT_OK(Subscribe("audit", "orders"));
  auto published = Publish("orders", "order 7", {{"kind", "paid"}});
  CK_ASSERT_OK(published);
  EXPECT_EQ(published->subscriptions(), 3u);
  // One subscription acks its copy before the others look: theirs stay whole.
  auto shipped = Pull("shipping");
  ASSERT_EQ(shipped.size(), 1u);
  EXPECT_EQ(shipped[0].message_id(), published->message_id());
  EXPECT_EQ(shipped[0].attributes().at("kind"), "paid");
  EXPECT_EQ(shipped[0].delivery_count(), 1u);
  ExpectStampedNow(shipped[0].publish_time_ms());
  auto acked = Ack("shipping", {shipped[0].ack_id()});
  CK_ASSERT_OK(acked);
  EXPECT_EQ(acked->acked(), 1u);
  EXPECT_TRUE(Pull("shipping").empty());
  auto billed = Pull("billing");
  ASSERT_EQ(billed.size(), 1u);
  EXPECT_EQ(billed[0].body(), "order 7");
  EXPECT_EQ(billed[0].message_id(), published->message_id());
  CK_ASSERT_OK(Ack("billing", {billed[0].ack_id()}));
  // An ack id names its subscription's copy only.
  auto stale = Ack("audit", {billed[0].ack_id()});
  CK_ASSERT_OK(stale);
  EXPECT_EQ(stale->acked(), 0u);
  ASSERT_EQ(stale->stale_ack_ids_size(), 1);
  auto audited = Pull("audit");
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(audited[0].body(), "order 7");
  CK_ASSERT_OK(Ack("audit", {audited[0].ack_id()}));

  // Messages published before a subscription existed are not its.
  CK_ASSERT_OK(Subscribe("late", "orders"));
  EXPECT_TRUE(Pull("late").empty());
  CK_EXPECT_CODE(Ack("audit", {"not-an-ack-id"}), v1::INVALID_ARGUMENT);
}

// A client that repeats an ack id in one request acks that copy once: the
// other subscriptions' copies of the message stay whole.
TEST_P(PubSubConformance, AnAckIdRepeatedInOneRequestCountsOnce) {
  CK_ASSERT_OK(CreateTopic("orders"));
  CK_ASSERT_OK(Subscribe("shipping", "orders"));
  CK_ASSERT_OK(Subscribe("billing", "orders"));
  CK_ASSERT_OK(Subscribe("audit", "orders"));
  CK_ASSERT_OK(Publish("orders", "order 8"));
  auto shipped = Pull("shipping");
  ASSERT_EQ(shipped.size(), 1u);
  const std::string id = shipped[0].ack_id();
  auto acked = Ack("shipping", {id, id, id});
  CK_ASSERT_OK(acked);
  EXPECT_EQ(acked->acked(), 1u);
  EXPECT_EQ(acked->stale_ack_ids_size(), 0);
  for (const std::string subscription : {"billing", "audit"}) {
    auto pulled = Pull(subscription);
    ASSERT_EQ(pulled.size(), 1u) << subscription;
    EXPECT_EQ(pulled[0].body(), "order 8") << subscription;
    auto nacked = Nack(subscription, {pulled[0].ack_id(), pulled[0].ack_id()});
    CK_ASSERT_OK(nacked);
    EXPECT_EQ(nacked->nacked(), 1u) << subscription;
    auto again = Pull(subscription);
    ASSERT_EQ(again.size(), 1u) << subscription;
    EXPECT_EQ(again[0].body(), "order 8") << subscription;
    CK_ASSERT_OK(Ack(subscription, {again[0].ack_id()}));
  }
}

TEST_P(PubSubConformance, FiltersMatchEveryPairExactly) {
  CK_ASSERT_OK(CreateTopic("events"));
  CK_ASSERT_OK(Subscribe("eu-orders", "events", Filtered({{"kind", "order"}, {"region", "eu"}})));
  CK_ASSERT_OK(Subscribe("everything", "events"));
  EXPECT_EQ(Publish("events", "match", {{"kind", "order"}, {"region", "eu"}, {"extra", "x"}})->subscriptions(), 2u);
  EXPECT_EQ(Publish("events", "missing region", {{"kind", "order"}})->subscriptions(), 1u);
  EXPECT_EQ(Publish("events", "other region", {{"kind", "order"}, {"region", "us"}})->subscriptions(), 1u);
  EXPECT_EQ(Publish("events", "case differs", {{"kind", "Order"}, {"region", "eu"}})->subscriptions(), 1u);
  EXPECT_EQ(Bodies("eu-orders"), (std::vector<std::string>{"match"}));
  EXPECT_EQ(Bodies("everything").size(), 4u);

  // A topic with no matching subscription keeps nothing, and says so.
  CK_ASSERT_OK(CreateTopic("quiet"));
  auto unheard = Publish("quiet", "nobody listens");
  CK_ASSERT_OK(unheard);
  EXPECT_EQ(unheard->subscriptions(), 0u);
  EXPECT_FALSE(unheard->message_id().empty());
}

TEST_P(PubSubConformance, AnUnackedMessageComesBackAfterItsAckDeadline) {
  CK_ASSERT_OK(CreateTopic("jobs"));
  CK_ASSERT_OK(Subscribe("workers", "jobs", AckDeadline(10'000)));
  CK_ASSERT_OK(Publish("jobs", "resize"));
  auto first = Pull("workers");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].ack_deadline_ms(), clock_.NowMs() + 10'000);
  clock_.Advance(9'999);
  auto pending = Sync(pubsub().Pull("workers", 10));
  CK_ASSERT_OK(pending);
  EXPECT_TRUE(pending->deliveries.empty());
  EXPECT_EQ(pending->next_visible_ms, first[0].ack_deadline_ms()) << "the stream knows when to look again";
  clock_.Advance(1);
  auto again = Pull("workers");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].body(), "resize");
  EXPECT_EQ(again[0].delivery_count(), 2u);
  EXPECT_EQ(again[0].message_id(), first[0].message_id());
  auto late = Ack("workers", {first[0].ack_id(), again[0].ack_id()});
  CK_ASSERT_OK(late);
  EXPECT_EQ(late->acked(), 1u);
  EXPECT_EQ(std::vector<std::string>(late->stale_ack_ids().begin(), late->stale_ack_ids().end()),
            (std::vector<std::string>{first[0].ack_id()}));
  clock_.Advance(60'000);
  EXPECT_TRUE(Pull("workers").empty()) << "an acked message never comes back";
}

TEST_P(PubSubConformance, ANackedMessageIsDeliverableAtOnce) {
  CK_ASSERT_OK(CreateTopic("jobs"));
  CK_ASSERT_OK(Subscribe("workers", "jobs"));
  for (const char* body : {"a", "b"}) CK_ASSERT_OK(Publish("jobs", body));
  (void)pubsub().TakeArrivals();
  auto out = Pull("workers");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(Pull("workers").empty());
  // Streams waiting meanwhile learn when the messages pulled may come back.
  auto pulled = pubsub().TakeArrivals();
  ASSERT_EQ(pulled.size(), 1u);
  EXPECT_EQ(pulled[0].at_ms, out[0].ack_deadline_ms());
  auto nacked = Nack("workers", {out[0].ack_id(), out[1].ack_id()});
  CK_ASSERT_OK(nacked);
  EXPECT_EQ(nacked->nacked(), 2u);
  auto arrivals = pubsub().TakeArrivals();
  ASSERT_EQ(arrivals.size(), 1u) << "a nack wakes the subscription's streams";
  EXPECT_EQ(arrivals[0].subscription, "workers");
  EXPECT_EQ(arrivals[0].at_ms, clock_.NowMs());
  auto back = Pull("workers");
  ASSERT_EQ(back.size(), 2u);
  for (const v1::Delivery& delivery : back) EXPECT_EQ(delivery.delivery_count(), 2u);
  auto stale = Nack("workers", {out[0].ack_id()});
  CK_ASSERT_OK(stale);
  EXPECT_EQ(stale->nacked(), 0u);
  EXPECT_EQ(stale->stale_ack_ids_size(), 1);
}

TEST_P(PubSubConformance, AMessageDeliveredMaxDeliveriesTimesMovesToTheDeadLetterSubscription) {
  CK_ASSERT_OK(CreateTopic("jobs"));
  CK_ASSERT_OK(CreateTopic("dead"));
  CK_ASSERT_OK(Subscribe("graveyard", "dead"));
  v1::SubscriptionOptions options = AckDeadline(1000);
  options.set_max_deliveries(2);
  options.set_dead_letter_subscription("graveyard");
  CK_EXPECT_CODE(Subscribe("workers", "jobs", [] {
                   v1::SubscriptionOptions missing;
                   missing.set_max_deliveries(2);
                   missing.set_dead_letter_subscription("nosuch");
                   return missing;
                 }()),
                 v1::NOT_FOUND);
  CK_ASSERT_OK(Subscribe("workers", "jobs", options));
  CK_ASSERT_OK(Subscribe("auditors", "jobs"));  // shares the payload with the one that dies
  auto published = Publish("jobs", "poison", {{"id", "7"}});
  CK_ASSERT_OK(published);
  for (uint32_t delivery = 1; delivery <= 2; ++delivery) {
    auto out = Pull("workers");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].delivery_count(), delivery);
    clock_.Advance(1000);
  }
  (void)pubsub().TakeArrivals();
  EXPECT_TRUE(Pull("workers").empty()) << "delivered twice and back: dead-lettered instead";
  auto arrivals = pubsub().TakeArrivals();
  ASSERT_EQ(arrivals.size(), 1u);
  EXPECT_EQ(arrivals[0].subscription, "graveyard");
  auto dead = Pull("graveyard");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].body(), "poison");
  EXPECT_EQ(dead[0].attributes().at("id"), "7");
  EXPECT_EQ(dead[0].message_id(), published->message_id());
  EXPECT_EQ(dead[0].delivery_count(), 1u);
  CK_ASSERT_OK(Ack("graveyard", {dead[0].ack_id()}));
  EXPECT_EQ(Bodies("auditors"), (std::vector<std::string>{"poison"})) << "the other copy is whole";

  v1::DeleteSubscriptionRequest del;
  del.set_subscription("graveyard");
  CK_EXPECT_CODE(Sync(pubsub().DeleteSubscription(del)), v1::FAILED_PRECONDITION);
}

TEST_P(PubSubConformance, ABatchPublishIsAllOrNothing) {
  CK_ASSERT_OK(CreateTopic("jobs"));
  CK_ASSERT_OK(Subscribe("workers", "jobs"));
  v1::PublishBatchRequest batch;
  batch.set_topic("jobs");
  batch.add_entries()->set_body("one");
  batch.add_entries()->set_body("two");
  v1::PublishBatchEntry* bad = batch.add_entries();
  for (int i = 0; i < 17; ++i) (*bad->mutable_attributes())["a" + std::to_string(i)] = "x";
  CK_EXPECT_CODE(Sync(pubsub().PublishBatch(batch)), v1::INVALID_ARGUMENT);
  EXPECT_TRUE(Pull("workers").empty());
  batch.mutable_entries()->RemoveLast();
  auto published = Sync(pubsub().PublishBatch(batch));
  CK_ASSERT_OK(published);
  ASSERT_EQ(published->results_size(), 2);
  EXPECT_NE(published->results(0).message_id(), published->results(1).message_id());
  EXPECT_EQ(Bodies("workers"), (std::vector<std::string>{"one", "two"}));
  CK_EXPECT_CODE(Publish("jobs", std::string((1 << 20) + 1, 'x')), v1::INVALID_ARGUMENT);
}

TEST_P(PubSubConformance, DeletingASubscriptionLeavesTheOtherCopiesWhole) {
  CK_ASSERT_OK(CreateTopic("jobs"));
  CK_ASSERT_OK(Subscribe("a", "jobs"));
  CK_ASSERT_OK(Subscribe("b", "jobs"));
  for (const char* body : {"1", "2", "3"}) CK_ASSERT_OK(Publish("jobs", body));
  ASSERT_EQ(Pull("a", 1).size(), 1u);
  v1::DeleteSubscriptionRequest del;
  del.set_subscription("a");
  CK_ASSERT_OK(Sync(pubsub().DeleteSubscription(del)));
  CK_EXPECT_CODE(Sync(pubsub().Pull("a", 1)), v1::NOT_FOUND);
  EXPECT_EQ(Bodies("b"), (std::vector<std::string>{"1", "2", "3"}));
  // A new subscription of the same name starts empty.
  CK_ASSERT_OK(Subscribe("a", "jobs"));
  EXPECT_TRUE(Pull("a").empty());
}

TEST_P(PubSubConformance, SubscriptionsAndTheirMessagesSurviveAReopen) {
  if (!durable()) GTEST_SKIP() << "target is not durable";
  CK_ASSERT_OK(CreateTopic("jobs"));
  CK_ASSERT_OK(Subscribe("a", "jobs", AckDeadline(60'000)));
  CK_ASSERT_OK(Subscribe("b", "jobs", Filtered({{"keep", "yes"}})));
  std::set<std::string> ids;
  for (const char* body : {"acked", "out", "waiting"}) {
    auto published = Publish("jobs", body, {{"keep", "yes"}});
    CK_ASSERT_OK(published);
    ids.insert(published->message_id());
  }
  auto acked = Pull("a", 1);
  ASSERT_EQ(acked.size(), 1u);
  CK_ASSERT_OK(Ack("a", {acked[0].ack_id()}));
  auto out = Pull("a", 1);
  ASSERT_EQ(out.size(), 1u);

  Reopen();
  EXPECT_EQ(SubscriptionsOf("jobs"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Bodies("a"), (std::vector<std::string>{"waiting"}));
  EXPECT_EQ(Bodies("b"), (std::vector<std::string>{"acked", "out", "waiting"}));
  auto fresh = Publish("jobs", "after", {{"keep", "yes"}});
  CK_ASSERT_OK(fresh);
  EXPECT_FALSE(ids.count(fresh->message_id())) << "ids given after the reopen are new";
  EXPECT_EQ(fresh->subscriptions(), 2u) << "the filters survive too";
  clock_.Advance(60'000);
  auto back = Pull("a");
  std::vector<std::string> bodies;
  for (const v1::Delivery& delivery : back) bodies.push_back(delivery.body());
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(bodies, (std::vector<std::string>{"after", "out", "waiting"}));
}

// The actor's Subscribe streams, over the target's provider: flow control
// by credits, a parked stream woken by a publish or by a message coming back,
// heartbeats both ways, and cancelling. The actor's timers are the test's.
class PubSubStream : public PubSubConformance {
 protected:
  void SetUp() override {
    PubSubConformance::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    RegisterBuiltinServices(&services_);
    const ServiceDescriptor* service = services_.Find(kPubSubService);
    ASSERT_NE(service, nullptr);
    const MethodDescriptor* subscribe = service->FindMethod("Subscribe");
    ASSERT_NE(subscribe, nullptr);
    EXPECT_TRUE(subscribe->streams);
    actor_ = service->make_actor(pubsub(), {&clock_, &outbox_, &timers_});
    ASSERT_NE(actor_, nullptr);
    CK_ASSERT_OK(CreateTopic("jobs"));
    CK_ASSERT_OK(Subscribe("workers", "jobs", AckDeadline(10'000)));
  }

  template <typename Req>
  void Call(uint64_t call_id, const char* rpc, const Req& req, uint32_t credits = 0, int64_t deadline_ms = 0) {
    Inbound in;
    in.call_id = call_id;
    in.client = 1;
    in.method = std::string("cloudkit.v1.PubSub/") + rpc;
    in.body = req.SerializeAsString();
    in.credits = credits;
    in.deadline_ms = deadline_ms;
    actor_->Receive(std::move(in));
    Settle();
  }
  void Open(uint64_t call_id, uint32_t credits, int64_t deadline_ms = 0) {
    v1::SubscribeRequest req;
    req.set_subscription("workers");
    opened_.push_back(call_id);
    Call(call_id, "Subscribe", req, credits, deadline_ms);
  }
  // The host cancels the calls its clients leave open (hosts retire an
  // actor rather than destroy one with operations open): none outlives that.
  void TearDown() override {
    if (actor_) {
      for (uint64_t call_id : opened_) Frame(call_id, v1::CANCEL);
      FireDueTimers();
      EXPECT_EQ(actor_->load().open_calls, 0u) << "operations left open after every stream was cancelled";
    }
    PubSubConformance::TearDown();
  }
  void Frame(uint64_t call_id, v1::FrameKind kind, uint32_t credits = 0) {
    Inbound in;
    in.call_id = call_id;
    in.kind = kind;
    in.credits = credits;
    actor_->Receive(std::move(in));
    Settle();
  }
  void PublishOnActor(uint64_t call_id, const std::string& body) {
    v1::PublishRequest req;
    req.set_topic("jobs");
    req.set_body(body);
    Call(call_id, "Publish", req);
  }
  void FireDueTimers() { conformance::FireDueTimers(timers_, *actor_); }
  // Fires due timers and runs port answers until `done` holds, for at most
  // 10 s: a stream's pull may wait on a slow disk longer than Settle does.
  bool Until(const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      FireDueTimers();
      if (done() || std::chrono::steady_clock::now() > give_up) return done();
      (void)testing_util::ThisThreadExecutor()->RunOne(std::chrono::milliseconds(20));
    }
  }
  // The messages the stream sent so far (heartbeats apart), in order.
  std::vector<v1::Delivery> Delivered(uint64_t call_id) {
    std::vector<v1::Delivery> delivered;
    for (const Outbound& frame : outbox_.frames) {
      if (frame.call_id != call_id || frame.kind != v1::DATA) continue;
      v1::Delivery delivery;
      EXPECT_TRUE(delivery.ParseFromString(frame.body));
      if (!delivery.heartbeat()) delivered.push_back(delivery);
    }
    return delivered;
  }
  size_t Heartbeats(uint64_t call_id) {
    size_t heartbeats = 0;
    for (const Outbound& frame : outbox_.frames) {
      v1::Delivery delivery;
      if (frame.call_id == call_id && frame.kind == v1::DATA && delivery.ParseFromString(frame.body) &&
          delivery.heartbeat()) {
        heartbeats++;
      }
    }
    return heartbeats;
  }
  // The frame that ended the call, or null while it is open.
  const Outbound* Ended(uint64_t call_id) {
    for (const Outbound& frame : outbox_.frames) {
      if (frame.call_id == call_id && frame.ends_call) return &frame;
    }
    return nullptr;
  }

  ServiceRegistry services_;
  ManualTimers timers_{&clock_};
  RecordingOutbox outbox_;
  std::unique_ptr<Actor> actor_;
  std::vector<uint64_t> opened_;  // Subscribe calls, open or ended
};

TEST_P(PubSubStream, AStreamAnswersTheSubscriptionThenSendsNoMoreThanItsCredits) {
  for (const char* body : {"1", "2", "3", "4", "5"}) CK_ASSERT_OK(Publish("jobs", body));
  Open(1, /*credits=*/2);
  ASSERT_FALSE(outbox_.frames.empty());
  const Outbound& head = outbox_.frames.front();
  EXPECT_EQ(head.kind, v1::RESPONSE);
  EXPECT_FALSE(head.ends_call);
  v1::SubscribeResponse response;
  ASSERT_TRUE(response.ParseFromString(head.body));
  EXPECT_EQ(response.subscription().topic(), "jobs");
  EXPECT_GT(response.heartbeat_ms(), 0u);
  ASSERT_TRUE(Until([&] { return Delivered(1).size() >= 2; }));
  FireDueTimers();
  EXPECT_EQ(Delivered(1).size(), 2u) << "no credit, no message";
  Frame(1, v1::CREDIT, 1);
  ASSERT_TRUE(Until([&] { return Delivered(1).size() >= 3; }));
  EXPECT_EQ(Delivered(1).size(), 3u);
  Frame(1, v1::CREDIT, 10);
  ASSERT_TRUE(Until([&] { return Delivered(1).size() >= 5; }));
  std::vector<std::string> bodies;
  for (const v1::Delivery& delivery : Delivered(1)) bodies.push_back(delivery.body());
  EXPECT_EQ(bodies, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(Ended(1), nullptr) << "the stream stays open";
}

TEST_P(PubSubStream, AParkedStreamIsWokenByAPublishOnTheBinding) {
  Open(1, 5);
  EXPECT_TRUE(Delivered(1).empty());
  PublishOnActor(2, "wake up");
  // A slow disk may hold the publish's write past Settle's quiet time: wait
  // for its answer (port answers only, no timers).
  for (auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       Ended(2) == nullptr && std::chrono::steady_clock::now() < give_up;) {
    (void)testing_util::ThisThreadExecutor()->RunOne(std::chrono::milliseconds(20));
  }
  ASSERT_NE(Ended(2), nullptr) << "the same client's publish does not wait for its stream";
  EXPECT_TRUE(Ended(2)->status.ok());
  EXPECT_TRUE(Delivered(1).empty()) << "woken on the actor's next turn, not inside the publish";
  ASSERT_TRUE(Until([&] { return !Delivered(1).empty(); }));
  auto delivered = Delivered(1);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].body(), "wake up");
  // Acked from a unary call (any connection may ack).
  v1::AckMessagesRequest ack;
  ack.set_subscription("workers");
  ack.add_ack_ids(delivered[0].ack_id());
  Call(3, "Ack", ack);
  ASSERT_TRUE(Until([&] { return Ended(3) != nullptr; }));
  v1::AckMessagesResponse acked;
  ASSERT_TRUE(acked.ParseFromString(Ended(3)->body));
  EXPECT_EQ(acked.acked(), 1u);
}

TEST_P(PubSubStream, AMessageNotAckedInTimeIsSentAgainToAWaitingStream) {
  PublishOnActor(1, "job");
  Open(2, 1);
  ASSERT_TRUE(Until([&] { return Delivered(2).size() == 1; }));
  Frame(2, v1::CREDIT, 1);
  Open(3, 1);  // a second stream of the same subscription
  FireDueTimers();
  Settle();
  EXPECT_EQ(Delivered(2).size() + Delivered(3).size(), 1u);
  clock_.Advance(10'000);  // the ack deadline
  ASSERT_TRUE(Until([&] { return Delivered(2).size() + Delivered(3).size() == 2; }));
  std::vector<v1::Delivery> again = Delivered(2);
  for (const v1::Delivery& delivery : Delivered(3)) again.push_back(delivery);
  ASSERT_EQ(again.size(), 2u) << "redelivered once, to one of the streams";
  EXPECT_EQ(again[1].body(), "job");
  EXPECT_EQ(std::max(again[0].delivery_count(), again[1].delivery_count()), 2u);
}

TEST_P(PubSubStream, AnIdleStreamSendsHeartbeatsAndEndsWhenItsClientFallsSilent) {
  Open(1, 1, /*deadline_ms=*/clock_.NowMs() + 30'000);
  Settle();
  EXPECT_EQ(Heartbeats(1), 0u);
  clock_.Advance(5'000);
  ASSERT_TRUE(Until([&] { return Heartbeats(1) == 1; }));
  clock_.Advance(5'000);
  Frame(1, v1::CREDIT, 0);  // the client's heartbeat restarts its allowed silence
  ASSERT_TRUE(Until([&] { return Heartbeats(1) == 2; }));
  // Silent from here: heartbeats at 15, 20, 25, 30 and 35 s, the end at 40 s.
  for (size_t beat = 3; beat <= 7; ++beat) {
    clock_.Advance(5'000);
    ASSERT_TRUE(Until([&] { return Heartbeats(1) == beat; })) << beat;
    EXPECT_EQ(Ended(1), nullptr);
  }
  clock_.Advance(5'000);
  ASSERT_TRUE(Until([&] { return Ended(1) != nullptr; })) << "30 s without a frame of its client";
  const Outbound* ended = Ended(1);
  EXPECT_EQ(ended->status.code(), v1::DEADLINE_EXCEEDED);
  EXPECT_TRUE(timers_.due.count(1) == 0) << "nothing left to wake";
}

TEST_P(PubSubStream, ACancelledStreamTakesNothingMore) {
  Open(1, 5);
  Frame(1, v1::CANCEL);
  FireDueTimers();
  PublishOnActor(2, "for someone else");
  FireDueTimers();
  EXPECT_TRUE(Delivered(1).empty());
  EXPECT_EQ(Ended(1), nullptr) << "a cancelled call gets no answer";
  EXPECT_EQ(Bodies("workers"), (std::vector<std::string>{"for someone else"}));
}

TEST_P(PubSubStream, DeletingTheSubscriptionEndsItsStreams) {
  Open(1, 5);
  Open(2, 5);
  v1::DeleteSubscriptionRequest del;
  del.set_subscription("workers");
  Call(3, "DeleteSubscription", del);
  ASSERT_TRUE(Until([&] { return Ended(1) != nullptr && Ended(2) != nullptr; }));
  for (uint64_t call : {1, 2}) {
    EXPECT_EQ(Ended(call)->status.code(), v1::NOT_FOUND);
  }
  v1::SubscribeRequest missing;
  missing.set_subscription("workers");
  Call(4, "Subscribe", missing, 5);
  ASSERT_TRUE(Until([&] { return Ended(4) != nullptr; }));
  EXPECT_EQ(Ended(4)->status.code(), v1::NOT_FOUND);
}

// Hosts whose targets serve no pub/sub (the clouds') instantiate none.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PubSubConformance);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(PubSubStream);
INSTANTIATE_TEST_SUITE_P(Providers, PubSubConformance,
                         ::testing::ValuesIn(ConformanceTargetsServing(kPubSubService)), ParamName);
INSTANTIATE_TEST_SUITE_P(Providers, PubSubStream, ::testing::ValuesIn(ConformanceTargetsServing(kPubSubService)),
                         ParamName);

}  // namespace cloudkit::conformance
