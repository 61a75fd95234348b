// The native host's conformance targets: `memory`, and `local` on a temp dir
// with the real SQLite and file ports (reopening it is a restart). The
// providers of remote services run the same cases in cloud_targets.cc.

#include "conformance/conformance.h"
#include "ports/native_storage.h"
#include "ports/openssl_hash.h"
#include "ports/sodium_sealer.h"
#include "providers/builtin_providers.h"
#include "unit/temp_dir.h"

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
    ports.sealer = &sealer_;
    return registry_.Create(BindingConfig{"conformance", provider_, {}, {}, {}}, ports);
  }

 private:
  std::string provider_;
  bool durable_;
  ProviderRegistry registry_;
  OpenSslHashPort hash_;
  NativeStoragePort storage_;
  SodiumSealerPort sealer_;
  testing_util::TempDir dir_;
};


}  // namespace

std::vector<TargetParam> ConformanceTargets() {
  return {
      {"memory", [] { return std::make_unique<RegistryTarget>("memory", false); }},
      {"local", [] { return std::make_unique<RegistryTarget>("local", true); }},
  };
}

}  // namespace cloudkit::conformance
