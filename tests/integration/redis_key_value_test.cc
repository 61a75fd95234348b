// The `redis` provider (actors/providers/redis) on a real redis-server, for
// what the conformance suite cannot see: the data layout and Redis expiring
// items by itself, the index entries of expired items dropped by List and by
// the sweep, prefixes keeping bindings apart, conditional writes atomic across
// connections, scripts loaded again by a server that forgot them, a binding
// made from a redis:// URL, a server that wants a password, and a server
// that goes away and comes back.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ports/hiredis_client.h"
#include "ports/system_clock.h"
#include "ports/thread_sleep_port.h"
#include "providers/binding_url.h"
#include "providers/redis/redis_key_value.h"
#include "providers/redis/redis_service.h"
#include "providers/remote/remote_options.h"
#include "providers/builtin_providers.h"
#include "providers/registry.h"
#include "support/emulator.h"
#include "support/run_task.h"

namespace cloudkit {
namespace {

using ports::RedisClient;
using ports::RedisReply;
using testing_util::Emulator;
using testing_util::RunTask;

Task<Result<RedisReply>> CommandTask(RedisClient& redis, std::vector<std::string> argv) {
  co_return co_await redis.Command(std::move(argv));
}

class RedisKeyValueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = Emulator::Start(testing_util::EmulatorKind::kRedis);
    ASSERT_TRUE(started.ok()) << started.status().message();
    server_ = std::move(*started);
    raw_ = Connect();
    kv_ = Provider("test:");
  }

  std::unique_ptr<HiredisClient> Connect(int db = 0) {
    ports::RedisEndpoint endpoint;
    endpoint.port = server_->port();
    endpoint.db = db;
    return std::make_unique<HiredisClient>(endpoint);
  }
  // Quick to give up and to come back: a test waits out the breaker.
  static remote::RemoteOptions Resilience() {
    remote::RemoteOptions options;
    options.backoff.max_attempts = 3;
    options.backoff.base_ms = 10;
    options.breaker.failure_threshold = 3;
    options.breaker.open_ms = 300;
    return options;
  }
  std::unique_ptr<redis::RedisKeyValue> Provider(const std::string& prefix,
                                                 const remote::RemoteOptions& options = Resilience()) {
    auto service = std::make_unique<redis::RedisService>("test", Connect(), &clock_, &sleep_, options);
    return std::make_unique<redis::RedisKeyValue>(std::move(service), prefix);
  }
  // A command straight to the server, to look at what the provider stored.
  RedisReply Raw(std::vector<std::string> argv) {
    Result<RedisReply> reply = RunTask(CommandTask(*raw_, std::move(argv)));
    EXPECT_TRUE(reply.ok()) << reply.status().message();
    return reply.ok() ? *reply : RedisReply();
  }

  Result<v1::PutResponse> Put(KeyValueProvider& kv, const std::string& key, const std::string& value,
                              uint64_t ttl_ms = 0, const std::string& if_match = "") {
    v1::PutRequest req;
    req.set_table("t");
    req.set_key(key);
    req.set_value(value);
    req.set_ttl_ms(ttl_ms);
    req.set_if_match(if_match);
    return RunTask(kv.Put(req));
  }
  Result<v1::GetResponse> Get(KeyValueProvider& kv, const std::string& key) {
    v1::GetRequest req;
    req.set_table("t");
    req.set_key(key);
    return RunTask(kv.Get(req));
  }
  Result<v1::ListResponse> List(KeyValueProvider& kv) {
    v1::ListRequest req;
    req.set_table("t");
    return RunTask(kv.List(req));
  }

  SystemClock clock_;
  ThreadSleepPort sleep_;
  testing_util::TestTurn turn_;
  std::unique_ptr<Emulator> server_;
  std::unique_ptr<HiredisClient> raw_;
  std::unique_ptr<redis::RedisKeyValue> kv_;
};

TEST_F(RedisKeyValueTest, ItemsAreHashesThatRedisExpires) {
  auto put = Put(*kv_, "k", "value", 60'000);
  ASSERT_TRUE(put.ok()) << put.status().message();
  RedisReply fields = Raw({"HGETALL", "test:item:t:k"});
  ASSERT_EQ(fields.elements.size(), 6u);
  RedisReply expiry = Raw({"PEXPIRETIME", "test:item:t:k"});
  EXPECT_EQ(expiry.integer, put->expires_at_ms());
  EXPECT_EQ(Raw({"ZSCORE", "test:index:t", "k"}).text, "0");
  EXPECT_EQ(Raw({"ZSCORE", "test:expiries", "t:k"}).text, std::to_string(put->expires_at_ms()));

  // Written again without a TTL, it no longer expires.
  ASSERT_TRUE(Put(*kv_, "k", "forever").ok());
  EXPECT_EQ(Raw({"PTTL", "test:item:t:k"}).integer, -1);
  EXPECT_TRUE(Raw({"ZSCORE", "test:expiries", "t:k"}).is_nil());
}

TEST_F(RedisKeyValueTest, ListAndSweepDropTheIndexEntriesOfExpiredItems) {
  for (const char* key : {"a", "b", "c"}) ASSERT_TRUE(Put(*kv_, key, "soon", 200).ok());
  for (const char* key : {"d", "e"}) ASSERT_TRUE(Put(*kv_, key, "forever").ok());
  ASSERT_TRUE(Put(*kv_, "f", "later", 60'000).ok());
  const int64_t first_expiry = kv_->TakeNewExpiry();
  EXPECT_GT(first_expiry, 0);
  EXPECT_EQ(kv_->TakeNewExpiry(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(Raw({"ZCARD", "test:index:t"}).integer, 6);  // Redis removed the items, not their entries

  auto step = RunTask(kv_->SweepExpired(2));
  ASSERT_TRUE(step.ok()) << step.status().message();
  EXPECT_EQ(step->removed, 2u);
  EXPECT_FALSE(step->pass_complete);
  step = RunTask(kv_->SweepExpired(2));
  ASSERT_TRUE(step.ok()) << step.status().message();
  EXPECT_EQ(step->removed, 1u);
  EXPECT_TRUE(step->pass_complete);
  EXPECT_GT(step->next_expiry_ms, first_expiry);  // "f"
  EXPECT_EQ(Raw({"ZCARD", "test:index:t"}).integer, 3);
  EXPECT_EQ(Raw({"ZCARD", "test:expiries"}).integer, 1);

  // List drops what it meets before a sweep does.
  ASSERT_TRUE(Put(*kv_, "g", "soon", 100).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto listed = List(*kv_);
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->items_size(), 3);
  EXPECT_EQ(listed->items(0).key(), "d");
  EXPECT_EQ(Raw({"ZCARD", "test:index:t"}).integer, 3);
  EXPECT_EQ(Raw({"ZCARD", "test:expiries"}).integer, 1);
}

TEST_F(RedisKeyValueTest, PrefixesKeepBindingsApart) {
  auto other = Provider("other:");
  ASSERT_TRUE(Put(*kv_, "k", "mine").ok());
  ASSERT_TRUE(Put(*other, "k", "theirs").ok());
  EXPECT_EQ(Get(*kv_, "k")->item().value(), "mine");
  EXPECT_EQ(Get(*other, "k")->item().value(), "theirs");
  EXPECT_EQ(List(*other)->items_size(), 1);
}

// Two connections (as two daemons would have) race conditional writes from
// the same ETag: the scripts run one at a time on the server, so one wins.
TEST_F(RedisKeyValueTest, ConditionalWritesAreAtomicAcrossConnections) {
  auto other = Provider("test:");
  auto base = Put(*kv_, "counter", "0");
  ASSERT_TRUE(base.ok());
  int won = 0;
  int lost = 0;
  std::vector<Task<void>> racers;
  for (int i = 0; i < 40; ++i) {
    racers.push_back([](KeyValueProvider& kv, std::string etag, int i, int* won, int* lost) -> Task<void> {
      v1::PutRequest req;
      req.set_table("t");
      req.set_key("counter");
      req.set_value("from-" + std::to_string(i));
      req.set_if_match(etag);
      Result<v1::PutResponse> put = co_await kv.Put(req);
      if (put.ok()) ++*won;
      if (put.status().code() == v1::FAILED_PRECONDITION) ++*lost;
    }(i % 2 ? *kv_ : *other, base->etag(), i, &won, &lost));
  }
  testing_util::RunTasks(std::move(racers));
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, 39);
}

TEST_F(RedisKeyValueTest, ScriptsAreLoadedAgainWhenTheServerForgetsThem) {
  ASSERT_TRUE(Put(*kv_, "k", "v1").ok());
  Raw({"SCRIPT", "FLUSH"});
  auto again = Put(*kv_, "k", "v2");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Get(*kv_, "k")->item().value(), "v2");
}

TEST_F(RedisKeyValueTest, ServerGoneIsUnavailableAndItsReturnIsServed) {
  ASSERT_TRUE(Put(*kv_, "k", "v").ok());
  server_->Kill();
  auto down = Get(*kv_, "k");  // three tries: the breaker's threshold
  EXPECT_EQ(down.status().code(), v1::UNAVAILABLE) << down.status().message();
  EXPECT_TRUE(down.status().retryable());
  EXPECT_NE(down.status().message().find("binding 'test'"), std::string::npos) << down.status().message();
  // The breaker is open: calls fail at once, saying so, without a try.
  auto put_down = Put(*kv_, "k", "v");
  EXPECT_EQ(put_down.status().code(), v1::UNAVAILABLE) << put_down.status().message();
  EXPECT_NE(put_down.status().message().find("paused"), std::string::npos) << put_down.status().message();

  ASSERT_TRUE(server_->Restart().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(350));  // the breaker lets a trial through
  EXPECT_EQ(Get(*kv_, "k").status().code(), v1::NOT_FOUND);  // nothing was saved
  auto put = Put(*kv_, "k", "back");  // the new server knows no script yet
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_EQ(Get(*kv_, "k")->item().value(), "back");
}

TEST_F(RedisKeyValueTest, BindingFromARedisUrl) {
  auto config = ParseBindingUrl("cache", "redis://127.0.0.1:" + std::to_string(server_->port()) +
                                             "/2?prefix=url:&timeout_ms=2000");
  ASSERT_TRUE(config.ok()) << config.status().message();
  ProviderRegistry registry;
  RegisterBuiltinProviders(&registry);
  HiredisConnector connector;
  HostPorts ports;
  ports.redis = &connector;
  ports.clock = &clock_;
  ports.sleep = &sleep_;
  auto binding = registry.Create(*config, ports);
  ASSERT_TRUE(binding.ok()) << binding.status().message();
  EXPECT_TRUE(binding->blocking_io);
  auto* kv = binding->Get<KeyValueProvider>(kKeyValueService);
  ASSERT_NE(kv, nullptr);
  ASSERT_TRUE(Put(*kv, "k", "in db 2").ok());
  auto db2 = Connect(2);
  auto stored = RunTask(CommandTask(*db2, {"HGET", "url:item:t:k", "v"}));
  ASSERT_TRUE(stored.ok()) << stored.status().message();
  EXPECT_EQ(stored->text, "in db 2");
  EXPECT_TRUE(Raw({"EXISTS", "url:item:t:k"}).integer == 0);  // not in db 0
}

// Pages end by bytes as well as by count, so no reply nears the 8 MiB limit.
TEST_F(RedisKeyValueTest, ListPagesAreBoundedInBytes) {
  const std::string big(1 << 20, 'v');
  for (const char* key : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(Put(*kv_, key, big).ok());
  v1::ListRequest req;
  req.set_table("t");
  size_t listed = 0;
  size_t pages = 0;
  do {
    auto page = RunTask(kv_->List(req));
    ASSERT_TRUE(page.ok()) << page.status().message();
    ++pages;
    EXPECT_LE(page->items_size(), 3);
    listed += page->items_size();
    req.set_continuation_token(page->next_continuation_token());
  } while (!req.continuation_token().empty());
  EXPECT_EQ(listed, 5u);
  EXPECT_GE(pages, 2u);
}

// Reads are tried again within their deadline: one that started while the
// server was down is answered once it is back. Writes are not (the server
// may have run one whose reply was lost): they fail at once.
TEST_F(RedisKeyValueTest, ReadsAreRetriedUntilTheServerIsBackWritesAreNot) {
  remote::RemoteOptions patient;
  patient.backoff.max_attempts = 1000;  // the deadline ends them
  patient.call_timeout_ms = 20'000;
  patient.backoff.base_ms = 50;
  patient.backoff.cap_ms = 100;
  patient.breaker.failure_threshold = 1000;
  auto kv = Provider("retry:", patient);
  ASSERT_TRUE(Put(*kv, "k", "v").ok());
  server_->Kill();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(Put(*kv, "k", "w").status().code(), v1::UNAVAILABLE);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1000)) << "a write is tried once";

  // The read runs on a thread of its own: the server must be restarted by
  // the thread that started it (its child dies with that thread).
  Result<v1::GetResponse> read = Status::Internal("not run");
  std::thread reader([&] {
    testing_util::TestTurn turn;
    read = Get(*kv, "k");  // the restarted server lost the item: an answer, not a failure
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_TRUE(server_->Restart().ok());
  reader.join();
  EXPECT_EQ(read.status().code(), v1::NOT_FOUND) << read.status().message();
}

// A binding of `cache` on a server of its own started with `server_args`,
// with `credentials` as the configuration gives them and `environment` as
// the host's.
Result<BindingInstance> BindingOn(const Emulator& server, std::map<std::string, std::string> credentials,
                                  std::map<std::string, std::string> environment, HiredisConnector* connector) {
  auto config = ParseBindingUrl("cache", "redis://127.0.0.1:" + std::to_string(server.port()) + "/0");
  if (!config.ok()) return config.status();
  config->credentials = std::move(credentials);
  ProviderRegistry registry;
  RegisterBuiltinProviders(&registry);
  static SystemClock clock;
  static ThreadSleepPort sleep;
  HostPorts ports;
  ports.redis = connector;
  ports.clock = &clock;
  ports.sleep = &sleep;
  ports.environment = [environment](const std::string& name) -> std::optional<std::string> {
    auto it = environment.find(name);
    return it == environment.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  return registry.Create(*config, ports);
}

TEST_F(RedisKeyValueTest, AServerWithAPasswordServesOnlyTheRightOne) {
  testing_util::EmulatorOptions options;
  options.extra_args = {"--requirepass", "open sesame",
                        "--user", "app", "on", ">app-secret", "~*", "&*", "+@all"};
  auto started = Emulator::Start(testing_util::EmulatorKind::kRedis, options);
  ASSERT_TRUE(started.ok()) << started.status().message();
  HiredisConnector connector;

  auto use = [&](const Result<BindingInstance>& binding) -> Result<v1::GetResponse> {
    if (!binding.ok()) return binding.status();
    auto* kv = binding->Get<KeyValueProvider>(kKeyValueService);
    if (kv == nullptr) return Status::Internal("no key-value provider");
    auto put = Put(*kv, "k", "guarded");
    if (!put.ok()) return put.status();
    return Get(*kv, "k");
  };

  auto none = use(BindingOn(**started, {}, {}, &connector));
  EXPECT_EQ(none.status().code(), v1::UNAUTHENTICATED) << none.status().message();
  EXPECT_NE(none.status().message().find("wants a password"), std::string::npos) << none.status().message();
  EXPECT_FALSE(none.status().retryable());

  auto wrong = use(BindingOn(**started, {{"password", "open sesame!"}}, {}, &connector));
  EXPECT_EQ(wrong.status().code(), v1::UNAUTHENTICATED) << wrong.status().message();
  EXPECT_EQ(wrong.status().message().find("open sesame"), std::string::npos) << "the password is never shown";

  auto right = use(BindingOn(**started, {{"password", "open sesame"}}, {}, &connector));
  ASSERT_TRUE(right.ok()) << right.status().message();
  EXPECT_EQ(right->item().value(), "guarded");

  // From the environment, and as an ACL user.
  auto from_env = use(BindingOn(**started, {}, {{"REDIS_PASSWORD", "open sesame"}}, &connector));
  EXPECT_TRUE(from_env.ok()) << from_env.status().message();
  auto user = use(BindingOn(**started, {{"username", "app"}, {"password", "app-secret"}}, {}, &connector));
  EXPECT_TRUE(user.ok()) << user.status().message();
  auto wrong_user = use(BindingOn(**started, {{"username", "app"}, {"password", "open sesame"}}, {}, &connector));
  EXPECT_EQ(wrong_user.status().code(), v1::UNAUTHENTICATED) << wrong_user.status().message();
  EXPECT_EQ(BindingOn(**started, {{"username", "app"}}, {}, &connector).status().code(), v1::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace cloudkit
