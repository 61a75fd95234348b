#include "daemon/binding_host.h"

#include <deque>
#include <functional>
#include <mutex>
#include <utility>

#include <caf/all.hpp>

#include "services/key_value_actor.h"
#include "services/object_storage_actor.h"

namespace cloudkit {
namespace {

using drain_atom = caf::atom_constant<caf::atom("drain")>;

// Hands every frame waiting in an inbox to the actor, in order.
using BatchReceiver = std::function<void(std::vector<Inbound>&&)>;

BatchReceiver OneByOne(std::shared_ptr<Actor> actor) {
  return [actor](std::vector<Inbound>&& frames) {
    for (Inbound& frame : frames) actor->Receive(std::move(frame));
  };
}

// An actor on a detached CAF actor (its own thread). The front door appends
// frames to `inbox` and sends the CAF actor one `drain` message when the inbox
// turns non-empty; the actor then takes everything that arrived meanwhile, and
// if more came while it worked, sends itself another `drain` behind whatever
// else waits in its mailbox (timer expiries, exit), so load never starves those.
class CafHostedActor : public HostedActor {
 public:
  CafHostedActor(caf::actor_system& system, std::shared_ptr<Actor> actor, BatchReceiver receive,
                 std::shared_ptr<CafTimers> timers = nullptr)
      : timers_(std::move(timers)), actor_(std::move(actor)), inbox_(std::make_shared<Inbox>()) {
    handle_ = system.spawn<caf::detached>(Behavior, inbox_, std::move(receive), actor_, timers_);
    if (timers_) timers_->Attach(handle_);
  }
  ~CafHostedActor() override { Stop(); }
  bool runs_inline() const override { return false; }

  void Deliver(Inbound&& frame) override { held_.push_back(std::move(frame)); }

  void Flush() override {
    if (held_.empty()) return;
    bool wake;
    {
      std::lock_guard<std::mutex> lock(inbox_->mutex);
      if (inbox_->frames.empty()) {
        inbox_->frames.swap(held_);
      } else {
        for (Inbound& frame : held_) inbox_->frames.push_back(std::move(frame));
        held_.clear();
      }
      wake = !inbox_->wake_pending;
      inbox_->wake_pending = true;
    }
    if (wake) caf::anon_send(handle_, drain_atom::value);
  }

  void Stop() {
    if (handle_) caf::anon_send_exit(handle_, caf::exit_reason::user_shutdown);
    handle_ = nullptr;
  }

 private:
  struct Inbox {
    std::mutex mutex;
    std::vector<Inbound> frames;
    bool wake_pending = false;  // a drain message is on its way or being handled
  };

  static caf::behavior Behavior(caf::event_based_actor* self, std::shared_ptr<Inbox> inbox, BatchReceiver receive,
                                std::shared_ptr<Actor> actor, std::shared_ptr<CafTimers> timers) {
    return {
        // Timer expiries arrive between batches of frames, never during one.
        [actor, timers](timer_atom, uint32_t token, uint32_t generation) {
          if (timers && timers->IsCurrent(token, generation)) actor->OnTimer(token);
        },
        [self, inbox, receive](drain_atom) {
          std::vector<Inbound> frames;
          {
            std::lock_guard<std::mutex> lock(inbox->mutex);
            frames.swap(inbox->frames);
          }
          if (!frames.empty()) receive(std::move(frames));
          std::lock_guard<std::mutex> lock(inbox->mutex);
          if (inbox->frames.empty()) {
            inbox->wake_pending = false;
          } else {
            self->send(self, drain_atom::value);  // wake_pending stays set: the front door need not
          }
        },
    };
  }

  std::shared_ptr<CafTimers> timers_;  // outlives the actor, which holds a pointer to it
  std::shared_ptr<Actor> actor_;
  std::shared_ptr<Inbox> inbox_;
  std::vector<Inbound> held_;  // delivered this turn, not yet flushed (front door thread)
  caf::actor handle_;
};

// An actor whose work never blocks, run to completion on the front door
// thread; it answers into the ReplyQueue's front-door-only outbox.
class InlineHostedActor : public HostedActor {
 public:
  InlineHostedActor(std::unique_ptr<InlineTimers> timers, std::unique_ptr<Actor> actor)
      : timers_(std::move(timers)), actor_(std::move(actor)) {
    if (timers_) timers_->set_actor(actor_.get());
  }
  void Deliver(Inbound&& frame) override { actor_->Receive(std::move(frame)); }
  bool runs_inline() const override { return true; }

 private:
  std::unique_ptr<InlineTimers> timers_;  // outlives the actor, which holds a pointer to it
  std::unique_ptr<Actor> actor_;
};

}  // namespace

BindingHost::~BindingHost() { StopAll(); }

Status BindingHost::Add(const BindingConfig& config, const ProviderRegistry& registry,
                        const HostPorts& ports) {
  Result<BindingInstance> instance = registry.Create(config, ports);
  if (!instance.ok()) return instance.status();
  auto hosted = std::make_unique<HostedBinding>();
  hosted->config = config;
  hosted->instance = std::move(*instance);
  // Key-value operations of a binding that never blocks (`memory`) are short
  // and bounded: they run inline on the front door thread, saving two thread
  // hand-offs per call. Object storage can copy whole objects (CopyObject), so
  // it always gets its own actor thread: a slow copy must not stall the front door.
  if (auto* provider = hosted->instance.object_storage.get()) {
    auto actor = std::make_shared<ObjectStorageActor>(provider, &clock_, &replies_);
    hosted->object_storage = std::make_shared<CafHostedActor>(system_, actor, OneByOne(actor));
  }
  if (auto* provider = hosted->instance.key_value.get()) {
    if (!hosted->instance.blocking_io) {
      auto timers = std::make_unique<InlineTimers>(&front_door_timers_);
      auto actor = std::make_unique<KeyValueActor>(provider, &clock_, &replies_.front_door_outbox(), timers.get());
      hosted->key_value = std::make_shared<InlineHostedActor>(std::move(timers), std::move(actor));
    } else {
      auto timers = std::make_shared<CafTimers>();
      auto actor = std::make_shared<KeyValueActor>(provider, &clock_, &replies_, timers.get());
      hosted->key_value = std::make_shared<CafHostedActor>(
          system_, actor, [actor](std::vector<Inbound>&& frames) { actor->ReceiveAll(std::move(frames)); },
          std::move(timers));
    }
  }
  by_name_[config.name] = hosted.get();
  bindings_.push_back(std::move(hosted));
  return Status::Ok();
}

HostedBinding* BindingHost::Find(const std::string& name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

void BindingHost::StopAll() {
  if (bindings_.empty()) return;
  for (auto& binding : bindings_) {
    for (auto* hosted : {binding->object_storage.get(), binding->key_value.get()}) {
      if (auto* caf_hosted = dynamic_cast<CafHostedActor*>(hosted)) caf_hosted->Stop();
    }
  }
  system_.await_all_actors_done();
  by_name_.clear();
  bindings_.clear();
}

}  // namespace cloudkit
