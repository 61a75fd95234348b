// Limits that hold against a client trying to take a binding from the
// others: timeouts are capped, a client's calls in flight are bounded below
// the binding's, and the calls of a client that went away end at once.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "cloudkit/v1/envelope.pb.h"
#include "integration/daemon_fixture.h"
#include "integration/subprocess.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

using std::chrono::milliseconds;

constexpr char kPutObject[] = "cloudkit.v1.ObjectStorage/PutObject";

// A client without the client library: uploads it starts and never feeds.
class RawClient {
 public:
  RawClient(zmq::context_t& context, const std::string& endpoint) : socket_(context, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }
  void StartUpload(uint64_t id, const std::string& key, uint32_t timeout_ms) {
    v1::PutObjectRequest put = PutRequest("docs", key, "first chunk");
    put.set_more_data(true);
    Call(id, kPutObject, put, timeout_ms);
  }
  void Call(uint64_t id, const std::string& method, const google::protobuf::MessageLite& request,
            uint32_t timeout_ms) {
    v1::RequestEnvelope envelope;
    envelope.set_request_id(id);
    envelope.set_kind(v1::REQUEST);
    envelope.set_method(method);
    envelope.set_timeout_ms(timeout_ms);
    const std::string head = envelope.SerializeAsString();
    const std::string body = request.SerializeAsString();
    socket_.send(zmq::buffer(head), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(body), zmq::send_flags::none);
  }
  // The next reply's envelope; nullopt after `timeout`.
  std::optional<v1::ResponseEnvelope> Next(milliseconds timeout) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
    zmq::message_t head;
    zmq::message_t body;
    (void)socket_.recv(head);
    if (head.more()) (void)socket_.recv(body);
    v1::ResponseEnvelope envelope;
    if (!envelope.ParseFromArray(head.data(), static_cast<int>(head.size()))) return std::nullopt;
    return envelope;
  }
  // The final answer of call `id` (skipping its stream frames).
  std::optional<v1::ResponseEnvelope> AnswerOf(uint64_t id, milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto next = Next(std::chrono::duration_cast<milliseconds>(until - std::chrono::steady_clock::now()));
      if (!next) return std::nullopt;
      if (next->request_id() == id && next->kind() == v1::RESPONSE) return next;
    }
    return std::nullopt;
  }
  void Close() { socket_.close(); }

 private:
  zmq::socket_t socket_;
};

// A daemon with `limits`, a client of it, and a bucket "docs".
class HostileClientsTest : public ::testing::Test {
 protected:
  void Start(const std::string& limits) {
    DaemonOptions options;
    options.extra_config = "limits: {" + limits + "}\n";
    auto started = DaemonProcess::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().message();
    daemon_ = std::move(*started);
    auto client = Client::Connect(daemon_->endpoint());
    ASSERT_TRUE(client.ok()) << client.status().message();
    client_ = std::move(*client);
    ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  }

  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<Client> client_;
};

TEST_F(HostileClientsTest, ATimeoutBeyondTheCapIsCutToIt) {
  ASSERT_NO_FATAL_FAILURE(Start("max_timeout_ms: 1000, default_timeout_ms: 1000"));
  zmq::context_t context;
  RawClient raw(context, daemon_->endpoint());
  const auto started = std::chrono::steady_clock::now();
  raw.StartUpload(1, "stalled", 4'294'967'295u);  // 49.7 days, asked
  auto answer = raw.AnswerOf(1, milliseconds(10'000));
  ASSERT_TRUE(answer) << "no answer: the call outlived the cap";
  EXPECT_EQ(answer->status().code(), v1::DEADLINE_EXCEEDED) << answer->status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(5'000));
}

TEST_F(HostileClientsTest, OneClientCannotTakeEveryCallOfABinding) {
  ASSERT_NO_FATAL_FAILURE(Start("max_in_flight_per_client: 4, max_in_flight_per_binding: 8"));
  zmq::context_t context;
  RawClient greedy(context, daemon_->endpoint());
  for (uint64_t id = 1; id <= 6; ++id) greedy.StartUpload(id, "greedy-" + std::to_string(id), 60'000);
  for (uint64_t id : {5u, 6u}) {
    auto refused = greedy.AnswerOf(id, milliseconds(5'000));
    ASSERT_TRUE(refused) << "call " << id << " got no answer";
    EXPECT_EQ(refused->status().code(), v1::RESOURCE_EXHAUSTED) << refused->status().message();
    EXPECT_TRUE(refused->status().retryable());
  }
  // Another client is served meanwhile.
  ASSERT_CK_OK(client_->storage().PutObject(PutRequest("docs", "polite", "served")));
}

TEST_F(HostileClientsTest, TheCallsOfAClientThatWentAwayEndAtOnce) {
  ASSERT_NO_FATAL_FAILURE(Start("max_in_flight_per_client: 4, max_in_flight_per_binding: 4"));
  zmq::context_t context;
  {
    RawClient gone(context, daemon_->endpoint());
    for (uint64_t id = 1; id <= 4; ++id) gone.StartUpload(id, "abandoned-" + std::to_string(id), 300'000);
    for (uint64_t id = 1; id <= 4; ++id) ASSERT_TRUE(gone.Next(milliseconds(5'000))) << "no credit for call " << id;
    // The binding is full while the client is there.
    EXPECT_CK_CODE(client_->storage().PutObject(PutRequest("docs", "blocked", "x")), v1::RESOURCE_EXHAUSTED);
    gone.Close();
  }
  Status put = Status::Internal("not tried");
  for (int i = 0; i < 40; ++i) {
    put = client_->storage().PutObject(PutRequest("docs", "after", "served")).status();
    if (put.ok()) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(put.ok()) << "the departed client's calls still hold the binding: " << put.message();
  auto status = client_->runtime().GetStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_LE(status->requests_in_flight(), 1u);
  EXPECT_CK_CODE(client_->storage().HeadObject(HeadRequest("docs", "abandoned-1")), v1::NOT_FOUND);
}

// The fd of a client's connection goes to the next one at once, and ZeroMQ
// may report the first one's departure after the second's call arrived:
// that call must go on to its answer (it was once ended, unanswered).
TEST_F(HostileClientsTest, ANewClientOnTheFdOfOneThatLeftKeepsItsCalls) {
  ASSERT_NO_FATAL_FAILURE(Start("default_timeout_ms: 30000"));
  v1::CreateQueueRequest create;
  create.set_queue("jobs");
  ASSERT_CK_OK(client_->queue().CreateQueue(create));
  v1::ReceiveRequest long_poll;
  long_poll.set_queue("jobs");
  long_poll.set_wait_ms(30);
  zmq::context_t context;
  for (int round = 0; round < 150; ++round) {
    {
      RawClient leaving(context, daemon_->endpoint());
      leaving.Call(1, "cloudkit.v1.Queue/Depth", v1::DepthRequest(), 5'000);
      ASSERT_TRUE(leaving.AnswerOf(1, milliseconds(5'000))) << "round " << round;
      leaving.Close();
    }
    RawClient next(context, daemon_->endpoint());
    next.Call(2, "cloudkit.v1.Queue/Receive", long_poll, 10'000);
    auto answer = next.AnswerOf(2, milliseconds(5'000));
    ASSERT_TRUE(answer) << "round " << round << ": the long poll of the new client was never answered";
    EXPECT_EQ(answer->status().code(), v1::OK) << answer->status().message();
  }
}

// No reply comes near the message limits: listings page by bytes, and a
// result too large to send is an error, never a truncated or empty answer.
TEST_F(HostileClientsTest, LargeResultsPageOrFailButNeverComeBackEmpty) {
  ASSERT_NO_FATAL_FAILURE(Start("default_timeout_ms: 30000"));
  const std::string big = MakeBody(3 << 20, 7);
  for (const char* key : {"a", "b", "c", "d", "e"}) ASSERT_CK_OK(client_->kv().Put(KvPut("big", key, big)));

  v1::BatchGetRequest batch;
  batch.set_table("big");
  for (int i = 0; i < 513; ++i) batch.add_keys("a");
  auto got = client_->kv().BatchGet(batch);
  EXPECT_EQ(got.status().code(), v1::RESOURCE_EXHAUSTED) << got.status().message();
  EXPECT_FALSE(got.status().retryable());
  EXPECT_NE(got.status().message().find("ask for fewer keys"), std::string::npos) << got.status().message();

  size_t listed = 0;
  size_t pages = 0;
  v1::ListRequest list;
  list.set_table("big");
  do {
    auto page = client_->kv().List(list);
    ASSERT_TRUE(page.ok()) << page.status().message();
    ++pages;
    for (const v1::Item& item : page->items()) {
      EXPECT_EQ(item.value().size(), big.size());
      ++listed;
    }
    list.set_continuation_token(page->next_continuation_token());
  } while (!list.continuation_token().empty());
  EXPECT_EQ(listed, 5u);
  EXPECT_GE(pages, 3u) << "pages are bounded in bytes";

  // The CLI pages through it too.
  ProcessResult cli =
      RunProcess({CLOUDKIT_CLI_PATH, "--endpoint", daemon_->endpoint(), "--json", "kv", "list", "big"});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  auto json = nlohmann::json::parse(cli.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded());
  EXPECT_EQ(json["items"].size(), 5u);
}

// A failure of the server's disk is reported without the server's paths.
TEST_F(HostileClientsTest, ErrorsNeverShowTheServersPaths) {
  ASSERT_NO_FATAL_FAILURE(Start("default_timeout_ms: 30000"));
  ASSERT_CK_OK(client_->storage().PutObject(PutRequest("docs", "before", "x")));
  // Where uploads are staged goes away: the next upload fails on the disk.
  std::error_code ignored;
  ASSERT_GT(std::filesystem::remove_all(daemon_->dir() + "/data/default/objects/blobs/tmp", ignored), 0u);
  auto put = client_->storage().PutObject(PutRequest("docs", "after", "x"));
  ASSERT_FALSE(put.ok());
  const std::string& message = put.status().message();
  EXPECT_EQ(message.find(daemon_->dir()), std::string::npos) << message;
  EXPECT_NE(message.find("<data dir>"), std::string::npos) << message;
}

}  // namespace
}  // namespace cloudkit::integration
