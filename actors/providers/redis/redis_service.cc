#include "providers/redis/redis_service.h"

#include <functional>
#include <utility>

#include "core/call_deadline.h"
#include "providers/names.h"
#include "providers/resilience/retry.h"

namespace cloudkit::redis {

namespace {
resilience::BackoffPolicy OneAttempt(resilience::BackoffPolicy policy) {
  policy.max_attempts = 1;
  return policy;
}
}  // namespace

RedisService::RedisService(std::string binding, std::unique_ptr<ports::RedisClient> redis, ports::Clock* clock,
                           ports::SleepPort* sleep, const remote::RemoteOptions& options)
    : binding_(std::move(binding)),
      redis_(std::move(redis)),
      clock_(clock),
      sleep_(sleep),
      options_(options),
      backoff_(options.backoff, static_cast<uint64_t>(clock->NowMs())),
      once_(OneAttempt(options.backoff), 0),
      breaker_(options.breaker, "binding " + names::Quote(binding_)),
      limit_(options.max_concurrency) {}

int64_t RedisService::CallDeadline() {
  const int64_t client = CurrentCallDeadlineMs();
  return client != 0 ? client : clock_->NowMs() + options_.call_timeout_ms;
}

Task<Result<ports::RedisReply>> RedisService::TryOnce(const std::vector<std::string>& argv) {
  Result<ports::RedisReply> reply = co_await redis_->Command(argv);
  if (!reply.ok()) {
    const Status& failed = reply.status();
    co_return Status(failed.code(), failed.message() + " (binding " + names::Quote(binding_) + ")",
                     failed.retryable(), failed.retry_after_ms());
  }
  co_return reply;
}

Task<Result<ports::RedisReply>> RedisService::Command(int64_t deadline_ms, std::vector<std::string> argv,
                                                      Repeatable repeatable) {
  // The port's own timeout bounds each try (the binding's timeout_ms);
  // the deadline bounds the tries and the waits between them.
  resilience::Resilience r{repeatable == Repeatable::kYes ? &backoff_ : &once_, &breaker_, &limit_, clock_,
                           options_.attempt_timeout_ms, [this](int64_t ms) { return sleep_->Sleep(ms); }};
  std::function<Task<Result<ports::RedisReply>>(int64_t)> attempt = [this, &argv](int64_t) {
    return TryOnce(argv);
  };
  co_return co_await resilience::WithRetries<ports::RedisReply>(r, deadline_ms, std::move(attempt));
}

}  // namespace cloudkit::redis
