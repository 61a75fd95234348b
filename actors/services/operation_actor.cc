#include "services/operation_actor.h"

#include <exception>
#include <utility>

namespace cloudkit {

OperationActor::~OperationActor() {
  // Operations still waiting on a port when the host stops the actor are
  // never resumed: the host drops the completions of a stopped actor.
  for (auto& [id, call] : calls_) call->cancelled_ = true;
}

std::optional<Inbound> OperationActor::Call::NextFrame::await_resume() {
  if (call->cancelled_) return std::nullopt;
  Inbound frame = std::move(call->frames_.front());
  call->frames_.pop_front();
  return frame;
}

void OperationActor::Receive(Inbound&& in) {
  if (in.kind == v1::REQUEST) {
    Status on_time = frames::CheckDeadline(in, *clock_);
    if (!on_time.ok()) return outbox_->Send(frames::Error(in.call_id, on_time));
    auto [it, fresh] = calls_.try_emplace(in.call_id);
    if (!fresh) return;  // the host never reuses an open call's id
    it->second = std::make_unique<Call>();
    Call* call = it->second.get();
    call->id_ = in.call_id;
    call->method_ = in.method;
    Detach(Run(call, std::move(in)));
    return;
  }
  auto it = calls_.find(in.call_id);
  if (it == calls_.end()) return;  // the call ended already: late stream frames are expected
  Call& call = *it->second;
  switch (in.kind) {
    case v1::DATA:
      if (call.data_allowed_ == 0) {
        Fail(call, Status::ResourceExhausted("DATA frame beyond the credit granted to call " + call.method_));
        call.cancelled_ = true;
      } else {
        call.data_allowed_--;
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

Task<void> OperationActor::Run(Call* call, Inbound request) {
  try {
    co_await Start(*call, request);
    if (!call->answered_) Fail(*call, Status::Internal(call->method_ + " ended without an answer"));
  } catch (const std::exception& e) {
    // A provider bug must cost one call, never the daemon.
    if (!call->answered_) Fail(*call, Status::Internal(call->method_ + ": " + e.what()));
  }
  calls_.erase(call->id_);
}

void OperationActor::Send(Call& call, Outbound&& frame) {
  if (call.answered_) return;
  if (frame.ends_call) call.answered_ = true;
  outbox_->Send(std::move(frame));
}

void OperationActor::GrantData(Call& call, uint32_t credits) {
  call.data_allowed_ += credits;
  Send(call, frames::Credit(call.id_, credits));
}

std::unique_ptr<KeyLocks::Ticket> OperationActor::OrderFor(const Inbound& request, std::vector<KeyLocks::Key> keys) {
  const std::string client = std::to_string(request.client) + '|';
  for (KeyLocks::Key& key : keys) key.name.insert(0, client);
  return client_order_.Acquire(std::move(keys));
}

void OperationActor::Fail(Call& call, const Status& status) { Send(call, frames::Error(call.id_, status)); }

}  // namespace cloudkit
