// BindingHost: creates each configured binding from the provider registry and
// hosts its service actors on CAF, one CAF actor per (binding, service). A
// binding whose provider blocks on I/O (`local`: fsync, SQLite) gets detached
// actors, each on its own thread, so it can never stall CAF's scheduler or
// another binding. Replies from every actor go to one ReplyQueue.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "core/actor.h"
#include "daemon/reply_queue.h"
#include "providers/registry.h"

namespace cloudkit {

struct HostedBinding {
  BindingConfig config;
  BindingInstance instance;
  caf::actor object_storage;  // invalid when the binding does not serve it
  caf::actor key_value;
  uint32_t in_flight = 0;     // calls accepted and not yet answered (front door thread)
};

class BindingHost {
 public:
  BindingHost(caf::actor_system& system, ReplyQueue& replies, ports::Clock& clock)
      : system_(system), replies_(replies), clock_(clock) {}
  ~BindingHost();

  // Creates the binding and spawns its actors.
  Status Add(const BindingConfig& config, const ProviderRegistry& registry, const HostPorts& ports);

  HostedBinding* Find(const std::string& name);
  const std::vector<std::unique_ptr<HostedBinding>>& bindings() const { return bindings_; }

  // Hands a frame to a hosted actor. Thread-safe; never blocks.
  static void Deliver(const caf::actor& actor, Inbound&& frame);

  // Asks every actor to stop and waits for them, then releases the providers.
  void StopAll();

 private:
  caf::actor Spawn(std::unique_ptr<Actor> actor, bool detached);

  caf::actor_system& system_;
  ReplyQueue& replies_;
  ports::Clock& clock_;
  std::vector<std::unique_ptr<HostedBinding>> bindings_;
  std::unordered_map<std::string, HostedBinding*> by_name_;
};

}  // namespace cloudkit
