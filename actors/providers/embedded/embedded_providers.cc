#include "providers/embedded/embedded_providers.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "ports/memory_storage.h"
#include "providers/embedded/embedded_key_value.h"
#include "providers/embedded/embedded_object_storage.h"
#include "providers/embedded/embedded_pubsub.h"
#include "providers/embedded/embedded_queue.h"
#include "providers/embedded/embedded_secrets.h"
#include "providers/names.h"

namespace cloudkit::embedded {
namespace {

std::string FromBaseDir(const BindingConfig& config, const std::string& path) {
  if (path.empty() || path.front() == '/' || config.base_dir.empty()) return path;
  return config.base_dir + "/" + path;
}

bool Serves(const BindingConfig& config, const char* service) {
  return config.services.empty() ||
         std::find(config.services.begin(), config.services.end(), service) != config.services.end();
}

Result<BindingInstance> CreateMemory(const BindingConfig& config, const HostPorts& ports) {
  BindingInstance instance;
  if (Serves(config, kObjectStorageService)) {
    instance.providers[kObjectStorageService] = std::make_unique<EmbeddedObjectStorage>(
        std::make_unique<ports::MemoryOrderedStore>(), std::make_unique<ports::MemoryBlobStore>(), ports.clock,
        ports.hash);
  }
  if (Serves(config, kKeyValueService)) {
    instance.providers[kKeyValueService] =
        std::make_unique<EmbeddedKeyValue>(std::make_unique<ports::MemoryOrderedStore>(), ports.clock);
  }
  if (Serves(config, kQueueService)) {
    instance.providers[kQueueService] =
        std::make_unique<EmbeddedQueue>(std::make_unique<ports::MemoryOrderedStore>(), ports.clock);
  }
  if (Serves(config, kPubSubService)) {
    instance.providers[kPubSubService] =
        std::make_unique<EmbeddedPubSub>(std::make_unique<ports::MemoryOrderedStore>(), ports.clock);
  }
  if (Serves(config, kSecretsService)) {
    instance.providers[kSecretsService] =
        std::make_unique<EmbeddedSecrets>(std::make_unique<ports::MemoryOrderedStore>(), nullptr, ports.clock);
  }
  return instance;
}

// Secrets sealed at rest with the key of the `secrets_key` credential (or
// CLOUDKIT_SECRETS_KEY), else of the key file.
Result<std::unique_ptr<SecretsProvider>> CreateLocalSecrets(const BindingConfig& config, const HostPorts& ports,
                                                            const std::string& path) {
  if (ports.sealer == nullptr) return std::unique_ptr<SecretsProvider>(std::make_unique<UnsealedSecrets>());
  ports::SealerKey key;
  if (auto it = config.credentials.find("secrets_key"); it != config.credentials.end()) key.key_base64 = it->second;
  key.key_source = "secrets_key (the binding's credential or CLOUDKIT_SECRETS_KEY)";
  auto file = config.options.find("secrets_key_file");
  key.key_file = file != config.options.end() ? FromBaseDir(config, file->second) : path + "/secrets.key";
  auto sealer = ports.sealer->OpenSealer(key);
  if (!sealer.ok()) return sealer.status();
  auto records = ports.durable_storage->OpenOrderedStore(path + "/secrets");
  if (!records.ok()) return records.status();
  return std::unique_ptr<SecretsProvider>(
      std::make_unique<EmbeddedSecrets>(std::move(*records), std::move(*sealer), ports.clock));
}

// Objects, items, queues, topics and secrets live in separate stores: the services run on
// different actors (threads natively), and a store has one user at a time.
Result<BindingInstance> CreateLocal(const BindingConfig& config, const HostPorts& ports) {
  if (ports.durable_storage == nullptr) {
    return Status::FailedPrecondition("provider 'local' needs durable storage, which this host lacks");
  }
  const std::string path = LocalBindingPath(config, ports.data_dir);
  if (path.empty()) {
    return Status::InvalidArgument("binding " + names::Quote(config.name) + ": no data dir and no 'path' option");
  }
  BindingInstance instance;
  instance.blocking_io = true;
  if (Serves(config, kObjectStorageService)) {
    auto records = ports.durable_storage->OpenOrderedStore(path + "/objects");
    if (!records.ok()) return records.status();
    auto blobs = ports.durable_storage->OpenBlobStore(path + "/objects");
    if (!blobs.ok()) return blobs.status();
    instance.providers[kObjectStorageService] = std::make_unique<EmbeddedObjectStorage>(
        std::move(*records), std::move(*blobs), ports.clock, ports.hash);
  }
  if (Serves(config, kKeyValueService)) {
    auto items = ports.durable_storage->OpenOrderedStore(path + "/kv");
    if (!items.ok()) return items.status();
    instance.providers[kKeyValueService] = std::make_unique<EmbeddedKeyValue>(std::move(*items), ports.clock);
  }
  if (Serves(config, kQueueService)) {
    auto queues = ports.durable_storage->OpenOrderedStore(path + "/queues");
    if (!queues.ok()) return queues.status();
    instance.providers[kQueueService] = std::make_unique<EmbeddedQueue>(std::move(*queues), ports.clock);
  }
  if (Serves(config, kPubSubService)) {
    auto topics = ports.durable_storage->OpenOrderedStore(path + "/pubsub");
    if (!topics.ok()) return topics.status();
    instance.providers[kPubSubService] = std::make_unique<EmbeddedPubSub>(std::move(*topics), ports.clock);
  }
  if (Serves(config, kSecretsService)) {
    auto secrets = CreateLocalSecrets(config, ports, path);
    if (!secrets.ok()) return secrets.status();
    instance.providers[kSecretsService] = std::move(*secrets);
  }
  return instance;
}

}  // namespace

void RegisterMemoryProvider(ProviderRegistry* registry) {
  ProviderFactory factory{"memory",
                          "in-process maps; data is gone when the process stops",
                          {kObjectStorageService, kKeyValueService, kQueueService, kSecretsService, kPubSubService},
                          {},
                          &CreateMemory};
  if (!registry->Register(std::move(factory)).ok()) std::abort();  // registered twice: a programming error
}

std::string LocalBindingPath(const BindingConfig& config, const std::string& data_dir) {
  if (auto it = config.options.find("path"); it != config.options.end()) return FromBaseDir(config, it->second);
  if (data_dir.empty()) return std::string();
  return data_dir + "/" + config.name;
}

void RegisterLocalProvider(ProviderRegistry* registry) {
  ProviderFactory factory{"local",
                          "embedded and durable: object bodies as files; metadata, items, queues, topics and "
                          "sealed secrets in SQLite",
                          {kObjectStorageService, kKeyValueService, kQueueService, kSecretsService, kPubSubService},
                          {{"path", "directory holding this binding's data", "<data_dir>/<binding>"},
                           {"secrets_key_file",
                            "file holding the key that seals secrets (created, mode 0600, when absent)",
                            "<path>/secrets.key"}},
                          &CreateLocal,
                          {{"secrets_key", "the key that seals secrets: base64 of 32 bytes (wins over the key file)",
                            "CLOUDKIT_SECRETS_KEY"}}};
  if (!registry->Register(std::move(factory)).ok()) std::abort();
}

}  // namespace cloudkit::embedded
