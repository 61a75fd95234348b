#include "daemon/binding_host.h"

#include <functional>
#include <mutex>
#include <utility>

#include <caf/all.hpp>


namespace cloudkit {
namespace {

using drain_atom = caf::atom_constant<caf::atom("drain")>;

// The mailbox of an actor hosted on a detached CAF actor: frames from the
// front door, and completions its ports post (it is the actor's Executor).
// Either wakes the CAF actor with one `drain` message when the inbox turns
// non-empty; the actor then takes everything that arrived meanwhile.
class Inbox : public Executor {
 public:
  void Attach(caf::actor handle) { handle_ = std::move(handle); }

  void Post(std::function<void()> fn) override {
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      completions_.push_back(std::move(fn));
      wake = !std::exchange(wake_pending_, true);
    }
    if (wake) caf::anon_send(handle_, drain_atom::value);
  }

  // Front door thread: hands over the frames of its turn.
  void Deliver(std::vector<Inbound>* held) {
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (frames_.empty()) {
        frames_.swap(*held);
      } else {
        for (Inbound& frame : *held) frames_.push_back(std::move(frame));
      }
      wake = !std::exchange(wake_pending_, true);
    }
    held->clear();
    if (wake) caf::anon_send(handle_, drain_atom::value);
  }

  // Actor thread: takes what is waiting; false when nothing was.
  bool Take(std::vector<Inbound>* frames, std::vector<std::function<void()>>* completions) {
    std::lock_guard<std::mutex> lock(mutex_);
    frames->swap(frames_);
    completions->swap(completions_);
    return !frames->empty() || !completions->empty();
  }

  // Actor thread, after a drain: true when more came meanwhile (wake_pending
  // then stays set and the actor drains again; else it is cleared).
  bool MoreWaiting() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (frames_.empty() && completions_.empty()) {
      wake_pending_ = false;
      return false;
    }
    return true;
  }

 private:
  caf::actor handle_;
  std::mutex mutex_;
  std::vector<Inbound> frames_;
  std::vector<std::function<void()>> completions_;
  bool wake_pending_ = false;  // a drain message is on its way or being handled
};

// An actor on a detached CAF actor (its own thread): its operations never
// block (ports answer by message), so one thread serves all of its calls.
// After each drain, if more arrived meanwhile, the actor sends itself another
// `drain` behind whatever else waits in its mailbox (timer expiries, exit),
// so load never starves those.
class CafHostedActor : public HostedActor {
 public:
  CafHostedActor(caf::actor_system& system, std::shared_ptr<Actor> actor,
                 std::shared_ptr<CafTimers> timers = nullptr)
      : timers_(std::move(timers)), actor_(std::move(actor)), inbox_(std::make_shared<Inbox>()) {
    handle_ = system.spawn<caf::detached>(Behavior, inbox_, actor_, timers_);
    inbox_->Attach(handle_);
    if (timers_) timers_->Attach(handle_);
  }
  ~CafHostedActor() override { Stop(); }
  bool runs_inline() const override { return false; }

  void Deliver(Inbound&& frame) override { held_.push_back(std::move(frame)); }
  void Flush() override {
    if (!held_.empty()) inbox_->Deliver(&held_);
  }

  void Stop() {
    if (handle_) caf::anon_send_exit(handle_, caf::exit_reason::user_shutdown);
    handle_ = nullptr;
  }

 private:
  static caf::behavior Behavior(caf::event_based_actor* self, std::shared_ptr<Inbox> inbox,
                                std::shared_ptr<Actor> actor, std::shared_ptr<CafTimers> timers) {
    return {
        // Timer expiries arrive between drains, never during one.
        [inbox, actor, timers](timer_atom, uint32_t token, uint32_t generation) {
          if (!timers || !timers->IsCurrent(token, generation)) return;
          ExecutorScope scope(inbox);
          actor->OnTimer(token);
        },
        [self, inbox, actor](drain_atom) {
          std::vector<Inbound> frames;
          std::vector<std::function<void()>> completions;
          if (inbox->Take(&frames, &completions)) {
            ExecutorScope scope(inbox);
            for (auto& completion : completions) completion();
            for (Inbound& frame : frames) actor->Receive(std::move(frame));
          }
          if (inbox->MoreWaiting()) self->send(self, drain_atom::value);
        },
    };
  }

  std::shared_ptr<CafTimers> timers_;  // outlives the actor, which holds a pointer to it
  std::shared_ptr<Actor> actor_;
  std::shared_ptr<Inbox> inbox_;
  std::vector<Inbound> held_;  // delivered this turn, not yet flushed (front door thread)
  caf::actor handle_;
};

// An actor whose ports never wait (memory), run to completion on the front
// door thread; it answers into the ReplyQueue's front-door-only outbox. The
// front door's loop runs under its InlineExecutor.
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
  hosted->actors.resize(services_.all().size());
  for (const ServiceDescriptor& service : services_.all()) {
    auto provider = hosted->instance.providers.find(service.name);
    if (provider == hosted->instance.providers.end()) continue;
    std::shared_ptr<HostedActor>& slot = hosted->actors[services_.IndexOf(service)];
    if (!hosted->instance.blocking_io && service.runs_inline_over_memory) {
      auto timers = std::make_unique<InlineTimers>(&front_door_timers_);
      std::unique_ptr<Actor> actor =
          service.make_actor(*provider->second, {&clock_, &replies_.front_door_outbox(), timers.get()});
      if (!actor) return Status::Internal("service " + service.name + " made no actor for binding " + config.name);
      slot = std::make_shared<InlineHostedActor>(std::move(timers), std::move(actor));
    } else {
      auto timers = std::make_shared<CafTimers>();
      std::shared_ptr<Actor> actor = service.make_actor(*provider->second, {&clock_, &replies_, timers.get()});
      if (!actor) return Status::Internal("service " + service.name + " made no actor for binding " + config.name);
      slot = std::make_shared<CafHostedActor>(system_, std::move(actor), std::move(timers));
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
    for (auto& hosted : binding->actors) {
      if (auto* caf_hosted = dynamic_cast<CafHostedActor*>(hosted.get())) caf_hosted->Stop();
    }
  }
  system_.await_all_actors_done();
  by_name_.clear();
  bindings_.clear();
}

}  // namespace cloudkit
