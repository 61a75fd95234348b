// Provider registry: providers registered by name, each with the services it
// serves, its options, and a factory that turns a binding's configuration into
// provider instances. The daemon, the CLI's `status` and the browser host all
// read it. Registration is explicit, each provider by its own Register
// function, rather than by static initialisers, which static linking and em++
// may drop: a host registers the providers it serves (the daemon all of them,
// providers/builtin_providers.h; the browser those it can serve), and the
// linker leaves the others out of its binary.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "ports/clock.h"
#include "ports/hash.h"
#include "ports/http.h"
#include "ports/sleep.h"
#include "ports/redis.h"
#include "ports/sealer.h"
#include "ports/storage.h"
#include "services/key_value_provider.h"
#include "services/object_storage_provider.h"

namespace cloudkit {

inline constexpr char kObjectStorageService[] = "object_storage";
inline constexpr char kKeyValueService[] = "key_value";

// A named, configured instance of a provider.
struct BindingConfig {
  std::string name;
  std::string provider;
  std::vector<std::string> services;          // empty = every service the provider has
  std::map<std::string, std::string> options;  // provider-specific, see its OptionDoc list
  // Secrets (keys, tokens), by the names in the provider's CredentialDoc
  // list: kept apart from the options so that nothing that shows a binding
  // (logs, status, error messages) can show them.
  std::map<std::string, std::string> credentials;
  // Where options naming files (a `local` binding's path...) are read from
  // when relative: the directory of the config file that defined the
  // binding. Empty: as given (the host's working directory).
  std::string base_dir;
};

// What the host lends to providers.
struct HostPorts {
  ports::Clock* clock = nullptr;
  ports::HashPort* hash = nullptr;
  ports::StoragePort* durable_storage = nullptr;  // for `local`
  std::string data_dir;                           // where durable locations live by default
  ports::HttpClient* http = nullptr;              // for providers of remote services
  ports::SleepPort* sleep = nullptr;              // their backoff between tries
  // The host's environment variables (null or nullopt: none), where
  // credentials and options not given in the configuration are looked up.
  std::function<std::optional<std::string>(const std::string& name)> environment;
  ports::RedisConnector* redis = nullptr;         // for `redis`; null where no TCP (the browser)
  ports::SealerPort* sealer = nullptr;            // `local` secrets; null where the host keeps no keys
};

// The provider instances serving one binding, by service name.
struct BindingInstance {
  std::map<std::string, std::unique_ptr<ServiceProvider>> providers;
  // True when its ports may wait (disk, network): the host then gives the
  // binding's actors their own threads rather than run them inline.
  bool blocking_io = false;

  // The provider of `service` as interface P; null when not served.
  template <typename P>
  P* Get(const std::string& service) const {
    auto it = providers.find(service);
    return it == providers.end() ? nullptr : dynamic_cast<P*>(it->second.get());
  }
};

struct OptionDoc {
  std::string name;
  std::string description;
  std::string default_value;
  std::string environment = {};  // the variable that gives it when the configuration does not
};

// A secret a provider takes (never shown; see BindingConfig::credentials).
struct CredentialDoc {
  std::string name;
  std::string description;
  std::string environment = {};  // the variable that gives it when the configuration does not
};

struct ProviderFactory {
  std::string name;
  std::string description;
  std::vector<std::string> services;
  std::vector<OptionDoc> options;
  std::function<Result<BindingInstance>(const BindingConfig&, const HostPorts&)> create;
  std::vector<CredentialDoc> credentials = {};
};

class ProviderRegistry {
 public:
  Status Register(ProviderFactory factory);
  const ProviderFactory* Find(const std::string& name) const;
  std::vector<const ProviderFactory*> All() const;
  // Validates the binding (known provider, known services and options) and creates it.
  Result<BindingInstance> Create(const BindingConfig& config, const HostPorts& ports) const;

 private:
  std::map<std::string, ProviderFactory> factories_;
};

}  // namespace cloudkit
