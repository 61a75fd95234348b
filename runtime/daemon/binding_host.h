// BindingHost: creates each configured binding from the provider registry and
// hosts its service actors, one per (binding, service), behind HostedActor;
// the service descriptors (services/service_descriptor.h) make them.
//
// Where an actor runs depends on its provider:
// - A binding whose provider waits on I/O (`local`: fsync, SQLite) gets
//   detached CAF actors, each on its own thread, so it can never stall the
//   front door or another binding. Its operations never block that thread:
//   the disk work runs on the storage port's workers, whose answers come back
//   through the actor's inbox, which is also its Executor. The front door
//   delivers the frames of one turn of its loop together (Flush); one CAF
//   message wakes the actor for all the frames and completions that arrived
//   meanwhile.
// - A binding whose ports never wait (`memory`) runs the actors of services
//   that allow it (ServiceDescriptor::runs_inline_over_memory: key-value,
//   queues, secrets)
//   inline on the front door thread: their work (a map lookup) costs less
//   than the two thread hand-offs a hop to CAF and back would
//   (benchmarks/RESULTS.md), and their replies skip the ReplyQueue's lock and
//   wake-up. Object storage gets a detached actor even then: CopyObject
//   copies a whole object in one turn, which must not stall the front door.
// Supervision: a CAF-hosted actor that fails (Actor::health, or an exception
// escaping it) ends its CAF actor with an error; a monitor (a small CAF actor
// per incarnation) sees it go down and starts a new incarnation. An inline
// actor is replaced on the spot. Either way the failure is logged and the old
// incarnation's calls end with INTERNAL; the binding's provider and data stay.
// Replies from CAF-hosted actors go to the ReplyQueue; from inline actors to
// its front-door-only outbox. Each actor gets a Timers port
// (daemon/actor_timers) on the thread it runs on (key-value sweeps expired
// items with it).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "core/actor.h"
#include "daemon/actor_timers.h"
#include "daemon/reply_queue.h"
#include "providers/registry.h"
#include "services/service_descriptor.h"

namespace cloudkit {

// What one hosted actor holds open (Runtime/Status): its calls, those parked,
// its timers. All fall back once its clients have gone.
struct HostedLoad {
  uint32_t open_calls = 0;
  uint32_t parked_calls = 0;
  uint32_t timers_armed = 0;
};

// Where the front door hands the frames of one (binding, service) actor.
class HostedActor {
 public:
  virtual ~HostedActor() = default;
  // Delivers a frame to the actor. Front door thread only; never blocks on
  // the actor's work unless the actor runs inline. An actor on another thread
  // may hold frames back until Flush, to take them in one wake-up.
  virtual void Deliver(Inbound&& frame) = 0;
  // Hands over the frames held back. Front door thread only.
  virtual void Flush() {}
  // True when Deliver runs the actor to completion on the calling thread, its
  // replies already in ReplyQueue::front_door_outbox() when Deliver returns.
  virtual bool runs_inline() const = 0;
  // Which life of the actor frames go to now. When an actor fails
  // (Actor::health), its host logs it, replaces it with a new one (the next
  // incarnation) and tells the front door (ReplyQueue::ActorRestarted), which
  // fails the calls it had given the old one. Front door thread only.
  virtual uint64_t incarnation() const = 0;
  // After a restart: true (once) for a call given to the failed incarnation
  // that it never started, so its successor answers it. Front door thread.
  virtual bool HandedToSuccessor(uint64_t call_id) { return false; }
  // What the current incarnation held after its last turn. Front door thread.
  virtual HostedLoad load() const = 0;
};

struct HostedBinding {
  BindingConfig config;
  BindingInstance instance;
  // By ServiceRegistry::IndexOf; null where the binding does not serve the service.
  std::vector<std::shared_ptr<HostedActor>> actors;
  uint32_t in_flight = 0;     // calls accepted and not yet answered (front door thread)
};

class BindingHost {
 public:
  BindingHost(caf::actor_system& system, const ServiceRegistry& services, ReplyQueue& replies,
              ports::Clock& clock)
      : system_(system), services_(services), replies_(replies), clock_(clock) {}
  ~BindingHost();

  // What the actors of bindings added later keep for retried calls.
  void set_idempotency_limits(IdempotencyLimits limits) { idempotency_ = limits; }

  // Creates the binding and spawns an actor for each service it serves.
  Status Add(const BindingConfig& config, const ProviderRegistry& registry, const HostPorts& ports);

  HostedBinding* Find(const std::string& name);
  const std::vector<std::unique_ptr<HostedBinding>>& bindings() const { return bindings_; }

  // Asks every actor to stop and waits for them, then releases the providers.
  void StopAll();

  // The timers of the actors that run inline on the front door thread: the
  // front door sleeps no longer than WaitMs() and calls FireDue() each turn.
  FrontDoorTimers& front_door_timers() { return front_door_timers_; }

 private:
  caf::actor_system& system_;
  const ServiceRegistry& services_;
  ReplyQueue& replies_;
  ports::Clock& clock_;
  IdempotencyLimits idempotency_;
  FrontDoorTimers front_door_timers_;  // declared before bindings_: outlives their inline actors
  std::vector<std::unique_ptr<HostedBinding>> bindings_;
  std::unordered_map<std::string, HostedBinding*> by_name_;
};

}  // namespace cloudkit
