#include "daemon/actor_timers.h"

#include <algorithm>

#include <caf/send.hpp>

namespace cloudkit {
namespace {

using SteadyClock = std::chrono::steady_clock;

SteadyClock::duration Delay(int64_t delay_ms) { return std::chrono::milliseconds(std::max<int64_t>(delay_ms, 0)); }

}  // namespace

void CafTimers::Attach(caf::actor handle) {
  handle_ = std::move(handle);
  const SteadyClock::time_point now = SteadyClock::now();
  for (const Early& early : early_) {
    caf::delayed_anon_send(handle_, std::max(early.due - now, SteadyClock::duration::zero()), timer_atom::value,
                           early.token, early.generation);
  }
  early_.clear();
}

void CafTimers::Arm(uint32_t token, int64_t delay_ms) {
  const uint32_t generation = generations_.Next(token);
  armed_.insert(token);
  if (!handle_) {
    early_.push_back({token, generation, SteadyClock::now() + Delay(delay_ms)});
    return;
  }
  caf::delayed_anon_send(handle_, Delay(delay_ms), timer_atom::value, token, generation);
}

int FrontDoorTimers::WaitMs() const {
  if (due_.empty()) return -1;
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(due_.begin()->first - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(wait, 0, 60'000));
}

void FrontDoorTimers::FireDue() {
  const SteadyClock::time_point now = SteadyClock::now();
  while (!due_.empty() && due_.begin()->first <= now) {
    Pending pending = due_.begin()->second;
    due_.erase(due_.begin());
    pending.timers->armed_.erase(pending.token);
    // OnTimer may arm again (and so insert into due_): nothing is held across it.
    if (pending.timers->handler_) pending.timers->handler_(pending.token);
  }
}

void InlineTimers::Arm(uint32_t token, int64_t delay_ms) {
  Disarm(token);
  armed_[token] = front_door_->due_.emplace(SteadyClock::now() + Delay(delay_ms), FrontDoorTimers::Pending{this, token});
}

void InlineTimers::Disarm(uint32_t token) {
  auto it = armed_.find(token);
  if (it == armed_.end()) return;
  front_door_->due_.erase(it->second);
  armed_.erase(it);
}

InlineTimers::~InlineTimers() {
  for (const auto& [token, entry] : armed_) front_door_->due_.erase(entry);
}

}  // namespace cloudkit
