// The native host's conformance targets: `memory`, `local` on a temp dir
// with the real SQLite and file ports (reopening it is a restart), and, when
// redis-server is installed, `redis` on a real server (reopening it is a new
// connection to the same data).
#include <atomic>

#include "conformance/conformance.h"
#include "ports/native_storage.h"
#include "ports/openssl_hash.h"
#include "unit/temp_dir.h"
#ifdef REDIS_SERVER_PATH
#include "ports/hiredis_client.h"
#include "support/redis_server.h"
#endif

namespace cloudkit::conformance {
namespace {

class RegistryTarget : public ConformanceTarget {
 public:
  RegistryTarget(std::string provider, bool durable) : provider_(std::move(provider)), durable_(durable) {
    RegisterBuiltinProviders(&registry_);
  }
  bool durable() const override { return durable_; }
  Result<BindingInstance> Open(ports::Clock* clock) override {
    HostPorts ports{clock, &hash_, &storage_, dir_.path()};
    return registry_.Create(BindingConfig{"conformance", provider_, {}, {}}, ports);
  }

 private:
  std::string provider_;
  bool durable_;
  ProviderRegistry registry_;
  OpenSslHashPort hash_;
  NativeStoragePort storage_;
  testing_util::TempDir dir_;
};

#ifdef REDIS_SERVER_PATH
// One server for the whole run, started by the first redis case and killed
// when the process ends; each target keeps to a prefix of its own, so cases
// never see each other's items.
Result<testing_util::RedisServer*> SharedRedisServer() {
  static Result<std::unique_ptr<testing_util::RedisServer>> server = testing_util::RedisServer::Start();
  if (!server.ok()) return server.status();
  return server->get();
}

class RedisTarget : public ConformanceTarget {
 public:
  RedisTarget() : prefix_("conformance-" + std::to_string(++instances_) + ":") {
    RegisterBuiltinProviders(&registry_);
  }
  bool durable() const override { return true; }  // the server keeps the items
  bool manual_clock_expiry() const override { return false; }
  Result<BindingInstance> Open(ports::Clock* clock) override {
    Result<testing_util::RedisServer*> server = SharedRedisServer();
    if (!server.ok()) return server.status();
    HostPorts ports{clock, nullptr, nullptr, ""};
    ports.redis = &connector_;
    return registry_.Create(
        BindingConfig{"conformance", "redis", {}, {{"address", (*server)->address()}, {"prefix", prefix_}}}, ports);
  }

 private:
  static inline std::atomic<int> instances_{0};
  std::string prefix_;
  ProviderRegistry registry_;
  HiredisConnector connector_;
};
#endif

}  // namespace

std::vector<TargetParam> ConformanceTargets() {
  return {
      {"memory", [] { return std::make_unique<RegistryTarget>("memory", false); }},
      {"local", [] { return std::make_unique<RegistryTarget>("local", true); }},
#ifdef REDIS_SERVER_PATH
      {"redis", [] { return std::make_unique<RedisTarget>(); }},
#endif
  };
}

}  // namespace cloudkit::conformance
