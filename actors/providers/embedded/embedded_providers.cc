#include "providers/embedded/embedded_providers.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "ports/memory_storage.h"
#include "providers/embedded/embedded_key_value.h"
#include "providers/embedded/embedded_object_storage.h"
#include "providers/embedded/embedded_queue.h"
#include "providers/names.h"

namespace cloudkit::embedded {
namespace {

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
  return instance;
}

// Objects, items and queues live in separate stores: the services run on
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
      return Status::InvalidArgument("binding " + names::Quote(config.name) + ": no data dir and no 'path' option");
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
  return instance;
}

}  // namespace

void RegisterMemoryProvider(ProviderRegistry* registry) {
  ProviderFactory factory{"memory",
                          "in-process maps; data is gone when the process stops",
                          {kObjectStorageService, kKeyValueService, kQueueService},
                          {},
                          &CreateMemory};
  if (!registry->Register(std::move(factory)).ok()) std::abort();  // registered twice: a programming error
}

void RegisterLocalProvider(ProviderRegistry* registry) {
  ProviderFactory factory{"local",
                          "embedded and durable: object bodies as files, metadata, items and queues in SQLite",
                          {kObjectStorageService, kKeyValueService, kQueueService},
                          {{"path", "directory holding this binding's data", "<data_dir>/<binding>"}},
                          &CreateLocal};
  if (!registry->Register(std::move(factory)).ok()) std::abort();
}

}  // namespace cloudkit::embedded
