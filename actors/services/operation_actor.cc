#include "services/operation_actor.h"

#include <exception>
#include <utility>

#include "core/resume.h"
#include "providers/names.h"

namespace cloudkit {

OperationActor::~OperationActor() { EndOperations(); }

void OperationActor::EndOperations() {
  // The host drops the completions of a stopped actor, so what still waits
  // would never resume: its frames are destroyed here instead, and nothing
  // they release resumes anything meanwhile (core/resume.h).
  std::vector<coro::coroutine_handle<>> roots;
  roots.reserve(calls_.size() + owned_.size());
  for (auto& [id, call] : calls_) {
    call->cancelled_ = true;
    call->answered_ = true;
    roots.push_back(call->root_);
  }
  calls_.clear();
  for (auto& [id, root] : owned_) roots.push_back(root);
  owned_.clear();
  EndingOperationsScope ending;
  for (coro::coroutine_handle<> root : roots) root.destroy();
}

void OperationActor::Spawn(Task<void> task) {
  const uint64_t id = next_owned_++;
  bool finished = false;
  coro::coroutine_handle<> root = Detach(RunOwned(std::move(task), id, &finished));
  if (!finished) owned_.emplace(id, root);
}

Task<void> OperationActor::RunOwned(Task<void> task, uint64_t id, bool* finished) {
  co_await std::move(task);
  if (owned_.erase(id) == 0) *finished = true;  // still inside Spawn: never listed
}

std::optional<Inbound> OperationActor::Call::NextFrame::await_resume() {
  if (call->cancelled_) return std::nullopt;
  Inbound frame = std::move(call->frames_[call->next_frame_++]);
  if (call->next_frame_ == call->frames_.size()) {  // all taken: reuse the space
    call->frames_.clear();
    call->next_frame_ = 0;
  }
  return frame;
}

void OperationActor::Receive(Inbound&& in) {
  if (in.kind == v1::REQUEST) {
    Status on_time = frames::CheckDeadline(in, *clock_);
    if (!on_time.ok()) return outbox_->Send(frames::Error(in.call_id, on_time));
    if (calls_.count(in.call_id)) return;  // the host never reuses an open call's id
    // Most calls (every one over memory) finish right here: only those still
    // running afterwards enter calls_, where stream frames and cancels find them.
    Call* call = nullptr;
    bool finished = false;
    coro::coroutine_handle<> root = Detach(Run(std::move(in), &call, &finished));
    if (!finished) {
      call->registered_ = true;
      call->root_ = root;
      calls_.emplace(call->id_, call);
    }
    return;
  }
  auto it = calls_.find(in.call_id);
  if (it == calls_.end()) return;  // the call ended already: late stream frames are expected
  Call& call = *it->second;
  switch (in.kind) {
    case v1::DATA:
      if (call.input_ended_) return;
      if (call.data_allowed_ == 0) {
        Fail(call, Status::OverLimit("DATA frame beyond the credit granted to call " + call.method()));
        call.cancelled_ = true;
      } else {
        call.data_allowed_--;
        call.input_ended_ = in.end_of_stream;
        call.frames_.push_back(std::move(in));
      }
      break;
    case v1::CREDIT:
      call.frames_.push_back(std::move(in));
      break;
    case v1::CANCEL:
      call.cancelled_ = true;
      call.answered_ = true;  // the host forgot the call: send nothing more
      break;
    default:
      return;
  }
  Wake(call);
}

void OperationActor::Wake(Call& call) {
  if (auto waiter = std::exchange(call.waiter_, nullptr)) waiter.resume();
}

Task<void> OperationActor::Run(Inbound request, Call** started, bool* finished) {
  Call call;
  call.id_ = request.call_id;
  call.method_ = &request.method;
  *started = &call;
  try {
    bool answered_before = false;
    if (!request.idempotency_key.empty()) answered_before = co_await AnswerFromEarlierCall(call, request);
    if (!answered_before) co_await Start(call, request);
    if (!call.answered_) Fail(call, Status::Internal(request.method + " ended without an answer"));
  } catch (const std::exception& e) {
    // A provider bug costs its call and a restart of the actor, never the daemon.
    Status crashed = Status::Internal(request.method + " threw: " + e.what());
    if (!call.answered_) Fail(call, crashed);
    if (health_.ok()) health_ = crashed;
  }
  if (call.idempotency_key_ != nullptr) {
    // Ended sending nothing (cancelled mid-stream, or it threw): the outcome
    // is open, so the key is too.
    Outbound unsettled = frames::Error(call.id_, Status::Internal(request.method + " ended without an answer"));
    for (coro::coroutine_handle<> waiter :
         idempotent_.Finish(*std::exchange(call.idempotency_key_, nullptr), unsettled, clock_->NowMs())) {
      waiter.resume();
    }
  }
  if (call.registered_) {
    calls_.erase(call.id_);
  } else {
    *finished = true;  // still inside Receive: its locals are alive
  }
}

Task<void> OperationActor::FailWith(Call& call, Status status) {
  Fail(call, status);
  co_return;
}

void OperationActor::Send(Call& call, Outbound&& frame) {
  // Kept whether or not the client still listens: a call cancelled by its
  // deadline may have taken effect, and its retry must learn how.
  std::vector<coro::coroutine_handle<>> retries;
  if (call.idempotency_key_ != nullptr) {
    retries = idempotent_.Finish(*std::exchange(call.idempotency_key_, nullptr), frame, clock_->NowMs());
  }
  if (!call.answered_) {
    if (frame.ends_call) call.answered_ = true;
    outbox_->Send(std::move(frame));
  }
  for (coro::coroutine_handle<> retry : retries) retry.resume();
}

Task<bool> OperationActor::AnswerFromEarlierCall(Call& call, const Inbound& request) {
  const std::string& key = request.idempotency_key;
  if (!idempotent_.enabled()) co_return false;
  if (key.size() > IdempotentCalls::kMaxKeyBytes) {
    Fail(call, Status::InvalidArgument("idempotency key of " + std::to_string(key.size()) + " bytes (at most " +
                                       std::to_string(IdempotentCalls::kMaxKeyBytes) + ")"));
    co_return true;
  }
  const uint64_t fingerprint = IdempotentCalls::Fingerprint(request.method, request.body);
  while (true) {
    IdempotentCalls::Lookup found = idempotent_.Begin(key, fingerprint, clock_->NowMs());
    switch (found.state) {
      case IdempotentCalls::State::kNew:
        call.idempotency_key_ = &key;
        co_return false;
      case IdempotentCalls::State::kConflict:
        Fail(call, Status::InvalidArgument("idempotency key " + names::Quote(key) +
                                           " was used for a different request within the last " +
                                           std::to_string(idempotent_.window_ms() / 1000) + " s"));
        co_return true;
      case IdempotentCalls::State::kAnswered: {
        Outbound answer = *found.answer;
        answer.call_id = call.id_;
        Send(call, std::move(answer));
        co_return true;
      }
      case IdempotentCalls::State::kRunning:
        co_await idempotent_.Finished(key);  // then look again: it may have left the key open
        break;
    }
  }
}

void OperationActor::GrantData(Call& call, uint32_t credits) {
  call.data_allowed_ += credits;
  Send(call, frames::Credit(call.id_, credits));
}

std::unique_ptr<KeyLocks::Ticket> OperationActor::OrderFor(const Inbound& request, std::vector<KeyLocks::Key> keys) {
  // Mixed with the client, so other clients' calls are other keys.
  const uint64_t client = request.client * 0x9E3779B97F4A7C15ull;
  for (KeyLocks::Key& key : keys) key.id ^= client + 0x7F4A7C15u + (key.id << 6) + (key.id >> 2);
  return client_order_.Acquire(std::move(keys));
}

void OperationActor::Fail(Call& call, const Status& status) { Send(call, frames::Error(call.id_, status)); }

}  // namespace cloudkit
