#include "services/key_value_actor.h"

#include <algorithm>
#include <exception>
#include <string_view>
#include <unordered_map>

#include "services/call_frames.h"

namespace cloudkit {
namespace {

using Handler = Outbound (*)(KeyValueProvider&, const Inbound&);

template <typename Req, typename Resp, Result<Resp> (KeyValueProvider::*Method)(const Req&)>
Outbound Unary(KeyValueProvider& provider, const Inbound& in) {
  Req req;
  Status decoded = frames::Decode(in, &req);
  if (!decoded.ok()) return frames::Error(in.call_id, decoded);
  return frames::Reply(in.call_id, (provider.*Method)(req));
}

const std::unordered_map<std::string_view, Handler>& Handlers() {
  using P = KeyValueProvider;
  static const std::unordered_map<std::string_view, Handler> handlers = {
      {"Get", &Unary<v1::GetRequest, v1::GetResponse, &P::Get>},
      {"Put", &Unary<v1::PutRequest, v1::PutResponse, &P::Put>},
      {"Delete", &Unary<v1::DeleteRequest, v1::DeleteResponse, &P::Delete>},
      {"Exists", &Unary<v1::ExistsRequest, v1::ExistsResponse, &P::Exists>},
      {"List", &Unary<v1::ListRequest, v1::ListResponse, &P::List>},
      {"BatchGet", &Unary<v1::BatchGetRequest, v1::BatchGetResponse, &P::BatchGet>},
      {"BatchPut", &Unary<v1::BatchPutRequest, v1::BatchPutResponse, &P::BatchPut>},
  };
  return handlers;
}

// The earlier of two absolute times where 0 means "none".
int64_t EarlierOf(int64_t a, int64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

}  // namespace

KeyValueActor::KeyValueActor(KeyValueProvider* provider, ports::Clock* clock, Outbox* outbox, ports::Timers* timers)
    : provider_(provider), clock_(clock), outbox_(outbox), timers_(timers) {
  SweepBy(clock_->NowMs() + kFirstSweepMs);
}

void KeyValueActor::Receive(Inbound&& in) {
  Handle(std::move(in));
  NoteNewExpiries();
}

void KeyValueActor::Handle(Inbound&& in) {
  // Every KeyValue call is unary: DATA, CREDIT and CANCEL frames have nothing to act on.
  if (in.kind != v1::REQUEST) return;
  Status on_time = frames::CheckDeadline(in, *clock_);
  if (!on_time.ok()) return outbox_->Send(frames::Error(in.call_id, on_time));

  std::string_view method(in.method);
  std::string_view prefix(kServicePrefix);
  auto handler = method.starts_with(prefix) ? Handlers().find(method.substr(prefix.size()))
                                            : Handlers().end();
  if (handler == Handlers().end()) {
    return outbox_->Send(frames::Error(in.call_id, Status::Unimplemented("method " + in.method)));
  }
  try {
    outbox_->Send(handler->second(*provider_, in));
  } catch (const std::exception& e) {
    // A provider bug must cost one call, never the daemon.
    outbox_->Send(frames::Error(in.call_id, Status::Internal(in.method + ": " + e.what())));
  }
}

void KeyValueActor::ReceiveAll(std::vector<Inbound>&& frames) {
  static const std::string kPutMethod = std::string(kServicePrefix) + "Put";
  std::vector<PendingPut> pending;
  for (Inbound& in : frames) {
    if (in.kind == v1::REQUEST && in.method == kPutMethod && frames::CheckDeadline(in, *clock_).ok()) {
      PendingPut put{in.call_id, {}};
      if (frames::Decode(in, &put.request).ok() && !put.request.if_absent() && put.request.if_match().empty()) {
        pending.push_back(std::move(put));
        continue;
      }
    }
    CommitPuts(&pending);  // earlier puts land before this frame is handled
    Handle(std::move(in));
  }
  CommitPuts(&pending);
  NoteNewExpiries();
}

void KeyValueActor::CommitPuts(std::vector<PendingPut>* pending) {
  if (pending->empty()) return;
  std::vector<const v1::PutRequest*> requests;
  requests.reserve(pending->size());
  for (const PendingPut& put : *pending) requests.push_back(&put.request);
  std::vector<Result<v1::PutResponse>> results;
  try {
    results = provider_->PutGroup(requests);
  } catch (const std::exception& e) {
    results.assign(pending->size(), Status::Internal(std::string(kServicePrefix) + "Put: " + e.what()));
  }
  for (size_t i = 0; i < pending->size(); ++i) {
    outbox_->Send(i < results.size() ? frames::Reply((*pending)[i].call_id, results[i])
                                     : frames::Error((*pending)[i].call_id, Status::Internal("no result for put")));
  }
  pending->clear();
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
  timers_->Arm(kSweepTimer, at_ms - clock_->NowMs());
}

void KeyValueActor::OnTimer(uint32_t token) {
  if (token != kSweepTimer || !timers_) return;
  const int64_t now = clock_->NowMs();
  sweep_at_ms_ = 0;
  if (!sweep_in_pass_) {
    sweep_in_pass_ = true;
    pass_started_ms_ = now;
    expiry_during_pass_ = 0;
  }
  Result<KeyValueProvider::SweepStep> step = Status::Internal("sweep did not run");
  try {
    step = provider_->SweepExpired(kSweepStepItems);
  } catch (const std::exception& e) {
    step = Status::Internal(std::string("sweeping expired items: ") + e.what());
  }
  // A failed step (storage trouble) is retried later, from where the pass stood.
  const int64_t again_in = !step.ok() ? kSweepRetryMs : !step->pass_complete ? kSweepStepGapMs : 0;
  if (again_in != 0) {
    sweep_at_ms_ = now + again_in;
    timers_->Arm(kSweepTimer, again_in);
    return;
  }
  sweep_in_pass_ = false;
  last_pass_ms_ = now - pass_started_ms_;
  SweepBy(EarlierOf(step->next_expiry_ms, expiry_during_pass_));
}

}  // namespace cloudkit
