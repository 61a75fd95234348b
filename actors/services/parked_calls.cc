#include "services/parked_calls.h"

namespace cloudkit {

void ParkedCalls::Enlist(Waiter* waiter) {
  if (!waiter->key.empty()) {
    std::list<Waiter*>& waiting = by_key_[waiter->key];
    waiter->in_key = waiting.insert(waiting.end(), waiter);
  }
  waiter->by_time = waiter->wake_at_ms == 0 ? by_wake_time_.end() : by_wake_time_.emplace(waiter->wake_at_ms, waiter);
  by_call_[waiter->call_id] = waiter;
  ArmWaitTimer();
}

void ParkedCalls::Delist(Waiter* waiter) {
  if (!waiter->key.empty()) {
    auto waiting = by_key_.find(waiter->key);
    waiting->second.erase(waiter->in_key);
    if (waiting->second.empty()) by_key_.erase(waiting);
  }
  if (waiter->by_time != by_wake_time_.end()) by_wake_time_.erase(waiter->by_time);
  by_call_.erase(waiter->call_id);
}

void ParkedCalls::WakeSoon(Waiter* waiter) {
  Delist(waiter);
  ArmWaitTimer();
  ready_.push_back(waiter);
  if (!ready_armed_) {
    ready_armed_ = true;
    timers_->Arm(ready_token_, 0);
  }
}

void ParkedCalls::WakeCall(uint64_t call_id) {
  if (auto it = by_call_.find(call_id); it != by_call_.end()) WakeSoon(it->second);
}

void ParkedCalls::WakeOldest(const std::string& key) {
  if (auto it = by_key_.find(key); it != by_key_.end()) WakeSoon(it->second.front());
}

void ParkedCalls::Arrived(const std::string& key, int64_t at_ms) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return;
  if (at_ms <= clock_->NowMs()) return WakeSoon(it->second.front());
  for (Waiter* waiter : it->second) {
    if (waiter->wake_at_ms != 0 && waiter->wake_at_ms <= at_ms) continue;
    if (waiter->by_time != by_wake_time_.end()) by_wake_time_.erase(waiter->by_time);
    waiter->wake_at_ms = at_ms;
    waiter->by_time = by_wake_time_.emplace(at_ms, waiter);
  }
  ArmWaitTimer();
}

void ParkedCalls::ArmWaitTimer() {
  const int64_t earliest = by_wake_time_.empty() ? 0 : by_wake_time_.begin()->first;
  if (earliest == wait_timer_at_) return;
  wait_timer_at_ = earliest;
  if (earliest == 0) {
    timers_->Disarm(wait_token_);
  } else {
    timers_->Arm(wait_token_, earliest - clock_->NowMs());
  }
}

bool ParkedCalls::OnTimer(uint32_t token) {
  std::vector<Waiter*> due;
  if (token == ready_token_) {
    ready_armed_ = false;
    due.swap(ready_);
  } else if (token == wait_token_) {
    wait_timer_at_ = 0;
    const int64_t now = clock_->NowMs();
    while (!by_wake_time_.empty() && by_wake_time_.begin()->first <= now) {
      Waiter* waiter = by_wake_time_.begin()->second;
      Delist(waiter);
      due.push_back(waiter);
    }
    ArmWaitTimer();
  } else {
    return false;
  }
  for (Waiter* waiter : due) waiter->handle.resume();
  return true;
}

}  // namespace cloudkit
