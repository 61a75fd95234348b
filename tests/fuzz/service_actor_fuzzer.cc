// Fuzzes one service actor's handling of what clients send it, over the
// memory provider: CLOUDKIT_FUZZ_SERVICE names the service. Each input is a
// script (service_steps.h) of frames a host could deliver — requests of any
// of the service's methods with any body, stream frames, cancels — with
// clock moves that fire the actor's timers, run against a fresh binding.
// Beyond what the sanitizers catch, it checks what hosts rely on: the
// provider never throws (the actor stays healthy), and once every call is
// cancelled no operation is left open.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "core/executor.h"
#include "core/protobuf_log.h"
#include "fuzz_script.h"
#include "ports/clock.h"
#include "ports/openssl_hash.h"
#include "providers/builtin_providers.h"
#include "services/service_descriptor.h"
#include "service_steps.h"
#include "support/manual_host.h"

namespace cloudkit::fuzz {
namespace {

// Port completions, run between steps as the host's turns would.
class QueuedExecutor : public Executor {
 public:
  void Post(std::function<void()> fn) override { posted_.push_back(std::move(fn)); }
  void RunAll() {
    while (!posted_.empty()) {
      std::function<void()> fn = std::move(posted_.front());
      posted_.pop_front();
      fn();
    }
  }

 private:
  std::deque<std::function<void()>> posted_;
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz check failed: %s\n", what.c_str());
  std::abort();
}

struct Registries {
  Registries() {
    RouteProtobufLog(nullptr);  // a line per malformed string would be most of the run's time
    RegisterBuiltinProviders(&providers);
    RegisterBuiltinServices(&services);
    service = services.Find(CLOUDKIT_FUZZ_SERVICE);
    if (!service) Fail("no service named " CLOUDKIT_FUZZ_SERVICE);
  }
  ProviderRegistry providers;
  ServiceRegistry services;
  const ServiceDescriptor* service = nullptr;
  OpenSslHashPort hash;
};

// One binding's actor of the service, driven as its host would drive it.
class ActorDriver {
 public:
  explicit ActorDriver(Registries& registries)
      : registries_(registries), executor_(std::make_shared<QueuedExecutor>()), scope_(executor_) {
    HostPorts ports;
    ports.clock = &clock_;
    ports.hash = &registries.hash;
    BindingConfig binding;
    binding.name = "fuzz";
    binding.provider = "memory";
    binding.services = {registries.service->name};
    Result<BindingInstance> instance = registries.providers.Create(binding, ports);
    if (!instance.ok()) Fail("memory binding: " + instance.status().message());
    instance_ = std::move(*instance);
    provider_ = instance_.providers.at(registries.service->name).get();
    timers_ = std::make_unique<testing_util::ManualTimers>(&clock_);
    actor_ = registries.service->make_actor(*provider_, {&clock_, &outbox_, timers_.get(), {60'000, 1 << 20}});
    if (!actor_) Fail("no actor for " CLOUDKIT_FUZZ_SERVICE);
  }
  ~ActorDriver() {
    actor_.reset();  // before the provider it uses
    executor_->RunAll();
  }

  void Run(ScriptReader& script) {
    const auto& methods = registries_.service->methods;
    while (!script.done()) {
      const uint8_t step = script.Byte() % kServiceStepCount;
      if (step == kAdvanceClock) {
        clock_.Advance(int64_t{script.U16()} * 16);
        ExpireDeadlines();
        Settle();
        continue;
      }
      OpenCall& call = calls_[script.Byte() % kCallSlots];
      Inbound in;
      if (step == kRequest) {
        const MethodDescriptor& method = methods[script.Byte() % methods.size()];
        in.credits = script.Byte();
        const uint8_t flags = script.Byte();
        in.body = std::string(script.Bytes());
        if (call.id != 0) continue;  // a host never gives a new call an id in use
        call.id = next_call_id_++;
        call.deadline_ms = (flags & kFlagDeadline) ? clock_.NowMs() + 1000 : 0;
        in.method = registries_.service->proto_service + "/" + method.name;
        in.client = 1;
        in.deadline_ms = call.deadline_ms;
        if (flags & kFlagFirst) in.idempotency_key = "retry-" + std::to_string(call.id % 3);
      } else if (step == kData) {
        in.kind = v1::DATA;
        in.end_of_stream = script.Byte() & kFlagFirst;
        in.body = std::string(script.Bytes());
      } else if (step == kCredit) {
        in.kind = v1::CREDIT;
        in.credits = script.Byte();
      } else {
        in.kind = v1::CANCEL;
      }
      if (call.id == 0) continue;  // the host drops frames of calls that ended
      in.call_id = call.id;
      if (in.kind == v1::CANCEL) call = {};  // the host forgets the call as it tells the actor
      Deliver(std::move(in));
    }
    // Every client goes away: nothing may stay open.
    for (OpenCall& call : calls_) {
      if (call.id != 0) Cancel(call);
    }
    const ActorLoad load = actor_->load();
    if (load.open_calls != 0 || load.parked_calls != 0) {
      Fail("after every call was cancelled the actor holds " + std::to_string(load.open_calls) + " open, " +
           std::to_string(load.parked_calls) + " parked");
    }
  }

 private:
  struct OpenCall {
    uint64_t id = 0;  // 0: free
    int64_t deadline_ms = 0;
  };

  void Deliver(Inbound&& in) {
    actor_->Receive(std::move(in));
    Settle();
  }

  void Cancel(OpenCall& call) {
    Inbound in;
    in.call_id = call.id;
    in.kind = v1::CANCEL;
    call = {};
    Deliver(std::move(in));
  }

  // The host ends calls whose deadline passed and tells their actor.
  void ExpireDeadlines() {
    for (OpenCall& call : calls_) {
      if (call.id != 0 && call.deadline_ms != 0 && call.deadline_ms <= clock_.NowMs()) Cancel(call);
    }
  }

  // Runs what the ports posted and the timers that are due (one armed with
  // no delay fires on the actor's next turn), then takes the actor's frames
  // as the host does: a frame that ends its call frees the call's slot.
  void Settle() {
    executor_->RunAll();
    for (uint32_t token; timers_->TakeDue(&token);) {
      actor_->OnTimer(token);
      executor_->RunAll();
    }
    if (Status health = actor_->health(); !health.ok()) Fail("actor unhealthy: " + health.message());
    for (const Outbound& frame : outbox_.frames) {
      if (!frame.ends_call) continue;
      for (OpenCall& call : calls_) {
        if (call.id == frame.call_id) call = {};
      }
    }
    outbox_.frames.clear();
  }

  Registries& registries_;
  ports::ManualClock clock_;
  std::shared_ptr<QueuedExecutor> executor_;
  ExecutorScope scope_;
  BindingInstance instance_;
  ServiceProvider* provider_ = nullptr;
  testing_util::RecordingOutbox outbox_;
  std::unique_ptr<testing_util::ManualTimers> timers_;
  std::unique_ptr<Actor> actor_;
  OpenCall calls_[kCallSlots];
  uint64_t next_call_id_ = 1;
};

}  // namespace
}  // namespace cloudkit::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static cloudkit::fuzz::Registries registries;
  cloudkit::fuzz::ScriptReader script(data, size);
  cloudkit::fuzz::ActorDriver driver(registries);
  driver.Run(script);
  return 0;
}
