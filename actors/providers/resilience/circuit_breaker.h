// A circuit breaker per binding: after `failure_threshold` failures in a row
// the binding stops sending calls to its service for `open_ms` (they fail at
// once with UNAVAILABLE, retryable, saying when to come back); then one trial
// call goes through: its success closes the breaker, its failure opens it
// again. What counts as a failure is the caller's to say (retryable
// statuses: the service is down or overloaded, not a bad request).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "core/status.h"

namespace cloudkit::resilience {

struct BreakerPolicy {
  uint32_t failure_threshold = 5;
  int64_t open_ms = 10'000;
};

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreaker(BreakerPolicy policy, std::string name) : policy_(policy), name_(std::move(name)) {}

  // OK when a call may go now; UNAVAILABLE naming the binding otherwise.
  Status Allow(int64_t now_ms);
  // The outcome of a call Allow let through.
  void Record(bool failed, int64_t now_ms);

  State state() const { return state_; }

 private:
  BreakerPolicy policy_;
  std::string name_;
  State state_ = State::kClosed;
  uint32_t failures_ = 0;
  int64_t open_until_ms_ = 0;
  bool trial_in_flight_ = false;
};

}  // namespace cloudkit::resilience
