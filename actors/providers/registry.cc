#include "providers/registry.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "ports/memory_storage.h"
#include "providers/dynamodb/dynamodb_key_value.h"
#include "providers/azure/azure_provider.h"
#include "providers/embedded/embedded_key_value.h"
#include "providers/embedded/embedded_object_storage.h"
#include "providers/names.h"
#include "providers/s3/s3_object_storage.h"
#include "providers/redis/redis_binding.h"

namespace cloudkit {
namespace {

bool Serves(const BindingConfig& config, const char* service) {
  return config.services.empty() ||
         std::find(config.services.begin(), config.services.end(), service) != config.services.end();
}

Result<BindingInstance> CreateMemory(const BindingConfig& config, const HostPorts& ports) {
  BindingInstance instance;
  if (Serves(config, kObjectStorageService)) {
    instance.providers[kObjectStorageService] = std::make_unique<embedded::EmbeddedObjectStorage>(
        std::make_unique<ports::MemoryOrderedStore>(), std::make_unique<ports::MemoryBlobStore>(),
        ports.clock, ports.hash);
  }
  if (Serves(config, kKeyValueService)) {
    instance.providers[kKeyValueService] = std::make_unique<embedded::EmbeddedKeyValue>(
        std::make_unique<ports::MemoryOrderedStore>(), ports.clock);
  }
  return instance;
}

// Objects and items live in separate stores: the two services run on
// different actors (threads natively), and a store has one user at a time.
Result<BindingInstance> CreateLocal(const BindingConfig& config, const HostPorts& ports) {
  if (ports.durable_storage == nullptr) {
    return Status::FailedPrecondition("provider 'local' needs durable storage, which this host lacks");
  }
  std::string path;
  if (auto it = config.options.find("path"); it != config.options.end()) {
    path = it->second;
  } else {
    if (ports.data_dir.empty()) {
      return Status::InvalidArgument("binding " + names::Quote(config.name) +
                                     ": no data dir and no 'path' option");
    }
    path = ports.data_dir + "/" + config.name;
  }
  BindingInstance instance;
  instance.blocking_io = true;
  if (Serves(config, kObjectStorageService)) {
    auto records = ports.durable_storage->OpenOrderedStore(path + "/objects");
    if (!records.ok()) return records.status();
    auto blobs = ports.durable_storage->OpenBlobStore(path + "/objects");
    if (!blobs.ok()) return blobs.status();
    instance.providers[kObjectStorageService] = std::make_unique<embedded::EmbeddedObjectStorage>(
        std::move(*records), std::move(*blobs), ports.clock, ports.hash);
  }
  if (Serves(config, kKeyValueService)) {
    auto items = ports.durable_storage->OpenOrderedStore(path + "/kv");
    if (!items.ok()) return items.status();
    instance.providers[kKeyValueService] = std::make_unique<embedded::EmbeddedKeyValue>(std::move(*items), ports.clock);
  }
  return instance;
}

}  // namespace

Status ProviderRegistry::Register(ProviderFactory factory) {
  if (factories_.count(factory.name)) return Status::AlreadyExists("provider " + names::Quote(factory.name));
  std::string name = factory.name;
  factories_.emplace(std::move(name), std::move(factory));
  return Status::Ok();
}

const ProviderFactory* ProviderRegistry::Find(const std::string& name) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : &it->second;
}

std::vector<const ProviderFactory*> ProviderRegistry::All() const {
  std::vector<const ProviderFactory*> all;
  for (const auto& [name, factory] : factories_) all.push_back(&factory);
  return all;
}

Result<BindingInstance> ProviderRegistry::Create(const BindingConfig& config, const HostPorts& ports) const {
  CK_RETURN_IF_ERROR(names::CheckContainerName("binding", config.name));
  const ProviderFactory* factory = Find(config.provider);
  if (factory == nullptr) {
    std::string known;
    for (const auto& [name, unused] : factories_) known += (known.empty() ? "" : ", ") + name;
    return Status::InvalidArgument("binding " + names::Quote(config.name) + ": unknown provider " +
                                   names::Quote(config.provider) + " (known: " + known + ")");
  }
  std::set<std::string> seen;
  for (const std::string& service : config.services) {
    if (std::find(factory->services.begin(), factory->services.end(), service) == factory->services.end()) {
      return Status::InvalidArgument("binding " + names::Quote(config.name) + ": provider " +
                                     names::Quote(config.provider) + " does not serve " + names::Quote(service));
    }
    if (!seen.insert(service).second) {
      return Status::InvalidArgument("binding " + names::Quote(config.name) + ": service " +
                                     names::Quote(service) + " listed twice");
    }
  }
  for (const auto& entry : config.options) {
    const std::string& option = entry.first;  // a plain name: lambdas cannot capture bindings in C++20
    bool known = std::any_of(factory->options.begin(), factory->options.end(),
                             [&](const OptionDoc& doc) { return doc.name == option; });
    if (!known) {
      return Status::InvalidArgument("binding " + names::Quote(config.name) + ": provider " +
                                     names::Quote(config.provider) + " has no option " + names::Quote(option));
    }
  }
  for (const auto& entry : config.credentials) {
    const std::string& credential = entry.first;
    bool known = std::any_of(factory->credentials.begin(), factory->credentials.end(),
                             [&](const CredentialDoc& doc) { return doc.name == credential; });
    if (!known) {
      return Status::InvalidArgument("binding " + names::Quote(config.name) + ": provider " +
                                     names::Quote(config.provider) + " takes no credential " +
                                     names::Quote(credential));
    }
  }
  // What the configuration leaves out, the host's environment may give.
  BindingConfig resolved = config;
  if (ports.environment) {
    for (const OptionDoc& doc : factory->options) {
      if (doc.environment.empty() || resolved.options.count(doc.name)) continue;
      if (auto value = ports.environment(doc.environment); value && !value->empty()) resolved.options[doc.name] = *value;
    }
    for (const CredentialDoc& doc : factory->credentials) {
      if (doc.environment.empty() || resolved.credentials.count(doc.name)) continue;
      if (auto value = ports.environment(doc.environment); value && !value->empty()) {
        resolved.credentials[doc.name] = *value;
      }
    }
  }
  Result<BindingInstance> instance = factory->create(resolved, ports);
  if (!instance.ok()) {
    return Status(instance.status().code(), "binding " + names::Quote(config.name) + ": " +
                                                instance.status().message());
  }
  return instance;
}

void RegisterBuiltinProviders(ProviderRegistry* registry) {
  ProviderFactory builtin[] = {
      {"memory",
       "in-process maps; data is gone when the process stops",
       {kObjectStorageService, kKeyValueService},
       {},
       &CreateMemory},
      {"local",
       "embedded and durable: object bodies as files, metadata and items in SQLite",
       {kObjectStorageService, kKeyValueService},
       {{"path", "directory holding this binding's data", "<data_dir>/<binding>"}},
       &CreateLocal},
      {"redis",
       "items in a Redis server (hashes, with Redis expiring them); conditional writes as Lua scripts",
       {kKeyValueService},
       redis::RedisOptionDocs(),
       &redis::CreateRedisBinding},
  };
  // Two built-in providers with one name is a programming error, found by any test.
  for (ProviderFactory& factory : builtin) {
    if (!registry->Register(std::move(factory)).ok()) std::abort();
  }
  s3::RegisterS3Provider(registry);
  dynamodb::RegisterDynamoDbProvider(registry);
  azure::RegisterAzureProvider(registry);
}

}  // namespace cloudkit
