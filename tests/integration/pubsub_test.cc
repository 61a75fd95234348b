// Pub/sub through a real cloudkitd, on the `local` binding (default) and the
// `memory` one (scratch): a stream gets what another client publishes while
// it waits; flow control and liveness on the wire (a raw DEALER: never more
// messages than credits, a silent client's stream ends, heartbeats keep it,
// a DEALER that vanishes gets its messages back on a new stream);
// kill -9 after acknowledged publishes loses nothing; and the CLI's publish
// and listen --json, listen running as a child process until SIGTERM.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "cloudkit/v1/envelope.pb.h"

#include "integration/daemon_fixture.h"
#include "integration/subprocess.h"
#include "integration/test_helpers.h"
#include "support/child_process.h"

namespace cloudkit::integration {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class PubSubTest : public DaemonTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (HasFatalFailure()) return;
    subscriber_ = ConnectTo(GetParam());
  }
  std::unique_ptr<Client> ConnectTo(const std::string& binding) {
    ClientOptions options;
    options.binding = binding;
    options.connect_timeout = milliseconds(500);
    return Connect(options);
  }

  std::unique_ptr<Client> subscriber_;
};

Status CreateTopic(Client& client, const std::string& topic) {
  v1::CreateTopicRequest request;
  request.set_topic(topic);
  return StatusOf(client.pubsub().CreateTopic(request));
}

Status CreateSubscription(Client& client, const std::string& subscription, const std::string& topic,
                          uint32_t ack_deadline_ms = 0, const std::map<std::string, std::string>& filter = {}) {
  v1::CreateSubscriptionRequest request;
  request.set_subscription(subscription);
  request.set_topic(topic);
  request.mutable_options()->set_ack_deadline_ms(ack_deadline_ms);
  for (const auto& [name, value] : filter) (*request.mutable_options()->mutable_filter())[name] = value;
  return StatusOf(client.pubsub().CreateSubscription(request));
}

v1::PublishRequest PublishRequest(const std::string& topic, const std::string& body,
                                  const std::map<std::string, std::string>& attributes = {}) {
  v1::PublishRequest request;
  request.set_topic(topic);
  request.set_body(body);
  for (const auto& [name, value] : attributes) (*request.mutable_attributes())[name] = value;
  return request;
}

TEST_P(PubSubTest, AStreamGetsWhatAnotherClientPublishesWhileItWaits) {
  ASSERT_CK_OK(CreateTopic(*subscriber_, "orders"));
  ASSERT_CK_OK(CreateSubscription(*subscriber_, "shipping", "orders"));
  auto stream = subscriber_->pubsub().Subscribe("shipping");
  ASSERT_CK_OK(stream);
  EXPECT_EQ((*stream)->subscription().topic(), "orders");
  const auto started = Clock::now();
  auto waiting = std::async(std::launch::async, [&] { return (*stream)->Next(milliseconds(15'000)); });
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_EQ(waiting.wait_for(milliseconds(0)), std::future_status::timeout) << "the stream waits";
  std::unique_ptr<Client> publisher = ConnectTo(GetParam());
  auto published = publisher->pubsub().Publish(PublishRequest("orders", "order 7", {{"kind", "paid"}}));
  ASSERT_CK_OK(published);
  auto got = waiting.get();
  ASSERT_CK_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5)) << "woken by the publish";
  const v1::Delivery& delivery = **got;
  EXPECT_EQ(delivery.body(), "order 7");
  EXPECT_EQ(delivery.attributes().at("kind"), "paid");
  EXPECT_EQ(delivery.message_id(), published->message_id());
  EXPECT_EQ(delivery.delivery_count(), 1u);
  // Acked from the publisher's connection: an ack id works from any.
  auto acked = publisher->pubsub().Ack("shipping", {delivery.ack_id()});
  ASSERT_CK_OK(acked);
  EXPECT_EQ(acked->acked(), 1u);

  auto nothing = subscriber_->pubsub().Subscribe("nosuch");
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.status().code(), v1::NOT_FOUND);
}

INSTANTIATE_TEST_SUITE_P(Bindings, PubSubTest, ::testing::Values("default", "scratch"));

// The Subscribe stream on the wire, from a DEALER of the test's own.
class PubSubWireTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (HasFatalFailure()) return;
    socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(daemon_->endpoint());
    ASSERT_CK_OK(CreateTopic(*client_, "jobs"));
    ASSERT_CK_OK(CreateSubscription(*client_, "workers", "jobs"));
  }
  void TearDown() override {
    socket_.close();
    DaemonTest::TearDown();
  }

  void SendFrame(const v1::RequestEnvelope& envelope, const std::string& body = {}) {
    socket_.send(zmq::buffer(envelope.SerializeAsString()), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(body), zmq::send_flags::none);
  }
  void OpenStream(uint32_t credits, uint32_t timeout_ms, const std::string& subscription = "workers") {
    v1::RequestEnvelope envelope;
    envelope.set_request_id(1);
    envelope.set_kind(v1::REQUEST);
    envelope.set_method("cloudkit.v1.PubSub/Subscribe");
    envelope.set_credits(credits);
    envelope.set_timeout_ms(timeout_ms);
    v1::SubscribeRequest request;
    request.set_subscription(subscription);
    SendFrame(envelope, request.SerializeAsString());
  }
  void Credit(uint32_t credits) {
    v1::RequestEnvelope envelope;
    envelope.set_request_id(1);
    envelope.set_kind(v1::CREDIT);
    envelope.set_credits(credits);
    SendFrame(envelope);
  }
  // What arrives within `window`: messages (DATA frames that are no
  // heartbeat) are counted; the frame that ended the call, if one did, kept.
  struct Arrived {
    size_t messages = 0;
    size_t heartbeats = 0;
    bool response = false;
    std::optional<v1::ResponseEnvelope> ended;
  };
  Arrived Read(milliseconds window, const std::function<void()>& meanwhile = {}) {
    Arrived arrived;
    const auto until = Clock::now() + window;
    auto last_beat = Clock::now();
    while (Clock::now() < until && !arrived.ended) {
      if (meanwhile && Clock::now() - last_beat > milliseconds(400)) {
        meanwhile();
        last_beat = Clock::now();
      }
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, milliseconds(50)) == 0) continue;
      zmq::message_t head, body;
      (void)socket_.recv(head);
      (void)socket_.recv(body);
      v1::ResponseEnvelope envelope;
      EXPECT_TRUE(envelope.ParseFromArray(head.data(), static_cast<int>(head.size())));
      if (envelope.status().code() != v1::OK) {
        arrived.ended = envelope;
      } else if (envelope.kind() == v1::RESPONSE) {
        arrived.response = true;
      } else if (envelope.kind() == v1::DATA) {
        v1::Delivery delivery;
        EXPECT_TRUE(delivery.ParseFromString(body.to_string()));
        (delivery.heartbeat() ? arrived.heartbeats : arrived.messages)++;
      }
    }
    return arrived;
  }

  zmq::context_t context_;
  zmq::socket_t socket_;
};

TEST_F(PubSubWireTest, AStreamNeverSendsMoreMessagesThanItsCredits) {
  for (int i = 0; i < 10; ++i) ASSERT_CK_OK(client_->pubsub().Publish(PublishRequest("jobs", std::to_string(i))));
  OpenStream(/*credits=*/3, /*timeout_ms=*/30'000);
  Arrived first = Read(milliseconds(1500));
  EXPECT_TRUE(first.response);
  EXPECT_EQ(first.messages, 3u);
  Credit(4);
  Arrived second = Read(milliseconds(1500));
  EXPECT_EQ(second.messages, 4u);
  EXPECT_FALSE(second.ended.has_value());
  Credit(100);
  EXPECT_EQ(Read(milliseconds(1500)).messages, 3u) << "the rest, and no more than there is";
}

TEST_F(PubSubWireTest, AStreamLivesOnItsClientsHeartbeatsAndEndsWhenItFallsSilent) {
  OpenStream(/*credits=*/1, /*timeout_ms=*/1500);
  // Heartbeats (CREDIT frames of 0) every 400 ms: the stream outlives its 1.5 s timeout.
  Arrived alive = Read(milliseconds(4000), [&] { Credit(0); });
  EXPECT_TRUE(alive.response);
  EXPECT_FALSE(alive.ended.has_value()) << alive.ended->status().message();
  // Silent now: the stream ends within its timeout, heartbeats of the daemon notwithstanding.
  const auto silent_from = Clock::now();
  Arrived silent = Read(milliseconds(4000));
  ASSERT_TRUE(silent.ended.has_value()) << "still open 4 s after its client fell silent";
  EXPECT_EQ(silent.ended->status().code(), v1::DEADLINE_EXCEEDED);
  EXPECT_LT(Clock::now() - silent_from, milliseconds(3000));
}

TEST_F(PubSubWireTest, AnIdleStreamSendsHeartbeats) {
  OpenStream(/*credits=*/1, /*timeout_ms=*/30'000);
  Arrived idle = Read(milliseconds(6500), [&] { Credit(0); });
  EXPECT_EQ(idle.messages, 0u);
  EXPECT_GE(idle.heartbeats, 1u) << "one every 5 s at the most";
}

TEST_F(PubSubWireTest, ASubscriberThatGoesAwayGetsItsUnackedMessagesBackOnANewStream) {
  ASSERT_CK_OK(CreateSubscription(*client_, "quick", "jobs", /*ack_deadline_ms=*/1000));
  for (const char* body : {"a", "b", "c"}) ASSERT_CK_OK(client_->pubsub().Publish(PublishRequest("jobs", body)));
  OpenStream(/*credits=*/10, /*timeout_ms=*/30'000, "quick");
  ASSERT_EQ(Read(milliseconds(700)).messages, 3u);  // within the deadline: none came back yet
  socket_.close();  // gone without a word: no CANCEL, no ack
  auto stream = client_->pubsub().Subscribe("quick");
  ASSERT_CK_OK(stream);
  std::set<std::string> bodies;
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (bodies.size() < 3 && Clock::now() < until) {
    auto next = (*stream)->Next(milliseconds(500));
    ASSERT_CK_OK(next);
    if (!*next) continue;
    bodies.insert((*next)->body());
    EXPECT_EQ((*next)->delivery_count(), 2u);
    ASSERT_CK_OK(client_->pubsub().Ack("quick", {(*next)->ack_id()}));
  }
  EXPECT_EQ(bodies, (std::set<std::string>{"a", "b", "c"}));
}

// An unacked delivery comes back at its ack deadline, to the stream that had
// it, even when that deadline is shorter than the streams' 5 s heartbeat.
TEST_F(PubSubWireTest, AnUnackedDeliveryComesBackAtItsDeadlineNotAtTheNextHeartbeat) {
  ASSERT_CK_OK(CreateSubscription(*client_, "quick", "jobs", /*ack_deadline_ms=*/1000));
  ASSERT_CK_OK(client_->pubsub().Publish(PublishRequest("jobs", "a")));
  OpenStream(/*credits=*/10, /*timeout_ms=*/30'000, "quick");
  Arrived first = Read(milliseconds(500));
  ASSERT_EQ(first.messages, 1u);
  Arrived again = Read(milliseconds(3000));
  EXPECT_GE(again.messages, 1u) << "not redelivered within 3 s of a 1 s ack deadline";
}

using PubSubDurabilityTest = DaemonTest;

TEST_F(PubSubDurabilityTest, AcknowledgedPublishesSurviveKill9InEverySubscription) {
  ASSERT_CK_OK(CreateTopic(*client_, "orders"));
  // Short deadlines: messages the streams were sent and did not ack come back soon after the restart.
  ASSERT_CK_OK(CreateSubscription(*client_, "all", "orders", 2'000));
  ASSERT_CK_OK(CreateSubscription(*client_, "paid", "orders", 2'000, {{"kind", "paid"}}));
  std::set<std::string> all, paid;
  std::vector<std::future<PubSubClient::PublishResult>> publishes;
  for (int i = 0; i < 60; ++i) {
    const bool is_paid = i % 3 == 0;
    const std::string body = "order " + std::to_string(i);
    publishes.push_back(
        client_->pubsub().PublishAsync(PublishRequest("orders", body, {{"kind", is_paid ? "paid" : "open"}})));
    all.insert(body);
    if (is_paid) paid.insert(body);
  }
  for (auto& publish : publishes) ASSERT_CK_OK(publish.get());
  // Some taken and acked before the crash: those never come back.
  {
    auto stream = client_->pubsub().Subscribe("all", 5);
    ASSERT_CK_OK(stream);
    for (int i = 0; i < 5; ++i) {
      auto next = (*stream)->Next(milliseconds(5000));
      ASSERT_CK_OK(next);
      ASSERT_TRUE(next->has_value());
      ASSERT_CK_OK(client_->pubsub().Ack("all", {(*next)->ack_id()}));
      all.erase((*next)->body());
    }
  }
  daemon_->Kill();
  ASSERT_CK_OK(daemon_->Restart());
  std::unique_ptr<Client> after = Connect();
  for (const auto& [subscription, expected] : {std::pair{"all", &all}, std::pair{"paid", &paid}}) {
    auto stream = after->pubsub().Subscribe(subscription, 100);
    ASSERT_CK_OK(stream);
    // Acked as taken, until none comes for longer than the ack deadline.
    std::set<std::string> bodies;
    for (;;) {
      auto next = (*stream)->Next(milliseconds(3'000));
      ASSERT_CK_OK(next);
      if (!*next) break;
      EXPECT_TRUE(bodies.insert((*next)->body()).second) << (*next)->body() << " came twice";
      ASSERT_CK_OK(after->pubsub().Ack(subscription, {(*next)->ack_id()}));
    }
    EXPECT_EQ(bodies, *expected) << subscription;
  }
}

class PubSubCliTest : public DaemonTest {
 protected:
  ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {CLOUDKIT_CLI_PATH, "--endpoint", daemon_->endpoint()});
    return RunProcess(args);
  }
  void ExpectOk(std::vector<std::string> args) {
    ProcessResult result = Cli(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
  }
  static std::vector<nlohmann::json> JsonLines(const std::string& text) {
    std::vector<nlohmann::json> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
    }
    return lines;
  }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST_F(PubSubCliTest, PublishAndListenJsonRoundTripUntilSigterm) {
  ExpectOk({"pubsub", "create-topic", "events"});
  ExpectOk({"pubsub", "subscribe", "events", "audit", "--ack-deadline", "1"});
  ExpectOk({"pubsub", "subscribe", "events", "eu", "--filter", "region=eu"});
  const std::string out = daemon_->dir() + "/listen.out";
  testing_util::ChildProcessOptions options;
  options.argv = {CLOUDKIT_CLI_PATH, "--endpoint", daemon_->endpoint(), "--json", "pubsub", "listen", "audit"};
  options.stdout_path = out;
  options.stderr_path = daemon_->dir() + "/listen.err";
  auto listen = testing_util::ChildProcess::Start(options);
  ASSERT_CK_OK(listen);
  std::this_thread::sleep_for(milliseconds(500));
  ProcessResult published = Cli({"--json", "pubsub", "publish", "events", "hello", "--attr", "region=eu"});
  ASSERT_EQ(published.exit_code, 0) << published.err;
  const auto publish_json = nlohmann::json::parse(published.out);
  EXPECT_EQ(publish_json["subscriptions"], 2);
  ExpectOk({"pubsub", "publish", "events", "second"});
  std::vector<nlohmann::json> lines;
  const auto until = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < until && (lines = JsonLines(ReadFile(out))).size() < 2) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(lines.size(), 2u) << ReadFile(out) << ReadFile(options.stderr_path);
  EXPECT_EQ(lines[0]["body"], "hello");
  EXPECT_EQ(lines[0]["attributes"]["region"], "eu");
  EXPECT_EQ(lines[0]["message_id"], publish_json["message_id"]);
  EXPECT_EQ(lines[0]["delivery_count"], 1);
  EXPECT_EQ(lines[1]["body"], "second");
  (*listen)->SignalGroup(SIGTERM);
  ASSERT_TRUE((*listen)->WaitForExit(milliseconds(5000))) << "listen ends at SIGTERM";
  EXPECT_EQ((*listen)->exit_code(), 0) << (*listen)->DescribeExit();

  // Each was acked once printed: after the 1 s ack deadline nothing comes back.
  std::this_thread::sleep_for(milliseconds(1200));
  ExpectOk({"pubsub", "publish", "events", "third"});
  ProcessResult once = Cli({"pubsub", "listen", "audit", "--max", "1"});
  EXPECT_EQ(once.exit_code, 0) << once.err;
  EXPECT_NE(once.out.find("\tthird\n"), std::string::npos) << once.out;
  EXPECT_EQ(once.out.find("hello"), std::string::npos) << once.out;

  ProcessResult in_use = Cli({"pubsub", "delete-topic", "events"});
  EXPECT_EQ(in_use.exit_code, 10 + v1::FAILED_PRECONDITION) << in_use.err;
  EXPECT_EQ(Cli({"pubsub", "listen", "nosuch", "--max", "1"}).exit_code, 10 + v1::NOT_FOUND);
  EXPECT_EQ(Cli({"pubsub", "publish", "events", "x", "--attr", "novalue"}).exit_code, 2);
}

}  // namespace
}  // namespace cloudkit::integration
