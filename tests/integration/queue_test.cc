// Queues through a real cloudkitd, on the `local` binding (default) and the
// `memory` one (scratch): a long poll answered by another client's send,
// redelivery when a visibility timeout ends, dead-lettering after N
// receives, and kill -9: every acknowledged send survives, no acked message
// comes back. Over `memory`, a long queue's purge lets other calls through.
#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

using Clock = std::chrono::steady_clock;

class QueueTest : public DaemonTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (HasFatalFailure()) return;
    ClientOptions options;
    options.binding = GetParam();
    options.connect_timeout = std::chrono::milliseconds(500);
    queue_client_ = Connect(options);
  }
  QueueClient& queues() { return queue_client_->queue(); }

  Status Create(const std::string& queue, const v1::QueueOptions& options = {}) {
    v1::CreateQueueRequest request;
    request.set_queue(queue);
    *request.mutable_options() = options;
    return StatusOf(queues().CreateQueue(request));
  }
  static v1::SendRequest SendRequest(const std::string& queue, const std::string& body) {
    v1::SendRequest request;
    request.set_queue(queue);
    request.set_body(body);
    return request;
  }
  static v1::ReceiveRequest ReceiveRequest(const std::string& queue, uint32_t wait_ms = 0, uint32_t visibility_ms = 0,
                                           uint32_t max = 1) {
    v1::ReceiveRequest request;
    request.set_queue(queue);
    request.set_wait_ms(wait_ms);
    request.set_visibility_timeout_ms(visibility_ms);
    request.set_max_messages(max);
    return request;
  }
  static v1::AckRequest AckRequest(const std::string& queue, const std::string& receipt) {
    v1::AckRequest request;
    request.set_queue(queue);
    request.set_receipt_handle(receipt);
    return request;
  }

  std::unique_ptr<Client> queue_client_;
};

TEST_P(QueueTest, ALongPollIsAnsweredByAnotherClientsSend) {
  ASSERT_CK_OK(Create("jobs"));
  const auto started = Clock::now();
  auto waiting = queues().ReceiveAsync(ReceiveRequest("jobs", /*wait_ms=*/15'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(waiting.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout) << "the receive waits";
  ClientOptions options;
  options.binding = GetParam();
  std::unique_ptr<Client> sender = Connect(options);
  ASSERT_CK_OK(sender->queue().Send(SendRequest("jobs", "hello")));
  auto received = waiting.get();
  const auto waited = Clock::now() - started;
  ASSERT_CK_OK(received);
  ASSERT_EQ(received->messages_size(), 1);
  EXPECT_EQ(received->messages(0).body(), "hello");
  EXPECT_LT(waited, std::chrono::seconds(5)) << "woken by the send, not by the end of its wait";

  // With nothing sent, it ends empty when its wait does.
  const auto empty_started = Clock::now();
  auto empty = queues().Receive(ReceiveRequest("jobs", /*wait_ms=*/700));
  ASSERT_CK_OK(empty);
  EXPECT_EQ(empty->messages_size(), 0);
  EXPECT_GE(Clock::now() - empty_started, std::chrono::milliseconds(650));
}

TEST_P(QueueTest, AnUnackedMessageIsDeliveredAgainAfterItsVisibilityTimeout) {
  ASSERT_CK_OK(Create("jobs"));
  ASSERT_CK_OK(queues().Send(SendRequest("jobs", "work")));
  auto first = queues().Receive(ReceiveRequest("jobs", 0, /*visibility_ms=*/500));
  ASSERT_CK_OK(first);
  ASSERT_EQ(first->messages_size(), 1);
  // A long poll started now is answered when the message becomes visible again.
  const auto started = Clock::now();
  auto again = queues().Receive(ReceiveRequest("jobs", /*wait_ms=*/10'000, 60'000));
  ASSERT_CK_OK(again);
  ASSERT_EQ(again->messages_size(), 1);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(again->messages(0).receive_count(), 2u);
  EXPECT_CK_CODE(queues().Ack(AckRequest("jobs", first->messages(0).receipt_handle())), v1::FAILED_PRECONDITION);
  EXPECT_CK_CODE(queues().Ack(AckRequest("jobs", again->messages(0).receipt_handle())), v1::OK);
}

TEST_P(QueueTest, AMessageReceivedTooOftenMovesToTheDeadLetterQueue) {
  ASSERT_CK_OK(Create("jobs-dlq"));
  v1::QueueOptions options;
  options.set_dead_letter_queue("jobs-dlq");
  options.set_max_receives(2);
  ASSERT_CK_OK(Create("jobs", options));
  ASSERT_CK_OK(queues().Send(SendRequest("jobs", "poison")));
  for (int i = 0; i < 2; ++i) {
    auto received = queues().Receive(ReceiveRequest("jobs", /*wait_ms=*/5'000, /*visibility_ms=*/200));
    ASSERT_CK_OK(received);
    ASSERT_EQ(received->messages_size(), 1) << "receive " << i;
  }
  // A long poll on the dead-letter queue is woken by the move.
  auto dead = queues().ReceiveAsync(ReceiveRequest("jobs-dlq", /*wait_ms=*/10'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto third = queues().Receive(ReceiveRequest("jobs", 0));
  ASSERT_CK_OK(third);
  EXPECT_EQ(third->messages_size(), 0);
  auto moved = dead.get();
  ASSERT_CK_OK(moved);
  ASSERT_EQ(moved->messages_size(), 1);
  EXPECT_EQ(moved->messages(0).body(), "poison");
}

INSTANTIATE_TEST_SUITE_P(Bindings, QueueTest, ::testing::Values("default", "scratch"));

using LongQueueTest = DaemonTest;

// Over `memory` the queue actor runs on the front door's thread: counting
// and purging a long queue go over many of its turns, so another client's
// calls to the same binding's queues are answered while the purge runs,
// and the counts stay exact.
TEST_F(LongQueueTest, OtherCallsAreAnsweredWhileALongMemoryQueueIsPurged) {
  constexpr int kBatches = 2'000, kPerBatch = 100, kInFlight = 16;
  constexpr uint64_t kMessages = uint64_t{kBatches} * kPerBatch;
  ClientOptions options;
  options.binding = "scratch";
  std::unique_ptr<Client> purger = Connect(options);
  std::unique_ptr<Client> other = Connect(options);
  QueueClient& queues = purger->queue();
  for (const char* name : {"long", "short"}) {
    v1::CreateQueueRequest create;
    create.set_queue(name);
    ASSERT_CK_OK(queues.CreateQueue(create));
  }
  v1::SendBatchRequest batch;
  batch.set_queue("long");
  for (int i = 0; i < kPerBatch; ++i) batch.add_entries()->set_body("message " + std::to_string(i));
  std::vector<std::future<QueueClient::SendBatchResult>> sending;
  for (int i = 0; i < kBatches; ++i) {
    sending.push_back(queues.SendBatchAsync(batch));
    if (sending.size() == kInFlight || i + 1 == kBatches) {
      for (auto& sent : sending) ASSERT_CK_OK(sent.get());
      sending.clear();
    }
  }
  v1::DepthRequest depth;
  depth.set_queue("long");
  auto before = queues.Depth(depth);
  ASSERT_CK_OK(before);
  EXPECT_EQ(before->visible(), kMessages);

  v1::PurgeRequest purge;
  purge.set_queue("long");
  auto purging = queues.PurgeAsync(purge);
  v1::SendRequest meanwhile;
  meanwhile.set_queue("short");
  meanwhile.set_body("meanwhile");
  int answered_during_purge = 0;
  while (purging.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    auto sent = other->queue().Send(meanwhile);
    ASSERT_CK_OK(sent);
    if (purging.wait_for(std::chrono::seconds(0)) != std::future_status::ready) ++answered_during_purge;
  }
  auto purged = purging.get();
  ASSERT_CK_OK(purged);
  EXPECT_EQ(purged->purged(), kMessages);
  // Not a timing: a purge run in one turn would answer every Send after it.
  EXPECT_GE(answered_during_purge, 10) << "sends answered while the purge of " << kMessages << " messages ran";
  RecordProperty("answered_during_purge", answered_during_purge);
  auto after = queues.Depth(depth);
  ASSERT_CK_OK(after);
  EXPECT_EQ(after->visible() + after->in_flight() + after->delayed(), 0u);
  depth.set_queue("short");
  auto others = queues.Depth(depth);
  ASSERT_CK_OK(others);
  EXPECT_GE(others->visible(), static_cast<uint64_t>(answered_during_purge));
}

using QueueDurabilityTest = DaemonTest;

// Senders and a consumer keep going while the daemon is killed: every send
// that was acknowledged is there after the restart (received or waiting),
// and no message whose ack was acknowledged comes back.
TEST_F(QueueDurabilityTest, AcknowledgedSendsAndAcksSurviveKill9) {
  v1::CreateQueueRequest create;
  create.set_queue("jobs");
  ASSERT_CK_OK(client_->queue().CreateQueue(create));
  std::atomic<bool> stop{false};
  std::vector<std::string> sent;     // bodies whose send was acknowledged
  std::set<std::string> acked;       // bodies whose ack was acknowledged
  std::set<std::string> ack_unknown;  // the ack in flight at the kill: it may have landed
  std::atomic<size_t> sent_so_far{0};
  std::atomic<size_t> acked_so_far{0};
  ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(300);
  std::thread sender([&] {
    std::unique_ptr<Client> client = Connect(options);
    for (int i = 0; !stop; ++i) {
      v1::SendRequest request;
      request.set_queue("jobs");
      request.set_body("message-" + std::to_string(i));
      if (!client->queue().Send(request).ok()) break;
      sent.push_back(request.body());
      ++sent_so_far;
    }
  });
  std::thread consumer([&] {
    std::unique_ptr<Client> client = Connect(options);
    while (!stop) {
      v1::ReceiveRequest request;
      request.set_queue("jobs");
      request.set_max_messages(10);
      request.set_wait_ms(200);
      request.set_visibility_timeout_ms(2'000);
      auto received = client->queue().Receive(request);
      if (!received.ok()) break;
      for (const auto& message : received->messages()) {
        v1::AckRequest ack;
        ack.set_queue("jobs");
        ack.set_receipt_handle(message.receipt_handle());
        if (!client->queue().Ack(ack).ok()) {
          ack_unknown.insert(message.body());
          return;
        }
        acked.insert(message.body());
        ++acked_so_far;
      }
    }
  });
  // Killed mid-stream, once both sides have done some work (however loaded the machine).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  for (auto until = Clock::now() + std::chrono::seconds(20);
       Clock::now() < until && (sent_so_far < 20 || acked_so_far < 10);) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  daemon_->Kill();
  stop = true;
  sender.join();
  consumer.join();
  ASSERT_GT(sent.size(), 10u);
  ASSERT_GT(acked.size(), 5u);

  ASSERT_CK_OK(daemon_->Restart());
  // Receive everything left, waiting out the visibility of messages that
  // were received and not acked before the kill.
  std::set<std::string> left;
  for (auto deadline = Clock::now() + std::chrono::seconds(10); Clock::now() < deadline;) {
    v1::ReceiveRequest request;
    request.set_queue("jobs");
    request.set_max_messages(100);
    request.set_wait_ms(2'500);
    request.set_visibility_timeout_ms(60'000);
    auto received = client_->queue().Receive(request);
    ASSERT_CK_OK(received);
    if (received->messages_size() == 0) break;
    for (const auto& message : received->messages()) {
      EXPECT_FALSE(acked.count(message.body())) << message.body() << " was acked, yet came back";
      left.insert(message.body());
    }
  }
  for (const std::string& body : sent) {
    EXPECT_TRUE(acked.count(body) || left.count(body) || ack_unknown.count(body))
        << body << " was acknowledged as sent, then lost";
  }
  RecordProperty("sent", static_cast<int>(sent.size()));
  RecordProperty("acked", static_cast<int>(acked.size()));
}

}  // namespace
}  // namespace cloudkit::integration
