// RedisService: how the `redis` provider sends its commands: through the
// host's Redis port, within the binding's resilience (providers/resilience),
// as HttpService does for the HTTP providers: a concurrency limit, a circuit
// breaker, and — for commands that may run twice — more tries after a
// backoff while the failure is retryable, all within the call's deadline.
//
// A write whose connection drops before its reply may or may not have run:
// it is never tried again here (its client gets UNAVAILABLE and decides),
// but it counts for the breaker like any other failure.
//
// REQUIRES: used from the turns of one actor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/task.h"
#include "ports/clock.h"
#include "ports/redis.h"
#include "ports/sleep.h"
#include "providers/remote/remote_options.h"
#include "providers/resilience/backoff.h"
#include "providers/resilience/circuit_breaker.h"
#include "providers/resilience/concurrency_limit.h"

namespace cloudkit::redis {

enum class Repeatable { kYes, kNo };

class RedisService {
 public:
  RedisService(std::string binding, std::unique_ptr<ports::RedisClient> redis, ports::Clock* clock,
               ports::SleepPort* sleep, const remote::RemoteOptions& options);

  // The deadline of a call starting now: the client's, else the binding's
  // call_timeout_ms. Call it in the provider method's first step
  // (core/call_deadline.h).
  int64_t CallDeadline();

  // The server's reply to `argv` (an error reply is a reply, not a failure).
  Task<Result<ports::RedisReply>> Command(int64_t deadline_ms, std::vector<std::string> argv, Repeatable repeatable);

 private:
  Task<Result<ports::RedisReply>> TryOnce(const std::vector<std::string>& argv);

  std::string binding_;
  std::unique_ptr<ports::RedisClient> redis_;
  ports::Clock* clock_;
  ports::SleepPort* sleep_;
  remote::RemoteOptions options_;
  resilience::Backoff backoff_;
  resilience::Backoff once_;  // the same policy, one attempt: for writes
  resilience::CircuitBreaker breaker_;
  resilience::ConcurrencyLimit limit_;
};

}  // namespace cloudkit::redis
