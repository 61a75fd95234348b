// Services as descriptors: one table per service saying its name, the
// methods of its proto service and which of them stream, and how to make its
// actor for a binding. The daemon's front door and binding host, the browser
// worker core and the JS API route calls from these tables, so adding a
// service is one .proto, its provider interface, one actor (with its
// descriptor) and its entry in RegisterBuiltinServices (docs/architecture.md,
// "Adding a service").
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/actor.h"
#include "core/status.h"
#include "ports/clock.h"
#include "ports/timers.h"
#include "services/idempotent_calls.h"
#include "services/service_provider.h"

namespace cloudkit {

struct MethodDescriptor {
  std::string name;      // "Get"
  bool streams = false;  // the call stays open after its first frame (DATA / CREDIT follow)
  // The call may wait on the world rather than work (a long poll, a
  // subscription): a daemon that stops ends it at once, retryable, instead
  // of waiting for it through its drain.
  bool waits_for_events = false;
};

// What a host lends the actor it makes. All must outlive the actor.
struct ActorContext {
  ports::Clock* clock = nullptr;
  Outbox* outbox = nullptr;
  ports::Timers* timers = nullptr;  // may be null: the actor then arms nothing
  IdempotencyLimits idempotency;    // answers kept for retries (services/idempotent_calls)
};

struct ServiceDescriptor {
  std::string name;           // "key_value": the name in configuration and status
  std::string proto_service;  // "cloudkit.v1.KeyValue": methods are "<proto_service>/<method>"
  std::vector<MethodDescriptor> methods;
  // May a host run the service's calls inline on its I/O thread when the
  // binding's ports never wait (memory)? Only when no call does much work in
  // one turn: object storage copies whole objects; key-value never loops long,
  // and queues walk long queues over many turns (core/next_turn.h).
  bool runs_inline_over_memory = false;
  // The actor serving the service over `provider` (the binding's provider of
  // this service; the factory knows its interface).
  std::function<std::unique_ptr<Actor>(ServiceProvider& provider, const ActorContext& context)> make_actor;

  const MethodDescriptor* FindMethod(std::string_view method) const;
};

class ServiceRegistry {
 public:
  // ALREADY_EXISTS when a service of that name or proto service is known.
  Status Register(ServiceDescriptor service);

  const ServiceDescriptor* Find(std::string_view name) const;
  // The position of a service in all(): hosts index their actors by it.
  size_t IndexOf(const ServiceDescriptor& service) const { return &service - services_.data(); }
  // The service and method of "cloudkit.v1.KeyValue/Get"; nulls when unknown.
  std::pair<const ServiceDescriptor*, const MethodDescriptor*> Route(std::string_view full_method) const;
  const std::vector<ServiceDescriptor>& all() const { return services_; }

 private:
  std::vector<ServiceDescriptor> services_;
};

// Registers every service this build has, one line each.
void RegisterBuiltinServices(ServiceRegistry* registry);

}  // namespace cloudkit
