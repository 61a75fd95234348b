// Backoff between attempts of a call to a remote service: exponential with
// full jitter (the delay before retry n is uniform in [0, min(cap, base *
// 2^(n-1))]), so that clients that failed together do not retry together;
// a server's Retry-After is a floor. Per binding, set in its options.
#pragma once

#include <cstdint>
#include <random>

namespace cloudkit::resilience {

struct BackoffPolicy {
  int64_t base_ms = 100;
  int64_t cap_ms = 20'000;
  uint32_t max_attempts = 4;  // the first try included
};

class Backoff {
 public:
  // `seed` varies the jitter between hosts (e.g. the clock at start-up).
  Backoff(BackoffPolicy policy, uint64_t seed) : policy_(policy), random_(seed) {}

  // How long to wait before retry `retry` (1 = the first retry), at least
  // `retry_after_ms` (what the server asked for; 0 = nothing).
  int64_t DelayMs(uint32_t retry, int64_t retry_after_ms = 0);

  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  std::mt19937_64 random_;
};

}  // namespace cloudkit::resilience
