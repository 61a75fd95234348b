#include "providers/resilience/circuit_breaker.h"

#include <algorithm>

namespace cloudkit::resilience {

Status CircuitBreaker::Allow(int64_t now_ms) {
  if (state_ == State::kOpen && now_ms >= open_until_ms_) {
    state_ = State::kHalfOpen;
    trial_in_flight_ = false;
  }
  if (state_ == State::kClosed) return Status::Ok();
  if (state_ == State::kHalfOpen && !trial_in_flight_) {
    trial_in_flight_ = true;  // one trial call at a time
    return Status::Ok();
  }
  const int64_t wait = state_ == State::kOpen ? open_until_ms_ - now_ms : 0;
  return Status::Unavailable(name_ + ": calls to its service paused after " +
                                 std::to_string(policy_.failure_threshold) + " failures in a row" +
                                 (wait > 0 ? ", for " + std::to_string((wait + 999) / 1000) + " s more" : ""),
                             static_cast<uint32_t>(std::clamp<int64_t>(wait, 0, UINT32_MAX)));
}

void CircuitBreaker::Record(bool failed, int64_t now_ms) {
  if (!failed) {
    state_ = State::kClosed;
    failures_ = 0;
    trial_in_flight_ = false;
    return;
  }
  if (state_ == State::kHalfOpen || ++failures_ >= policy_.failure_threshold) {
    state_ = State::kOpen;
    open_until_ms_ = now_ms + policy_.open_ms;
    trial_in_flight_ = false;
  }
}

}  // namespace cloudkit::resilience
