// The actor serving the KeyValue service of one binding. Each call is an
// operation of its own (services/operation_actor): it takes its place in its
// client's order on its keys (reads share a key, writes hold it), runs the
// provider's coroutine and replies. All calls are unary. Durable puts
// that overlap share one sync: the store commits the writes waiting for it
// together (group commit, see ports/ordered_store.h).
// Given a Timers port, the actor also sweeps expired items out of storage:
// one pass shortly after it starts, then one at each known expiry (passes at
// most once a second, and ten times their own duration apart), in bounded
// steps between requests; no timer is armed while nothing is due to expire.
#pragma once

#include <string>
#include <vector>

#include "ports/clock.h"
#include "ports/timers.h"
#include "services/key_value_provider.h"
#include "services/operation_actor.h"
#include "services/service_descriptor.h"

namespace cloudkit {

class KeyValueActor : public OperationActor {
 public:
  // The provider, clock, outbox and timers must outlive the actor. Without
  // timers, expired items are only hidden (and removed when next written).
  KeyValueActor(KeyValueProvider* provider, ports::Clock* clock, Outbox* outbox, ports::Timers* timers = nullptr);
  ~KeyValueActor() override { EndOperations(); }

  void OnTimer(uint32_t token) override;

  // The KeyValue service: "key_value", cloudkit.v1.KeyValue, this actor.
  static ServiceDescriptor Descriptor();
  static constexpr char kServicePrefix[] = "cloudkit.v1.KeyValue/";

  static constexpr uint32_t kSweepTimer = 1;
  static constexpr size_t kSweepStepItems = 512;   // examined per step
  static constexpr int64_t kSweepStepGapMs = 2;    // between the steps of a pass: requests go first
  static constexpr int64_t kFirstSweepMs = 1000;   // after start: items stored before it may have expired
  // Between the starts of two passes: at least this long, and at least
  // kSweepSpacing times as long as the last pass took, so that sweeping a
  // large store stays a small share of the actor's time.
  static constexpr int64_t kSweepIntervalMs = 1000;
  static constexpr int64_t kSweepSpacing = 10;
  static constexpr int64_t kSweepRetryMs = 10'000;   // after a failed step

 protected:
  Task<void> Start(Call& call, Inbound& request) override;

 private:
  using Handler = Task<void> (KeyValueActor::*)(Call&, Inbound&);
  struct Method {
    const char* name;
    Handler handler;
  };
  // Every method, in proto order: the one table Start and Descriptor read.
  static const std::vector<Method>& Methods();
  template <typename Req, typename Resp, Task<Result<Resp>> (KeyValueProvider::*Method)(const Req&),
            std::vector<KeyLocks::Key> (*Keys)(const Req&)>
  Task<void> Unary(Call& call, Inbound& request);
  void AfterUnary() override { NoteNewExpiries(); }
  Task<void> SweepStep();
  // Makes sure a sweep starts by `at_ms` (absolute; 0 = nothing to do).
  void SweepBy(int64_t at_ms);
  void NoteNewExpiries();

  KeyValueProvider* provider_;
  ports::Timers* timers_;
  int64_t sweep_at_ms_ = 0;          // when the armed sweep timer fires; 0 = not armed
  bool sweep_running_ = false;       // a step is under way (it may wait on storage)
  bool sweep_in_pass_ = false;       // steps of a pass are under way
  int64_t pass_started_ms_ = 0;
  int64_t last_pass_ms_ = 0;         // how long the last complete pass took
  int64_t expiry_during_pass_ = 0;   // earliest expiry written while the pass ran
};

}  // namespace cloudkit
