#include "providers/resilience/backoff.h"

#include <algorithm>

namespace cloudkit::resilience {

int64_t Backoff::DelayMs(uint32_t retry, int64_t retry_after_ms) {
  const uint32_t doublings = std::min<uint32_t>(retry == 0 ? 0 : retry - 1, 40);  // 2^40 exceeds any cap
  const int64_t ceiling = std::min(policy_.cap_ms, policy_.base_ms << doublings);
  std::uniform_int_distribution<int64_t> jitter(0, std::max<int64_t>(ceiling, 0));
  return std::max(jitter(random_), std::max<int64_t>(retry_after_ms, 0));
}

}  // namespace cloudkit::resilience
