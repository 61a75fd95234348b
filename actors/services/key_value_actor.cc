#include "services/key_value_actor.h"

#include <algorithm>
#include <exception>
#include <string_view>
#include <unordered_map>

#include "services/call_frames.h"

namespace cloudkit {
namespace {

using Keys = std::vector<KeyLocks::Key>;

std::string ItemLock(const std::string& table, const std::string& key) { return table + '\0' + key; }

template <typename Req>
Keys ReadsKey(const Req& req) { return {{ItemLock(req.table(), req.key()), false}}; }
template <typename Req>
Keys WritesKey(const Req& req) { return {{ItemLock(req.table(), req.key()), true}}; }
Keys NoKeys(const v1::ListRequest&) { return {}; }
Keys BatchGetKeys(const v1::BatchGetRequest& req) {
  Keys keys;
  for (const std::string& key : req.keys()) keys.push_back({ItemLock(req.table(), key), false});
  return keys;
}
Keys BatchPutKeys(const v1::BatchPutRequest& req) {
  Keys keys;
  for (const auto& entry : req.entries()) keys.push_back({ItemLock(req.table(), entry.key()), true});
  return keys;
}

// The earlier of two absolute times where 0 means "none".
int64_t EarlierOf(int64_t a, int64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

}  // namespace

KeyValueActor::KeyValueActor(KeyValueProvider* provider, ports::Clock* clock, Outbox* outbox, ports::Timers* timers)
    : OperationActor(clock, outbox), provider_(provider), timers_(timers) {
  SweepBy(clock->NowMs() + kFirstSweepMs);
}

template <typename Req, typename Resp, Task<Result<Resp>> (KeyValueProvider::*Method)(const Req&),
          std::vector<KeyLocks::Key> (*KeysOf)(const Req&)>
Task<void> KeyValueActor::Unary(Call& call, Inbound& in) {
  return RunUnary<Req>(call, in, KeysOf, [this](const Req& req) { return (provider_->*Method)(req); });
}

const std::vector<KeyValueActor::Method>& KeyValueActor::Methods() {
  using P = KeyValueProvider;
  using A = KeyValueActor;
  static const std::vector<Method> methods = {
      {"Get", &A::Unary<v1::GetRequest, v1::GetResponse, &P::Get, &ReadsKey<v1::GetRequest>>},
      {"Put", &A::Unary<v1::PutRequest, v1::PutResponse, &P::Put, &WritesKey<v1::PutRequest>>},
      {"Delete", &A::Unary<v1::DeleteRequest, v1::DeleteResponse, &P::Delete, &WritesKey<v1::DeleteRequest>>},
      {"Exists", &A::Unary<v1::ExistsRequest, v1::ExistsResponse, &P::Exists, &ReadsKey<v1::ExistsRequest>>},
      {"List", &A::Unary<v1::ListRequest, v1::ListResponse, &P::List, &NoKeys>},
      {"BatchGet", &A::Unary<v1::BatchGetRequest, v1::BatchGetResponse, &P::BatchGet, &BatchGetKeys>},
      {"BatchPut", &A::Unary<v1::BatchPutRequest, v1::BatchPutResponse, &P::BatchPut, &BatchPutKeys>},
  };
  return methods;
}

ServiceDescriptor KeyValueActor::Descriptor() {
  ServiceDescriptor service;
  service.name = "key_value";
  service.proto_service = "cloudkit.v1.KeyValue";
  for (const Method& method : Methods()) service.methods.push_back({method.name, /*streams=*/false});
  service.runs_inline_over_memory = true;
  service.make_actor = [](ServiceProvider& provider, const ActorContext& context) -> std::unique_ptr<Actor> {
    auto* key_value = dynamic_cast<KeyValueProvider*>(&provider);
    if (!key_value) return nullptr;
    return std::make_unique<KeyValueActor>(key_value, context.clock, context.outbox, context.timers);
  };
  return service;
}

Task<void> KeyValueActor::Start(Call& call, Inbound& in) {
  return Dispatch(this, Methods(), kServicePrefix, call, in);
}

void KeyValueActor::NoteNewExpiries() {
  if (timers_) SweepBy(provider_->TakeNewExpiry());
}

void KeyValueActor::SweepBy(int64_t at_ms) {
  if (!timers_ || at_ms == 0) return;
  if (sweep_in_pass_) {  // the pass may already be past this item: decide when it ends
    expiry_during_pass_ = EarlierOf(expiry_during_pass_, at_ms);
    return;
  }
  at_ms = std::max(at_ms, pass_started_ms_ + std::max(kSweepIntervalMs, kSweepSpacing * last_pass_ms_));
  if (sweep_at_ms_ != 0 && sweep_at_ms_ <= at_ms) return;
  sweep_at_ms_ = at_ms;
  timers_->Arm(kSweepTimer, at_ms - clock().NowMs());
}

void KeyValueActor::OnTimer(uint32_t token) {
  if (token != kSweepTimer || !timers_ || sweep_running_) return;
  sweep_at_ms_ = 0;
  Spawn(SweepStep());
}

Task<void> KeyValueActor::SweepStep() {
  sweep_running_ = true;
  if (!sweep_in_pass_) {
    sweep_in_pass_ = true;
    pass_started_ms_ = clock().NowMs();
    expiry_during_pass_ = 0;
  }
  Result<KeyValueProvider::SweepStep> step = Status::Internal("sweep did not run");
  try {
    step = co_await provider_->SweepExpired(kSweepStepItems);
  } catch (const std::exception& e) {
    step = Status::Internal(std::string("sweeping expired items: ") + e.what());
  }
  sweep_running_ = false;
  const int64_t now = clock().NowMs();
  // A failed step (storage trouble) is retried later, from where the pass stood.
  const int64_t again_in = !step.ok() ? kSweepRetryMs : !step->pass_complete ? kSweepStepGapMs : 0;
  if (again_in != 0) {
    sweep_at_ms_ = now + again_in;
    timers_->Arm(kSweepTimer, again_in);
    co_return;
  }
  sweep_in_pass_ = false;
  last_pass_ms_ = now - pass_started_ms_;
  SweepBy(EarlierOf(step->next_expiry_ms, expiry_during_pass_));
}

}  // namespace cloudkit
