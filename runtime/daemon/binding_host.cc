#include "daemon/binding_host.h"

#include <atomic>
#include <functional>
#include <mutex>
#include <unordered_set>
#include <utility>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>


namespace cloudkit {
namespace {

using drain_atom = caf::atom_constant<caf::atom("drain")>;

// The mailbox of an actor hosted on a detached CAF actor: frames from the
// front door, and completions its ports post (it is the actor's Executor).
// Either wakes the CAF actor with one `drain` message when the inbox turns
// non-empty; the actor then takes everything that arrived meanwhile.
class Inbox : public Executor {
 public:
  // Under the lock, like every read of the handle: the first posts may come
  // from a port's thread that learnt of this inbox only through CAF.
  void Attach(caf::actor handle) {
    std::lock_guard<std::mutex> lock(mutex_);
    handle_ = std::move(handle);
  }

  void Post(std::function<void()> fn) override {
    bool wake = false;
    caf::actor handle;
    std::shared_ptr<Inbox> successor;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      successor = successor_;
      if (!successor) {
        completions_.push_back(std::move(fn));
        wake = !std::exchange(wake_pending_, true);
        if (wake) handle = handle_;
      }
    }
    if (successor) return successor->Post(std::move(fn));
    if (wake) caf::anon_send(handle, drain_atom::value);
  }

  // After a restart: the failed actor's operations still waiting on ports
  // (and so perhaps holding a provider's keys) go on under the next
  // incarnation: their answers, and those already waiting here, go there.
  // So do frames that reached this inbox while the actor was being
  // replaced: the front door fails the calls it gave the failed actor, and
  // the next one answers the calls given to it since.
  // Returns the calls whose REQUEST it handed over: the failed actor never
  // started them, so they are the successor's to answer.
  std::vector<uint64_t> HandOverTo(std::shared_ptr<Inbox> successor) {
    std::vector<std::function<void()>> waiting;
    std::vector<Inbound> frames;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      successor_ = successor;
      waiting.swap(completions_);
      frames.swap(frames_);
    }
    std::vector<uint64_t> requests = RequestsIn(frames);
    for (auto& fn : waiting) successor->Post(std::move(fn));
    if (!frames.empty()) (void)successor->Deliver(&frames);
    return requests;
  }

  // Hands over frames: the front door's of its turn, or a failed inbox's.
  // Once replaced, this inbox passes them to its successor and returns false.
  bool Deliver(std::vector<Inbound>* held) {
    bool wake;
    std::shared_ptr<Inbox> successor;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      successor = successor_;
    }
    if (successor) {
      (void)successor->Deliver(held);
      return false;
    }
    caf::actor handle;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (frames_.empty()) {
        frames_.swap(*held);
      } else {
        for (Inbound& frame : *held) frames_.push_back(std::move(frame));
      }
      wake = !std::exchange(wake_pending_, true);
      if (wake) handle = handle_;
    }
    held->clear();
    if (wake) caf::anon_send(handle, drain_atom::value);
    return true;
  }

  static std::vector<uint64_t> RequestsIn(const std::vector<Inbound>& frames) {
    std::vector<uint64_t> requests;
    for (const Inbound& frame : frames) {
      if (frame.kind == v1::REQUEST) requests.push_back(frame.call_id);
    }
    return requests;
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
  std::shared_ptr<Inbox> successor_;  // set once the actor was replaced
  bool wake_pending_ = false;  // a drain message is on its way or being handled
};

using ActorFactory = std::function<std::unique_ptr<Actor>(ports::Timers* timers)>;

// An actor's load as its thread last saw it, for the front door to read.
struct PublishedLoad {
  std::atomic<uint32_t> open_calls{0};
  std::atomic<uint32_t> parked_calls{0};
  std::atomic<uint32_t> timers_armed{0};

  void Publish(const Actor& actor, const CafTimers& timers) {
    const ActorLoad load = actor.load();
    open_calls.store(load.open_calls, std::memory_order_relaxed);
    parked_calls.store(load.parked_calls, std::memory_order_relaxed);
    timers_armed.store(static_cast<uint32_t>(timers.armed()), std::memory_order_relaxed);
  }
  HostedLoad Read() const {
    return {open_calls.load(std::memory_order_relaxed), parked_calls.load(std::memory_order_relaxed),
            timers_armed.load(std::memory_order_relaxed)};
  }
};

// An actor on a detached CAF actor (its own thread): its operations never
// block (ports answer by message), so one thread serves all of its calls.
// After each drain, if more arrived meanwhile, the actor sends itself another
// `drain` behind whatever else waits in its mailbox (timer expiries, exit),
// so load never starves those.
//
// Each incarnation (actor, inbox, timers, CAF actor) is watched by a monitor;
// when the CAF actor goes down with an error, the monitor starts the next
// incarnation (Restart, on the monitor's thread) and reports the restart.
class CafHostedActor : public HostedActor, public std::enable_shared_from_this<CafHostedActor> {
 public:
  CafHostedActor(caf::actor_system& system, ReplyQueue& replies, std::string name, ActorFactory make_actor)
      : system_(system), replies_(replies), name_(std::move(name)), make_actor_(std::move(make_actor)) {}
  ~CafHostedActor() override { Stop(); }
  bool runs_inline() const override { return false; }
  uint64_t incarnation() const override { return incarnation_.load(); }
  HostedLoad load() const override { return published_->Read(); }

  // Starts the first incarnation.
  Status Start() { return StartIncarnation(); }

  void Deliver(Inbound&& frame) override { held_.push_back(std::move(frame)); }
  void Flush() override {
    if (held_.empty()) return;
    std::shared_ptr<Inbox> inbox;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      inbox = current_.inbox;
    }
    if (!inbox) return;
    std::vector<uint64_t> requests = Inbox::RequestsIn(held_);
    if (!inbox->Deliver(&held_)) Spare(requests);  // it was replaced meanwhile: the successor has them
  }

  void Spare(const std::vector<uint64_t>& requests) {
    std::lock_guard<std::mutex> lock(mutex_);
    spared_.insert(requests.begin(), requests.end());
  }

  bool HandedToSuccessor(uint64_t call_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return spared_.erase(call_id) > 0;
  }

  void Stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    if (current_.handle) caf::anon_send_exit(current_.handle, caf::exit_reason::user_shutdown);
    if (current_.monitor) caf::anon_send_exit(current_.monitor, caf::exit_reason::user_shutdown);
    current_ = Incarnation();
  }

 private:
  struct Incarnation {
    std::shared_ptr<CafTimers> timers;  // outlives the actor, which holds a pointer to it
    std::shared_ptr<Actor> actor;
    std::shared_ptr<Inbox> inbox;
    caf::actor handle;
    caf::actor monitor;  // kept: an actor nobody references is gone
  };

  Status StartIncarnation() {
    Incarnation next;
    next.timers = std::make_shared<CafTimers>();
    next.actor = make_actor_(next.timers.get());
    if (!next.actor) return Status::Internal(name_ + ": the service made no actor");
    next.inbox = std::make_shared<Inbox>();
    published_->Publish(*next.actor, *next.timers);
    next.handle = system_.spawn<caf::detached>(Behavior, next.inbox, next.actor, next.timers, published_, name_);
    next.inbox->Attach(next.handle);
    next.timers->Attach(next.handle);
    // The monitor holds only a weak reference: the host may go first.
    std::weak_ptr<CafHostedActor> host = weak_from_this();
    next.monitor = system_.spawn(Monitor, next.handle, host);
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      caf::anon_send_exit(next.handle, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(next.monitor, caf::exit_reason::user_shutdown);
      return Status::Ok();
    }
    current_ = std::move(next);
    return Status::Ok();
  }

  // On the monitor's thread, after the current incarnation went down with an error.
  void Restart() {
    Incarnation failed_incarnation;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      failed_incarnation = current_;
    }
    const uint64_t failed = incarnation_.fetch_add(1);
    Status started = StartIncarnation();
    {
      // The failed actor object stays: its operations still waiting on ports
      // resume under the next incarnation (Inbox::HandOverTo) and finish
      // there, releasing what they hold; their answers go nowhere.
      std::lock_guard<std::mutex> lock(mutex_);
      if (current_.inbox && failed_incarnation.inbox && current_.inbox != failed_incarnation.inbox) {
        for (uint64_t call_id : failed_incarnation.inbox->HandOverTo(current_.inbox)) spared_.insert(call_id);
      }
      retired_.push_back(std::move(failed_incarnation));
    }
    if (!started.ok()) spdlog::error("{}: cannot restart the actor: {}", name_, started.message());
    else spdlog::warn("{}: actor restarted (incarnation {})", name_, failed + 1);
    replies_.ActorRestarted(this, failed);
  }

  static caf::behavior Monitor(caf::event_based_actor* self, caf::actor watched, std::weak_ptr<CafHostedActor> host) {
    self->monitor(watched);
    self->set_down_handler([self, host](caf::down_msg& down) {
      if (down.reason && down.reason != caf::exit_reason::user_shutdown) {
        if (auto alive = host.lock()) alive->Restart();
      }
      self->quit();
    });
    return {[](int) {}};  // no messages of its own: it only waits for the down message
  }

  static caf::behavior Behavior(caf::event_based_actor* self, std::shared_ptr<Inbox> inbox,
                                std::shared_ptr<Actor> actor, std::shared_ptr<CafTimers> timers,
                                std::shared_ptr<PublishedLoad> published, std::string name) {
    // A failed actor ends its CAF actor with an error: the monitor restarts it.
    auto fail = [self, name](const std::string& why) {
      spdlog::error("{}: actor failed: {}", name, why);
      self->quit(caf::make_error(caf::sec::runtime_error, why));
    };
    auto checked = [actor, timers, published, fail](auto&& work) {
      try {
        work();
      } catch (const std::exception& e) {
        return fail(std::string("exception: ") + e.what());
      }
      if (Status health = actor->health(); !health.ok()) return fail(health.message());
      published->Publish(*actor, *timers);
    };
    return {
        // Timer expiries arrive between drains, never during one.
        [inbox, actor, timers, checked](timer_atom, uint32_t token, uint32_t generation) {
          if (!timers->Fire(token, generation)) return;
          ExecutorScope scope(inbox);
          checked([&] { actor->OnTimer(token); });
        },
        [self, inbox, actor, checked](drain_atom) {
          std::vector<Inbound> frames;
          std::vector<std::function<void()>> completions;
          if (inbox->Take(&frames, &completions)) {
            ExecutorScope scope(inbox);
            checked([&] {
              for (auto& completion : completions) completion();
              for (Inbound& frame : frames) actor->Receive(std::move(frame));
            });
          }
          if (inbox->MoreWaiting()) self->send(self, drain_atom::value);
        },
    };
  }

  caf::actor_system& system_;
  ReplyQueue& replies_;
  const std::string name_;  // "binding 'docs', object_storage": for logs
  const ActorFactory make_actor_;
  const std::shared_ptr<PublishedLoad> published_ = std::make_shared<PublishedLoad>();
  std::atomic<uint64_t> incarnation_{0};
  std::mutex mutex_;       // guards current_, stopping_ and spared_ (front door, monitor threads)
  Incarnation current_;
  std::vector<Incarnation> retired_;  // failed ones: kept, see Restart
  // Calls a failed incarnation never started, handed to its successor: the
  // front door must not fail them with the failed ones (HandedToSuccessor).
  std::unordered_set<uint64_t> spared_;
  bool stopping_ = false;
  std::vector<Inbound> held_;  // delivered this turn, not yet flushed (front door thread)
};

// An actor whose ports never wait (memory), run to completion on the front
// door thread; it answers into the ReplyQueue's front-door-only outbox. The
// front door's loop runs under its InlineExecutor. A failed actor is replaced
// at once, on the front door thread.
class InlineHostedActor : public HostedActor {
 public:
  InlineHostedActor(FrontDoorTimers* front_door_timers, ReplyQueue& replies, std::string name,
                    ActorFactory make_actor)
      : front_door_timers_(front_door_timers), replies_(replies), name_(std::move(name)),
        make_actor_(std::move(make_actor)) {}

  Status Start() {
    timers_ = std::make_unique<InlineTimers>(front_door_timers_);
    actor_ = make_actor_(timers_.get());
    if (!actor_) return Status::Internal(name_ + ": the service made no actor");
    timers_->set_handler([this, actor = actor_.get()](uint32_t token) {
      if (actor != actor_.get()) return;  // a replaced actor's timer
      try {
        actor->OnTimer(token);
      } catch (const std::exception& e) {
        return Replace(std::string("exception: ") + e.what());
      }
      CheckHealth();
    });
    return Status::Ok();
  }

  void Deliver(Inbound&& frame) override {
    try {
      actor_->Receive(std::move(frame));
    } catch (const std::exception& e) {
      return Replace(std::string("exception: ") + e.what());
    }
    CheckHealth();
  }
  bool runs_inline() const override { return true; }
  uint64_t incarnation() const override { return incarnation_; }
  HostedLoad load() const override {
    const ActorLoad load = actor_->load();
    return {load.open_calls, load.parked_calls, static_cast<uint32_t>(timers_->armed())};
  }

 private:
  void CheckHealth() {
    if (Status health = actor_->health(); !health.ok()) Replace(health.message());
  }
  void Replace(const std::string& why) {
    spdlog::error("{}: actor failed: {}", name_, why);
    // The old actor's operations may still wait on one another: they are
    // dropped with it (no port of an inline actor waits on anything else).
    std::unique_ptr<InlineTimers> old_timers = std::move(timers_);
    std::unique_ptr<Actor> old_actor = std::move(actor_);
    Status started = Start();
    const uint64_t failed = incarnation_++;
    if (!started.ok()) spdlog::error("{}: cannot restart the actor: {}", name_, started.message());
    else spdlog::warn("{}: actor restarted (incarnation {})", name_, incarnation_);
    replies_.ActorRestarted(this, failed);
    retired_.push_back({std::move(old_timers), std::move(old_actor)});
  }

  FrontDoorTimers* front_door_timers_;
  ReplyQueue& replies_;
  const std::string name_;
  const ActorFactory make_actor_;
  std::unique_ptr<InlineTimers> timers_;  // outlives the actor, which holds a pointer to it
  std::unique_ptr<Actor> actor_;
  uint64_t incarnation_ = 0;
  // Replaced actors: kept, not destroyed, since a failure may come from
  // inside one of their own calls still on the stack.
  struct Retired {
    std::unique_ptr<InlineTimers> timers;
    std::unique_ptr<Actor> actor;
  };
  std::vector<Retired> retired_;
};

}  // namespace

BindingHost::~BindingHost() { StopAll(); }

Status BindingHost::Add(const BindingConfig& config, const ProviderRegistry& registry,
                        const HostPorts& ports) {
  Result<BindingInstance> instance = registry.Create(config, ports);
  if (!instance.ok()) return instance.status();
  auto hosted = std::make_unique<HostedBinding>();
  hosted->config = config;
  hosted->config.credentials.clear();  // the providers have what they need; keep no copy
  hosted->instance = std::move(*instance);
  hosted->actors.resize(services_.all().size());
  for (const ServiceDescriptor& service : services_.all()) {
    auto provider = hosted->instance.providers.find(service.name);
    if (provider == hosted->instance.providers.end()) continue;
    std::shared_ptr<HostedActor>& slot = hosted->actors[services_.IndexOf(service)];
    ServiceProvider* provider_of_service = provider->second.get();
    const ServiceDescriptor* descriptor = &service;
    ActorContext context{&clock_, nullptr, nullptr, idempotency_};
    const std::string name = "binding '" + config.name + "', " + service.name;
    if (!hosted->instance.blocking_io && service.runs_inline_over_memory) {
      context.outbox = &replies_.front_door_outbox();
      auto inline_actor = std::make_shared<InlineHostedActor>(
          &front_door_timers_, replies_, name, [descriptor, provider_of_service, context](ports::Timers* timers) {
            ActorContext with_timers = context;
            with_timers.timers = timers;
            return descriptor->make_actor(*provider_of_service, with_timers);
          });
      CK_RETURN_IF_ERROR(inline_actor->Start());
      slot = std::move(inline_actor);
    } else {
      context.outbox = &replies_;
      auto caf_actor = std::make_shared<CafHostedActor>(
          system_, replies_, name, [descriptor, provider_of_service, context](ports::Timers* timers) {
            ActorContext with_timers = context;
            with_timers.timers = timers;
            return descriptor->make_actor(*provider_of_service, with_timers);
          });
      CK_RETURN_IF_ERROR(caf_actor->Start());
      slot = std::move(caf_actor);
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
