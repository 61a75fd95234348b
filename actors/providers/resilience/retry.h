// One call to a remote service with the binding's resilience around it: a
// permit from its concurrency limit, its circuit breaker's leave, then
// attempts, each with its own timeout within the call's deadline, retried
// after a backoff (full jitter, Retry-After as a floor) while the failure is
// retryable and time and attempts remain. The sleep between attempts is the
// caller's (the host's timers), so this stays host-agnostic.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>

#include "core/async.h"
#include "core/status.h"
#include "core/task.h"
#include "ports/clock.h"
#include "providers/resilience/backoff.h"
#include "providers/resilience/circuit_breaker.h"
#include "providers/resilience/concurrency_limit.h"

namespace cloudkit::resilience {

struct Resilience {
  Backoff* backoff;
  CircuitBreaker* breaker;
  ConcurrencyLimit* limit;
  ports::Clock* clock;
  int64_t attempt_timeout_ms = 10'000;
  // Waits `ms` without blocking the actor.
  std::function<Async<bool>(int64_t ms)> sleep;
};

// `attempt(timeout_ms)` makes one try with that timeout. `deadline_ms`
// (absolute, 0 = none) bounds every attempt and every wait.
template <typename T>
Task<Result<T>> WithRetries(Resilience r, int64_t deadline_ms, std::function<Task<Result<T>>(int64_t)> attempt) {
  auto permit = r.limit->Acquire();
  co_await permit->Granted();
  for (uint32_t tried = 1;; ++tried) {
    const int64_t now = r.clock->NowMs();
    if (deadline_ms != 0 && now >= deadline_ms) co_return Status::DeadlineExceeded("no attempt left time to run");
    Status allowed = r.breaker->Allow(now);
    if (!allowed.ok()) co_return allowed;
    const int64_t timeout =
        deadline_ms == 0 ? r.attempt_timeout_ms : std::min(r.attempt_timeout_ms, deadline_ms - now);
    Result<T> result = co_await attempt(timeout);
    const bool failed = !result.ok() && result.status().retryable();
    r.breaker->Record(failed, r.clock->NowMs());
    if (!failed || tried >= r.backoff->policy().max_attempts) co_return result;
    const int64_t delay = r.backoff->DelayMs(tried, result.status().retry_after_ms());
    if (deadline_ms != 0 && r.clock->NowMs() + delay >= deadline_ms) co_return result;  // no time for another
    co_await r.sleep(delay);
  }
}

}  // namespace cloudkit::resilience
