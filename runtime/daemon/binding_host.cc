#include "daemon/binding_host.h"

#include <caf/all.hpp>

#include "services/key_value_actor.h"
#include "services/object_storage_actor.h"

// Frames travel between threads inside CAF messages; they never leave the
// process, so CAF needs no serializer for them.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<cloudkit::Inbound>)

namespace cloudkit {
namespace {

caf::behavior HostActor(caf::event_based_actor* self, std::shared_ptr<Actor> actor) {
  return {
      [actor](const std::shared_ptr<Inbound>& frame) { actor->Receive(std::move(*frame)); },
  };
}

}  // namespace

BindingHost::~BindingHost() { StopAll(); }

Status BindingHost::Add(const BindingConfig& config, const ProviderRegistry& registry,
                        const HostPorts& ports) {
  Result<BindingInstance> instance = registry.Create(config, ports);
  if (!instance.ok()) return instance.status();
  auto hosted = std::make_unique<HostedBinding>();
  hosted->config = config;
  hosted->instance = std::move(*instance);
  bool detached = hosted->instance.blocking_io;
  if (auto* provider = hosted->instance.object_storage.get()) {
    hosted->object_storage =
        Spawn(std::make_unique<ObjectStorageActor>(provider, &clock_, &replies_), detached);
  }
  if (auto* provider = hosted->instance.key_value.get()) {
    hosted->key_value = Spawn(std::make_unique<KeyValueActor>(provider, &clock_, &replies_), detached);
  }
  by_name_[config.name] = hosted.get();
  bindings_.push_back(std::move(hosted));
  return Status::Ok();
}

caf::actor BindingHost::Spawn(std::unique_ptr<Actor> actor, bool detached) {
  std::shared_ptr<Actor> shared(std::move(actor));
  if (detached) return system_.spawn<caf::detached>(HostActor, shared);
  return system_.spawn(HostActor, shared);
}

HostedBinding* BindingHost::Find(const std::string& name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

void BindingHost::Deliver(const caf::actor& actor, Inbound&& frame) {
  caf::anon_send(actor, std::make_shared<Inbound>(std::move(frame)));
}

void BindingHost::StopAll() {
  if (bindings_.empty()) return;
  for (auto& binding : bindings_) {
    if (binding->object_storage) caf::anon_send_exit(binding->object_storage, caf::exit_reason::user_shutdown);
    if (binding->key_value) caf::anon_send_exit(binding->key_value, caf::exit_reason::user_shutdown);
    binding->object_storage = nullptr;
    binding->key_value = nullptr;
  }
  system_.await_all_actors_done();
  by_name_.clear();
  bindings_.clear();
}

}  // namespace cloudkit
