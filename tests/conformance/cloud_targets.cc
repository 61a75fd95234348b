// The conformance targets of the providers of remote services, each against a
// real server that someone else wrote, started once for the test executable
// (tests/support/emulator.h): `s3` on s3rver, `azure` on Azurite, `redis` on
// redis-server, `dynamodb` on dynalite. Every case gets a fresh key prefix (a
// fresh table on dynalite and Azure Table), so cases never see each other's
// data; the native ports (libcurl, the timer thread, OpenSSL) are the daemon's.
#include <atomic>
#include <map>
#include <mutex>

#include "conformance/azurite_binding.h"
#include "conformance/conformance.h"
#include "conformance/s3rver_binding.h"
#include "ports/curl_http_client.h"
#include "ports/hiredis_client.h"
#include "ports/openssl_hash.h"
#include "ports/system_clock.h"
#include "ports/thread_sleep_port.h"
#include "providers/builtin_providers.h"
#include "support/emulator.h"

namespace cloudkit::conformance {
namespace {

using testing_util::Emulator;
using testing_util::EmulatorKind;

// One emulator of each kind per executable, stopped when it exits.
Emulator& Shared(EmulatorKind kind) {
  static std::mutex mutex;
  static std::map<EmulatorKind, std::unique_ptr<Emulator>> running;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = running[kind];
  if (!slot) {
    testing_util::EmulatorOptions options;
    if (kind == EmulatorKind::kS3rver) options.buckets = {kS3rverBucket};
    if (kind == EmulatorKind::kDynalite) options.extra_args = {"--createTableMs", "0"};  // no CREATING wait
    Result<std::unique_ptr<Emulator>> started = Emulator::Start(kind, options);
    if (!started.ok()) throw std::runtime_error(started.status().message());
    slot = std::move(*started);
  }
  return *slot;
}

std::string FreshPrefix() {
  static std::atomic<int> next{0};
  return "case" + std::to_string(next++) + "-" + std::to_string(SystemClock().NowMs());
}

class RemoteTarget : public ConformanceTarget {
 public:
  explicit RemoteTarget(BindingConfig config) : config_(std::move(config)) { RegisterBuiltinProviders(&registry_); }
  bool durable() const override { return true; }
  bool host_clock() const override { return false; }
  Result<BindingInstance> Open(ports::Clock*) override {
    HostPorts ports{&clock_, &hash_, nullptr, ""};
    ports.http = &http_;
    ports.sleep = &sleep_;
    return registry_.Create(config_, ports);
  }

 protected:
  BindingConfig config_;

 private:
  ProviderRegistry registry_;
  SystemClock clock_;  // signatures carry the real time
  OpenSslHashPort hash_;
  ThreadSleepPort sleep_;
  CurlHttpClient http_;
};

class S3rverTarget : public RemoteTarget {
 public:
  S3rverTarget() : RemoteTarget(S3rverBinding(Shared(EmulatorKind::kS3rver).endpoint(), FreshPrefix())) {}
  std::string Cannot(const std::string& feature) const override { return S3rverCannot(feature); }
};

// `redis` on redis-server: each case on a key prefix of its own. Redis
// expires items by its own clock.
class RedisTarget : public ConformanceTarget {
 public:
  RedisTarget() { RegisterBuiltinProviders(&registry_); }
  bool durable() const override { return true; }  // the server keeps the items
  bool host_clock() const override { return false; }
  std::string Cannot(const std::string& feature) const override {
    return feature == "manual clock" ? "Redis expires items by its own clock, which the suite cannot move" : "";
  }
  Result<BindingInstance> Open(ports::Clock* clock) override {
    Emulator& redis = Shared(EmulatorKind::kRedis);
    HostPorts ports{clock, nullptr, nullptr, ""};
    ports.redis = &connector_;
    ports.sleep = &sleep_;
    BindingConfig config{"conformance", "redis", {}, {}, {}};
    config.options = {{"address", redis.host() + ":" + std::to_string(redis.port())}, {"prefix", prefix_}};
    return registry_.Create(config, ports);
  }

 private:
  std::string prefix_ = FreshPrefix() + ":";
  ProviderRegistry registry_;
  HiredisConnector connector_;
  ThreadSleepPort sleep_;
};

// `dynamodb` on dynalite: each case on a DynamoDB table of its own.
class DynaliteTarget : public RemoteTarget {
 public:
  DynaliteTarget() : RemoteTarget(Config()) {}
  std::string Cannot(const std::string& feature) const override {
    if (feature == "manual clock") return "the provider judges expiry by the real clock its requests are signed with";
    return {};
  }

 private:
  static BindingConfig Config() {
    Emulator& dynalite = Shared(EmulatorKind::kDynalite);
    BindingConfig config{"conformance", "dynamodb", {}, {}, {}};
    config.options = {{"table", FreshPrefix()},
                      {"endpoint", dynalite.endpoint()},
                      {"create_table", "true"},
                      {"transactions", "false"}};  // dynalite 4 has no TransactWriteItems
    config.credentials = {{"access_key_id", dynalite.credentials().access_key_id},
                          {"secret_access_key", dynalite.credentials().secret_access_key}};
    return config;
  }
};

// `azure` on Azurite (azurite_binding.h), through its connection string.
class AzuriteTarget : public RemoteTarget {
 public:
  AzuriteTarget() : RemoteTarget(Config()) {}
  std::string Cannot(const std::string& feature) const override { return AzuriteCannot(feature); }

 private:
  static BindingConfig Config() {
    static std::atomic<int> next_table{0};
    Emulator& azurite = Shared(EmulatorKind::kAzurite);
    BindingConfig config = AzuriteBinding(
        FreshPrefix(), "case" + std::to_string(next_table++) + "t" + std::to_string(SystemClock().NowMs()));
    config.credentials = {{"connection_string", azurite.connection_string()}};
    return config;
  }
};

}  // namespace

std::vector<TargetParam> ConformanceTargets() {
  return {
      {"s3_on_s3rver", [] { return std::make_unique<S3rverTarget>(); }, {kObjectStorageService}},
      {"redis", [] { return std::make_unique<RedisTarget>(); }, {kKeyValueService}},
      {"dynamodb_on_dynalite", [] { return std::make_unique<DynaliteTarget>(); }, {kKeyValueService}},
      {"azure_on_azurite", [] { return std::make_unique<AzuriteTarget>(); }, {kObjectStorageService, kKeyValueService}},
  };
}

}  // namespace cloudkit::conformance
