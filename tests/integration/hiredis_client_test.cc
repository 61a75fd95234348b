// The native Redis port (runtime/ports/hiredis_client) against a real
// redis-server on a loopback port (support/redis_server.h): replies of every
// kind, binary-safe arguments, the endpoint's database, a thousand commands in
// flight from one actor, a refused connection, a server killed and restarted,
// a server that stops answering, and shutdown with commands in flight.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/async.h"
#include "core/task.h"
#include "ports/hiredis_client.h"
#include "support/emulator.h"
#include "support/run_task.h"

namespace cloudkit {
namespace {

using ports::RedisClient;
using ports::RedisEndpoint;
using ports::RedisReply;
using testing_util::Emulator;
using testing_util::RunTask;

Task<Result<RedisReply>> CommandTask(RedisClient& redis, std::vector<std::string> argv) {
  co_return co_await redis.Command(std::move(argv));
}
Result<RedisReply> Send(RedisClient& redis, std::vector<std::string> argv) {
  return RunTask(CommandTask(redis, std::move(argv)));
}

class HiredisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = Emulator::Start(testing_util::EmulatorKind::kRedis);
    ASSERT_TRUE(started.ok()) << started.status().message();
    server_ = std::move(*started);
  }

  RedisEndpoint Endpoint(int port) const {
    RedisEndpoint endpoint;
    endpoint.host = "127.0.0.1";
    endpoint.port = port;
    return endpoint;
  }
  std::unique_ptr<HiredisClient> Client(int db = 0, uint32_t timeout_ms = 5'000) {
    RedisEndpoint endpoint = Endpoint(server_->port());
    endpoint.db = db;
    endpoint.timeout_ms = timeout_ms;
    return std::make_unique<HiredisClient>(endpoint);
  }

  std::unique_ptr<Emulator> server_;
};

TEST_F(HiredisClientTest, RepliesOfEveryKind) {
  auto redis = Client();
  const std::string binary("bin\0\r\nval\xff", 10);
  auto set = Send(*redis, {"SET", "k", binary});
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->type, RedisReply::Type::kStatus);
  EXPECT_EQ(set->text, "OK");

  auto got = Send(*redis, {"GET", "k"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->type, RedisReply::Type::kString);
  EXPECT_EQ(got->text, binary);

  auto missing = Send(*redis, {"GET", "nothing"});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->is_nil());

  auto counted = Send(*redis, {"INCRBY", "n", "41"});
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->type, RedisReply::Type::kInteger);
  EXPECT_EQ(counted->integer, 41);

  ASSERT_TRUE(Send(*redis, {"RPUSH", "list", "a", "b"}).ok());
  auto listed = Send(*redis, {"LRANGE", "list", "0", "-1"});
  ASSERT_TRUE(listed.ok());
  ASSERT_TRUE(listed->is_array());
  ASSERT_EQ(listed->elements.size(), 2u);
  EXPECT_EQ(listed->elements[1].text, "b");

  // An error reply is a reply, not a failed call.
  auto wrong = Send(*redis, {"HGET", "k", "field"});
  ASSERT_TRUE(wrong.ok()) << wrong.status().message();
  EXPECT_TRUE(wrong->is_error());
  EXPECT_EQ(wrong->text.rfind("WRONGTYPE", 0), 0u) << wrong->text;
}

TEST_F(HiredisClientTest, SelectsTheEndpointsDatabase) {
  auto db1 = Client(1);
  auto db0 = Client(0);
  ASSERT_TRUE(Send(*db1, {"SET", "where", "one"}).ok());
  EXPECT_TRUE(Send(*db0, {"GET", "where"})->is_nil());
  EXPECT_EQ(Send(*db1, {"GET", "where"})->text, "one");
}

TEST_F(HiredisClientTest, UnknownDatabaseIsFailedPrecondition) {
  auto redis = Client(999);
  auto reply = Send(*redis, {"PING"});
  EXPECT_EQ(reply.status().code(), v1::FAILED_PRECONDITION) << reply.status().message();
  EXPECT_NE(reply.status().message().find("SELECT 999"), std::string::npos) << reply.status().message();
}

// One actor sends a thousand commands before awaiting any: they are all in
// flight on the one connection, and their replies come back in order.
TEST_F(HiredisClientTest, PipelinesAThousandCommandsFromOneActor) {
  auto redis = Client();
  constexpr int kCommands = 1000;
  auto pipeline = [](RedisClient& redis) -> Task<std::vector<int64_t>> {
    std::vector<Async<Result<RedisReply>>> replies;
    for (int i = 0; i < kCommands; ++i) {
      std::vector<std::string> incr = {"INCR", "counter"};
      replies.push_back(redis.Command(std::move(incr)));
    }
    std::vector<int64_t> values;
    for (auto& reply : replies) {
      Result<RedisReply> answered = co_await std::move(reply);
      values.push_back(answered.ok() && answered->type == RedisReply::Type::kInteger ? answered->integer : -1);
    }
    co_return values;
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> values = RunTask(pipeline(*redis));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(values.size(), static_cast<size_t>(kCommands));
  for (int i = 0; i < kCommands; ++i) ASSERT_EQ(values[i], i + 1) << "reply " << i;
  // One after the other, a thousand round trips would take longer than this
  // on a loaded machine too; pipelined they take a few milliseconds.
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(HiredisClientTest, RefusedConnectionIsUnavailable) {
  const int port = server_->port();
  server_->Kill();
  HiredisClient redis(Endpoint(port));
  auto reply = Send(redis, {"PING"});
  EXPECT_EQ(reply.status().code(), v1::UNAVAILABLE) << reply.status().message();
  EXPECT_TRUE(reply.status().retryable());
  EXPECT_NE(reply.status().message().find("redis 127.0.0.1:" + std::to_string(port) + "/0"), std::string::npos)
      << reply.status().message();
}

TEST_F(HiredisClientTest, ServerKilledIsUnavailableAndRestartRecovers) {
  auto redis = Client();
  ASSERT_TRUE(Send(*redis, {"SET", "k", "v"}).ok());

  // A command in flight when the server dies.
  server_->Pause();
  testing_util::TestTurn turn;
  std::vector<std::string> ping = {"PING"};
  Async<Result<RedisReply>> in_flight = redis->Command(std::move(ping));
  server_->Kill();
  auto lost = testing_util::Await(std::move(in_flight));
  EXPECT_EQ(lost.status().code(), v1::UNAVAILABLE) << lost.status().message();
  EXPECT_TRUE(lost.status().retryable());

  // And after it: nothing listens any more.
  auto down = Send(*redis, {"GET", "k"});
  EXPECT_EQ(down.status().code(), v1::UNAVAILABLE) << down.status().message();

  ASSERT_TRUE(server_->Restart().ok());
  auto back = Send(*redis, {"GET", "k"});
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->is_nil());  // a new server, with nothing saved
  EXPECT_TRUE(Send(*redis, {"SET", "k", "again"}).ok());
}

TEST_F(HiredisClientTest, ServerThatStopsAnsweringIsDeadlineExceededThenRecovers) {
  auto redis = Client(0, /*timeout_ms=*/300);
  ASSERT_TRUE(Send(*redis, {"PING"}).ok());
  server_->Pause();
  const auto start = std::chrono::steady_clock::now();
  auto late = Send(*redis, {"PING"});
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(late.status().code(), v1::DEADLINE_EXCEEDED) << late.status().message();
  EXPECT_GE(waited, std::chrono::milliseconds(290));
  EXPECT_LT(waited, std::chrono::seconds(3));
  server_->Resume();
  auto back = Send(*redis, {"PING"});
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->text, "PONG");
}

// A server that accepts connections but answers nothing (its listening
// socket still completes handshakes while it is stopped).
TEST_F(HiredisClientTest, ConnectionThatDoesNotOpenInTimeIsUnavailable) {
  server_->Pause();
  RedisEndpoint endpoint = Endpoint(server_->port());
  endpoint.connect_timeout_ms = 200;
  endpoint.timeout_ms = 5'000;
  HiredisClient redis(endpoint);
  auto reply = Send(redis, {"PING"});
  EXPECT_EQ(reply.status().code(), v1::UNAVAILABLE) << reply.status().message();
  EXPECT_NE(reply.status().message().find("no connection within 200 ms"), std::string::npos)
      << reply.status().message();
  server_->Resume();
  EXPECT_TRUE(Send(redis, {"PING"}).ok());
}

TEST_F(HiredisClientTest, DestroyingTheClientFailsWhatIsInFlight) {
  auto redis = Client();
  ASSERT_TRUE(Send(*redis, {"PING"}).ok());
  server_->Pause();
  testing_util::TestTurn turn;
  std::vector<Async<Result<RedisReply>>> in_flight;
  for (int i = 0; i < 10; ++i) {
    std::vector<std::string> ping = {"PING"};
    in_flight.push_back(redis->Command(std::move(ping)));
  }
  redis.reset();  // must not wait for the stopped server
  for (auto& reply : in_flight) {
    auto failed = testing_util::Await(std::move(reply));
    EXPECT_EQ(failed.status().code(), v1::UNAVAILABLE) << failed.status().message();
  }
  server_->Resume();
}

TEST_F(HiredisClientTest, PubSubIsRefused) {
  auto redis = Client();
  EXPECT_EQ(Send(*redis, {"subscribe", "news"}).status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(Send(*redis, {}).status().code(), v1::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace cloudkit
