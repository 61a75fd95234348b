// Two embedded Queue or PubSub providers over one ordered store, as two
// browser tabs have them over one IndexedDB database: each keeps its own
// locks and caches, so only the store can keep two creations of one name
// apart. Checked both ways round: the second creating after the first has,
// and both reading "absent" before either writes (the second's read is
// answered, then the first creates, then the second writes), where exactly
// one is told OK and the other ALREADY_EXISTS naming the queue, topic or
// subscription, and the store keeps the winner's record.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "ports/memory_storage.h"
#include "providers/embedded/embedded_pubsub.h"
#include "providers/embedded/embedded_queue.h"
#include "providers/embedded/message_keys.h"
#include "support/run_task.h"
#include "support/shared_ordered_store.h"

namespace cloudkit {
namespace {

using testing_util::RunTask;

using SharedStore = testing_util::SharedOrderedStore;

// Each "tab" has its own clock, so a record tells which one wrote it.
class TwoStoresTest : public ::testing::Test {
 protected:
  template <typename Provider>
  std::unique_ptr<Provider> Open(ports::Clock* clock, SharedStore** handle) {
    auto store = std::make_unique<SharedStore>(&store_);
    *handle = store.get();
    return std::make_unique<Provider>(std::move(store), clock);
  }

  ports::MemoryOrderedStore store_;
  ports::ManualClock clock_a_{1'000'000};
  ports::ManualClock clock_b_{2'000'000};
  SharedStore* handle_a_ = nullptr;
  SharedStore* handle_b_ = nullptr;
};

v1::CreateQueueRequest QueueNamed(const std::string& queue, uint32_t visibility_ms) {
  v1::CreateQueueRequest req;
  req.set_queue(queue);
  req.mutable_options()->set_visibility_timeout_ms(visibility_ms);
  return req;
}

v1::CreateTopicRequest TopicNamed(const std::string& topic) {
  v1::CreateTopicRequest req;
  req.set_topic(topic);
  return req;
}

v1::CreateSubscriptionRequest SubscriptionNamed(const std::string& subscription, const std::string& topic,
                                                uint32_t ack_deadline_ms) {
  v1::CreateSubscriptionRequest req;
  req.set_subscription(subscription);
  req.set_topic(topic);
  req.mutable_options()->set_ack_deadline_ms(ack_deadline_ms);
  return req;
}

void ExpectAlreadyExists(const Status& status, const std::string& named) {
  EXPECT_EQ(status.code(), v1::ALREADY_EXISTS) << status.message();
  EXPECT_NE(status.message().find(named), std::string::npos) << status.message();
}

TEST_F(TwoStoresTest, AQueueCreatedByAnotherStoreIsAlreadyThere) {
  auto a = Open<embedded::EmbeddedQueue>(&clock_a_, &handle_a_);
  auto b = Open<embedded::EmbeddedQueue>(&clock_b_, &handle_b_);
  ASSERT_TRUE(RunTask(a->CreateQueue(QueueNamed("jobs", 1000))).ok());
  ExpectAlreadyExists(RunTask(b->CreateQueue(QueueNamed("jobs", 2000))).status(), "queue 'jobs'");
}

TEST_F(TwoStoresTest, QueueCreationsThatBothReadAbsentHaveOneWinner) {
  auto a = Open<embedded::EmbeddedQueue>(&clock_a_, &handle_a_);
  auto b = Open<embedded::EmbeddedQueue>(&clock_b_, &handle_b_);
  handle_b_->AfterReading(embedded::QueueKey("jobs"), [&] {
    auto created = RunTask(a->CreateQueue(QueueNamed("jobs", 1000)));
    EXPECT_TRUE(created.ok()) << created.status().message();
  });
  ExpectAlreadyExists(RunTask(b->CreateQueue(QueueNamed("jobs", 2000))).status(), "queue 'jobs'");
  ASSERT_TRUE(handle_b_->interleaved()) << "b never read the queue's record";
  // The store keeps the winner's queue, and the loser uses it.
  auto listed = RunTask(b->ListQueues(v1::ListQueuesRequest()));
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->queues_size(), 1);
  EXPECT_EQ(listed->queues(0).options().visibility_timeout_ms(), 1000u);
  EXPECT_EQ(listed->queues(0).created_ms(), clock_a_.NowMs());
  v1::SendRequest send;
  send.set_queue("jobs");
  send.set_body("m");
  ASSERT_TRUE(RunTask(b->Send(send)).ok());
  clock_a_.Advance(clock_b_.NowMs() - clock_a_.NowMs());  // b's message is due on a's clock too
  v1::DepthRequest depth;
  depth.set_queue("jobs");
  auto counted = RunTask(a->Depth(depth));
  ASSERT_TRUE(counted.ok()) << counted.status().message();
  EXPECT_EQ(counted->visible(), 1u) << "b sent into the queue a created";
}

TEST_F(TwoStoresTest, ATopicCreatedByAnotherStoreIsAlreadyThere) {
  auto a = Open<embedded::EmbeddedPubSub>(&clock_a_, &handle_a_);
  auto b = Open<embedded::EmbeddedPubSub>(&clock_b_, &handle_b_);
  ASSERT_TRUE(RunTask(a->CreateTopic(TopicNamed("orders"))).ok());
  ExpectAlreadyExists(RunTask(b->CreateTopic(TopicNamed("orders"))).status(), "topic 'orders'");
}

TEST_F(TwoStoresTest, TopicCreationsThatBothReadAbsentHaveOneWinner) {
  auto a = Open<embedded::EmbeddedPubSub>(&clock_a_, &handle_a_);
  auto b = Open<embedded::EmbeddedPubSub>(&clock_b_, &handle_b_);
  handle_b_->AfterReading(embedded::TopicKey("orders"), [&] {
    auto created = RunTask(a->CreateTopic(TopicNamed("orders")));
    EXPECT_TRUE(created.ok()) << created.status().message();
  });
  ExpectAlreadyExists(RunTask(b->CreateTopic(TopicNamed("orders"))).status(), "topic 'orders'");
  ASSERT_TRUE(handle_b_->interleaved()) << "b never read the topic's record";
  auto listed = RunTask(b->ListTopics(v1::ListTopicsRequest()));
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->topics_size(), 1);
  EXPECT_EQ(listed->topics(0).created_ms(), clock_a_.NowMs()) << "the store keeps the winner's topic";
}

TEST_F(TwoStoresTest, SubscriptionCreationsThatBothReadAbsentHaveOneWinner) {
  auto a = Open<embedded::EmbeddedPubSub>(&clock_a_, &handle_a_);
  auto b = Open<embedded::EmbeddedPubSub>(&clock_b_, &handle_b_);
  ASSERT_TRUE(RunTask(a->CreateTopic(TopicNamed("orders"))).ok());
  handle_b_->AfterReading(embedded::SubscriptionKey("shipping"), [&] {
    auto created = RunTask(a->CreateSubscription(SubscriptionNamed("shipping", "orders", 1000)));
    EXPECT_TRUE(created.ok()) << created.status().message();
  });
  ExpectAlreadyExists(RunTask(b->CreateSubscription(SubscriptionNamed("shipping", "orders", 2000))).status(),
                      "subscription 'shipping'");
  ASSERT_TRUE(handle_b_->interleaved()) << "b never read the subscription's record";
  auto info = RunTask(b->GetSubscription("shipping"));
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->options().ack_deadline_ms(), 1000u) << "the store keeps the winner's subscription";
  // The loser's publishes reach the one subscription the store holds.
  v1::PublishRequest publish;
  publish.set_topic("orders");
  publish.set_body("m");
  auto published = RunTask(b->Publish(publish));
  ASSERT_TRUE(published.ok()) << published.status().message();
  EXPECT_EQ(published->subscriptions(), 1u);
}

}  // namespace
}  // namespace cloudkit
