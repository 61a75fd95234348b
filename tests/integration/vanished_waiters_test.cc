// Clients that vanish while they wait, through a real cloudkitd, on the
// `local` binding (default) and the `memory` one (scratch): long-poll
// receivers and subscription streams, each a DEALER of the test's own closed
// mid-wait, leave nothing behind. The daemon's status shows each binding's
// calls in flight, operations open in its actors, parked calls and armed
// timers; after the clients are gone all are back to what they were before,
// round after round, and what arrives next goes to a live client.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "cloudkit/v1/envelope.pb.h"
#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

using std::chrono::milliseconds;

constexpr int kReceivers = 40;
constexpr int kSubscribers = 10;
constexpr int kRounds = 3;

// One waiting call on a connection of its own.
class Waiter {
 public:
  Waiter(zmq::context_t& context, const std::string& endpoint) : socket_(context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }
  void Send(const std::string& method, const std::string& binding, const std::string& body, uint32_t credits) {
    v1::RequestEnvelope envelope;
    envelope.set_request_id(1);
    envelope.set_kind(v1::REQUEST);
    envelope.set_method(method);
    envelope.set_binding(binding);
    envelope.set_credits(credits);
    envelope.set_timeout_ms(60'000);
    socket_.send(zmq::buffer(envelope.SerializeAsString()), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(body), zmq::send_flags::none);
  }
  void Close() { socket_.close(); }

 private:
  zmq::socket_t socket_;
};

class VanishedWaitersTest : public DaemonTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (HasFatalFailure()) return;
    ClientOptions options;
    options.binding = GetParam();
    on_binding_ = Connect(options);
    ASSERT_TRUE(on_binding_);
  }

  v1::BindingInfo Load() {
    auto status = client_->runtime().GetStatus();
    EXPECT_TRUE(status.ok()) << status.status().message();
    if (status.ok()) {
      for (const v1::BindingInfo& binding : status->bindings()) {
        if (binding.name() == GetParam()) return binding;
      }
    }
    ADD_FAILURE() << "status lists no binding '" << GetParam() << "'";
    return {};
  }

  // Polls status until `done` holds (true) or 10 s passed (false).
  template <typename Done>
  bool LoadBecomes(Done done, v1::BindingInfo* last) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
      *last = Load();
      if (done(*last)) return true;
      std::this_thread::sleep_for(milliseconds(20));
    } while (std::chrono::steady_clock::now() < until);
    return false;
  }

  std::unique_ptr<Client> on_binding_;
};

std::string Describe(const v1::BindingInfo& info) {
  return "in flight " + std::to_string(info.calls_in_flight()) + ", open " + std::to_string(info.operations_open()) +
         ", parked " + std::to_string(info.calls_parked()) + ", timers " + std::to_string(info.timers_armed());
}

TEST_P(VanishedWaitersTest, LongPollsAndStreamsOfVanishedClientsLeaveNothingBehind) {
  v1::CreateQueueRequest queue;
  queue.set_queue("jobs");
  ASSERT_CK_OK(on_binding_->queue().CreateQueue(queue));
  v1::CreateTopicRequest topic;
  topic.set_topic("news");
  ASSERT_CK_OK(on_binding_->pubsub().CreateTopic(topic));
  for (int i = 0; i < kSubscribers; ++i) {
    v1::CreateSubscriptionRequest subscription;
    subscription.set_subscription("reader-" + std::to_string(i));
    subscription.set_topic("news");
    ASSERT_CK_OK(on_binding_->pubsub().CreateSubscription(subscription));
  }
  // An actor publishes its load after the turn that answered: the last
  // answer may reach this client first.
  v1::BindingInfo idle;
  EXPECT_TRUE(LoadBecomes(
      [](const v1::BindingInfo& info) { return info.calls_parked() == 0 && info.operations_open() == 0; }, &idle))
      << Describe(idle);

  zmq::context_t context;
  v1::ReceiveRequest receive;
  receive.set_queue("jobs");
  receive.set_wait_ms(20'000);
  const std::string receive_body = receive.SerializeAsString();
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<std::unique_ptr<Waiter>> waiters;
    for (int i = 0; i < kReceivers; ++i) {
      waiters.push_back(std::make_unique<Waiter>(context, daemon_->endpoint()));
      waiters.back()->Send("cloudkit.v1.Queue/Receive", GetParam(), receive_body, 0);
    }
    for (int i = 0; i < kSubscribers; ++i) {
      v1::SubscribeRequest subscribe;
      subscribe.set_subscription("reader-" + std::to_string(i));
      waiters.push_back(std::make_unique<Waiter>(context, daemon_->endpoint()));
      waiters.back()->Send("cloudkit.v1.PubSub/Subscribe", GetParam(), subscribe.SerializeAsString(), 4);
    }
    v1::BindingInfo load;
    const uint32_t all = kReceivers + kSubscribers;
    ASSERT_TRUE(LoadBecomes([&](const v1::BindingInfo& info) { return info.calls_parked() == all; }, &load))
        << "the waiters never all parked: " << Describe(load);
    EXPECT_GE(load.calls_in_flight(), all) << Describe(load);
    EXPECT_GE(load.operations_open(), all) << Describe(load);

    for (auto& waiter : waiters) waiter->Close();
    // Back to idle: nothing held for the vanished, no timer per waiter.
    EXPECT_TRUE(LoadBecomes(
        [&](const v1::BindingInfo& info) {
          return info.calls_in_flight() == 0 && info.operations_open() == 0 && info.calls_parked() == 0 &&
                 info.timers_armed() <= idle.timers_armed();
        },
        &load))
        << "the vanished clients' calls are still held: " << Describe(load) << " (idle: " << Describe(idle) << ")";
  }

  // What comes next goes to a live client, not to a vanished one.
  v1::SendRequest send;
  send.set_queue("jobs");
  send.set_body("after them");
  ASSERT_CK_OK(on_binding_->queue().Send(send));
  v1::ReceiveRequest now;
  now.set_queue("jobs");
  now.set_wait_ms(2'000);
  auto got = on_binding_->queue().Receive(now);
  ASSERT_CK_OK(got);
  ASSERT_EQ(got->messages_size(), 1);
  EXPECT_EQ(got->messages(0).body(), "after them");
}

INSTANTIATE_TEST_SUITE_P(Bindings, VanishedWaitersTest, ::testing::Values("default", "scratch"));

}  // namespace
}  // namespace cloudkit::integration
