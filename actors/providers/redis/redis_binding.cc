#include "providers/redis/redis_binding.h"

#include <charconv>
#include <climits>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "providers/redis/redis_key_value.h"
#include "providers/redis/redis_service.h"
#include "providers/remote/remote_options.h"

namespace cloudkit::redis {
namespace {

constexpr char kDefaultAddress[] = "127.0.0.1:6379";
constexpr char kDefaultPrefix[] = "cloudkit:";
constexpr uint32_t kDefaultTimeoutMs = 5'000;
constexpr int kDefaultPort = 6379;

std::string OptionOr(const BindingConfig& config, const std::string& name, std::string fallback) {
  auto it = config.options.find(name);
  return it == config.options.end() ? std::move(fallback) : it->second;
}

// A decimal in [low, high].
bool ParseNumber(std::string_view text, int64_t low, int64_t high, int64_t* out) {
  const char* end = text.data() + text.size();
  auto [at, error] = std::from_chars(text.data(), end, *out);
  return !text.empty() && error == std::errc() && at == end && *out >= low && *out <= high;
}

Status BadOption(const std::string& name, const std::string& value, const std::string& wanted) {
  return Status::InvalidArgument("option '" + name + "' is '" + value + "', not " + wanted);
}

// "host", "host:port", "[v6]" or "[v6]:port".
Status ParseAddress(const std::string& address, ports::RedisEndpoint* endpoint) {
  const Status bad = BadOption("address", address, "host:port");
  std::string_view rest = address;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return bad;
    endpoint->host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad;
  } else {
    const size_t colon = rest.find(':');
    endpoint->host = std::string(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon);
  }
  if (endpoint->host.empty()) return bad;
  endpoint->port = kDefaultPort;
  if (!rest.empty()) {
    int64_t port = 0;
    if (!ParseNumber(rest.substr(1), 1, 65535, &port)) return bad;
    endpoint->port = static_cast<int>(port);
  }
  return Status::Ok();
}

}  // namespace

std::vector<OptionDoc> RedisOptionDocs() {
  std::vector<OptionDoc> options = {
      {"address", "the server, as host:port ([v6]:port for IPv6)", kDefaultAddress},
      {"db", "the database number the binding SELECTs", "0"},
      {"prefix", "what every Redis key of the binding starts with; bindings sharing a server differ in it",
       kDefaultPrefix},
      {"timeout_ms", "how long a command may wait for its reply, and a connection to open",
       std::to_string(kDefaultTimeoutMs)},
  };
  // Those of every remote binding, but for the HTTP ones' timeouts: a command's
  // is timeout_ms.
  for (OptionDoc& doc : remote::RemoteOptionDocs()) {
    if (doc.name != "attempt_timeout_ms" && doc.name != "transfer_timeout_ms") options.push_back(std::move(doc));
  }
  return options;
}

Result<BindingInstance> CreateRedisBinding(const BindingConfig& config, const HostPorts& ports) {
  if (ports.redis == nullptr) {
    return Status::FailedPrecondition("provider 'redis' needs TCP connections to a Redis server, which this host "
                                      "cannot make");
  }
  ports::RedisEndpoint endpoint;
  CK_RETURN_IF_ERROR(ParseAddress(OptionOr(config, "address", kDefaultAddress), &endpoint));
  const std::string db = OptionOr(config, "db", "0");
  int64_t number = 0;
  if (!ParseNumber(db, 0, INT_MAX, &number)) return BadOption("db", db, "a database number");
  endpoint.db = static_cast<int>(number);
  const std::string timeout = OptionOr(config, "timeout_ms", std::to_string(kDefaultTimeoutMs));
  if (!ParseNumber(timeout, 1, 3'600'000, &number)) return BadOption("timeout_ms", timeout, "1 to 3600000 ms");
  endpoint.timeout_ms = static_cast<uint32_t>(number);
  endpoint.connect_timeout_ms = static_cast<uint32_t>(number);
  if (auto it = config.credentials.find("username"); it != config.credentials.end()) endpoint.username = it->second;
  if (auto it = config.credentials.find("password"); it != config.credentials.end()) endpoint.password = it->second;
  if (!endpoint.username.empty() && endpoint.password.empty()) {
    return Status::InvalidArgument("binding '" + config.name + "': a Redis username needs a password");
  }

  Result<remote::RemoteOptions> resilience = remote::ParseRemoteOptions(config);
  if (!resilience.ok()) return resilience.status();
  if (ports.clock == nullptr || ports.sleep == nullptr) {
    return Status::FailedPrecondition("provider 'redis' needs the host's clock and timers");
  }

  BindingInstance instance;
  instance.blocking_io = true;  // every call waits on the network
  // key_value is all it serves, and the registry checked the services named.
  auto service = std::make_unique<RedisService>(config.name, ports.redis->Connect(endpoint), ports.clock,
                                                ports.sleep, *resilience);
  instance.providers[kKeyValueService] =
      std::make_unique<RedisKeyValue>(std::move(service), OptionOr(config, "prefix", kDefaultPrefix));
  return instance;
}

void RegisterRedisProvider(ProviderRegistry* registry) {
  ProviderFactory factory{"redis",
                          "items in a Redis server (hashes, with Redis expiring them); conditional writes as Lua scripts",
                          {kKeyValueService},
                          RedisOptionDocs(),
                          &CreateRedisBinding,
                          {{"username", "the ACL user to AUTH as (Redis 6 and later); default: the default user",
                            "REDIS_USERNAME"},
                           {"password", "the password to AUTH with; none: no AUTH", "REDIS_PASSWORD"}}};
  if (!registry->Register(std::move(factory)).ok()) std::abort();  // registered twice: a programming error
}

}  // namespace cloudkit::redis
