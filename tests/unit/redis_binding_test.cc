// The `redis` provider's binding (providers/redis/redis_binding) without a
// server: what the options and a redis:// URL make of the endpoint, what is
// refused, the host without a Redis connector (the browser), and List's page
// tokens.
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "ports/system_clock.h"
#include "ports/thread_sleep_port.h"
#include "providers/binding_url.h"
#include "providers/redis/redis_layout.h"
#include "providers/builtin_providers.h"
#include "providers/registry.h"

namespace cloudkit {
namespace {

using ports::RedisEndpoint;

// Remembers where it was asked to connect; its clients never answer.
class RecordingConnector : public ports::RedisConnector {
 public:
  class IdleClient : public ports::RedisClient {
   public:
    Async<Result<ports::RedisReply>> Command(std::vector<std::string>) override {
      return Async<Result<ports::RedisReply>>::Ready(Status::Unavailable("idle"));
    }
  };
  std::unique_ptr<ports::RedisClient> Connect(const RedisEndpoint& endpoint) override {
    last = endpoint;
    return std::make_unique<IdleClient>();
  }
  std::optional<RedisEndpoint> last;
};

class RedisBindingTest : public ::testing::Test {
 protected:
  RedisBindingTest() {
    RegisterBuiltinProviders(&registry_);
    ports_.redis = &connector_;
    ports_.clock = &clock_;
    ports_.sleep = &sleep_;
  }
  Result<BindingInstance> FromUrl(const std::string& url) {
    auto config = ParseBindingUrl("cache", url);
    if (!config.ok()) return config.status();
    return registry_.Create(*config, ports_);
  }

  ProviderRegistry registry_;
  RecordingConnector connector_;
  SystemClock clock_;
  ThreadSleepPort sleep_;
  HostPorts ports_;
};

TEST_F(RedisBindingTest, UrlPartsBecomeTheEndpoint) {
  auto binding = FromUrl("redis://cache.internal:6380/3?prefix=app:&timeout_ms=250");
  ASSERT_TRUE(binding.ok()) << binding.status().message();
  EXPECT_TRUE(binding->blocking_io);
  EXPECT_NE(binding->Get<KeyValueProvider>(kKeyValueService), nullptr);
  ASSERT_TRUE(connector_.last);
  EXPECT_EQ(connector_.last->host, "cache.internal");
  EXPECT_EQ(connector_.last->port, 6380);
  EXPECT_EQ(connector_.last->db, 3);
  EXPECT_EQ(connector_.last->timeout_ms, 250u);
  EXPECT_EQ(connector_.last->connect_timeout_ms, 250u);

  ASSERT_TRUE(FromUrl("redis://[::1]/").ok());
  EXPECT_EQ(connector_.last->host, "::1");
  EXPECT_EQ(connector_.last->port, 6379);
  EXPECT_EQ(connector_.last->db, 0);
}

TEST_F(RedisBindingTest, DefaultsWithoutOptions) {
  ASSERT_TRUE(registry_.Create(BindingConfig{"cache", "redis", {}, {}}, ports_).ok());
  EXPECT_EQ(connector_.last->host, "127.0.0.1");
  EXPECT_EQ(connector_.last->port, 6379);
  EXPECT_EQ(connector_.last->timeout_ms, 5'000u);
}

TEST_F(RedisBindingTest, MalformedOptionsAreInvalidArgumentNamingThem) {
  for (const char* url : {"redis://host:0", "redis://host:port", "redis://host:70000", "redis://[::1", "redis://:6379",
                          "redis://host/x", "redis://host/-1", "redis://host?timeout_ms=0",
                          "redis://host?timeout_ms=soon", "redis://host?breaker_failures=0",
                          "redis://host?max_attempts=x",
                          "redis://host?attempt_timeout_ms=10"}) {  // timeout_ms is Redis's
    auto binding = FromUrl(url);
    EXPECT_EQ(binding.status().code(), v1::INVALID_ARGUMENT) << url << ": " << binding.status().message();
  }
  EXPECT_NE(FromUrl("redis://host/x").status().message().find("option 'db' is 'x'"), std::string::npos);
  EXPECT_EQ(FromUrl("redis://host?password=x").status().code(), v1::INVALID_ARGUMENT);  // not an option
  EXPECT_EQ(FromUrl("redis://host?services=object_storage").status().code(), v1::INVALID_ARGUMENT);
}

TEST_F(RedisBindingTest, HostWithoutRedisRefusesTheBinding) {
  HostPorts browser;  // no connector
  auto binding = registry_.Create(BindingConfig{"cache", "redis", {}, {}}, browser);
  EXPECT_EQ(binding.status().code(), v1::FAILED_PRECONDITION);
  EXPECT_EQ(binding.status().message(),
            "binding 'cache': failed precondition: provider 'redis' needs TCP connections to a Redis server, which "
            "this host cannot make");
}

TEST(RedisListTokenTest, RoundTripsAndBelongsToItsTable) {
  const std::string token = redis::EncodeListToken("users", "user:42");
  EXPECT_EQ(redis::DecodeListToken("users", token), "user:42");
  EXPECT_EQ(redis::DecodeListToken("users2", token), std::nullopt);
  EXPECT_EQ(redis::DecodeListToken("user", token), std::nullopt);
  EXPECT_EQ(redis::DecodeListToken("users", "zz"), std::nullopt);
  EXPECT_EQ(redis::DecodeListToken("users", "abc"), std::nullopt);
}

}  // namespace
}  // namespace cloudkit
