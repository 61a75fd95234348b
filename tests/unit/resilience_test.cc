// The resilience of calls to remote services (providers/resilience): backoff
// with full jitter and Retry-After, the circuit breaker's states, the
// concurrency limit's queue, and the retry loop that puts them together.
// Time is a ManualClock; a sleep is time passing on it.
#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "providers/resilience/retry.h"
#include "support/run_task.h"

namespace cloudkit::resilience {
namespace {

TEST(BackoffTest, FullJitterUnderAnExponentialCeilingWithRetryAfterAsAFloor) {
  Backoff backoff({100, 1'000, 5}, /*seed=*/42);
  for (int round = 0; round < 200; ++round) {
    for (uint32_t retry = 1; retry <= 6; ++retry) {
      const int64_t ceiling = std::min<int64_t>(1'000, int64_t{100} << (retry - 1));
      const int64_t delay = backoff.DelayMs(retry);
      EXPECT_GE(delay, 0);
      EXPECT_LE(delay, ceiling) << "retry " << retry;
    }
  }
  EXPECT_GE(backoff.DelayMs(1, 3'000), 3'000) << "the server's Retry-After wins";
  Backoff one({100, 1'000, 5}, 42), again({100, 1'000, 5}, 42), other({100, 1'000, 5}, 43);
  std::vector<int64_t> a, b, c;
  for (int i = 0; i < 20; ++i) {
    a.push_back(one.DelayMs(5));
    b.push_back(again.DelayMs(5));
    c.push_back(other.DelayMs(5));
  }
  EXPECT_EQ(a, b) << "a seed gives one sequence";
  EXPECT_NE(a, c) << "different seeds jitter differently";
}

TEST(CircuitBreakerTest, OpensAfterFailuresInARowThenLetsOneTrialThrough) {
  CircuitBreaker breaker({3, 1'000}, "binding 'docs'");
  int64_t now = 10'000;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(breaker.Allow(now).ok());
    breaker.Record(/*failed=*/true, now);
  }
  ASSERT_TRUE(breaker.Allow(now).ok());
  breaker.Record(false, now);  // a success resets the count
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(breaker.Allow(now).ok());
    breaker.Record(true, now);
  }
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kOpen);
  Status refused = breaker.Allow(now + 400);
  EXPECT_EQ(refused.code(), v1::UNAVAILABLE);
  EXPECT_TRUE(refused.retryable());
  EXPECT_EQ(refused.retry_after_ms(), 600u);
  EXPECT_NE(refused.message().find("binding 'docs'"), std::string::npos) << refused.message();

  now += 1'000;
  EXPECT_TRUE(breaker.Allow(now).ok()) << "the trial call";
  EXPECT_FALSE(breaker.Allow(now).ok()) << "one trial at a time";
  breaker.Record(true, now);
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kOpen) << "a failed trial opens it again";
  now += 1'000;
  ASSERT_TRUE(breaker.Allow(now).ok());
  breaker.Record(false, now);
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(breaker.Allow(now).ok());
}

TEST(ConcurrencyLimitTest, CallsBeyondTheLimitWaitInOrder) {
  ConcurrencyLimit limit(2);
  std::vector<int> started;
  std::vector<std::unique_ptr<ConcurrencyLimit::Permit>> held(4);
  auto call = [&](int id) -> Task<void> {
    held[id] = limit.Acquire();
    co_await held[id]->Granted();
    started.push_back(id);
  };
  for (int id = 0; id < 3; ++id) Detach(call(id));
  held[3] = limit.Acquire();  // a caller that will give up before its turn
  EXPECT_EQ(started, (std::vector<int>{0, 1}));
  EXPECT_EQ(limit.waiting(), 2u);
  held[3].reset();  // gives up while waiting
  EXPECT_EQ(limit.waiting(), 1u);
  held[0].reset();  // its slot goes to the oldest waiter
  EXPECT_EQ(started, (std::vector<int>{0, 1, 2}));
  held[1].reset();
  held[2].reset();
  Detach(call(3));
  EXPECT_EQ(started, (std::vector<int>{0, 1, 2, 3})) << "free slots are taken at once";
}

class RetryTest : public ::testing::Test {
 protected:
  Resilience Make() {
    return {&backoff_, &breaker_, &limit_, &clock_, 1'000, [this](int64_t ms) {
              slept_.push_back(ms);
              clock_.Advance(ms);
              return Async<bool>::Ready(true);
            }};
  }
  // Each attempt answers the next scripted status (OK once they run out).
  std::function<Task<Result<int>>(int64_t)> Script(std::deque<Status> statuses) {
    auto script = std::make_shared<std::deque<Status>>(std::move(statuses));
    return [this, script](int64_t timeout_ms) -> Task<Result<int>> {
      timeouts_.push_back(timeout_ms);
      if (script->empty()) co_return 7;
      Status next = script->front();
      script->pop_front();
      co_return next;
    };
  }

  ports::ManualClock clock_{1'000'000};
  Backoff backoff_{{100, 2'000, 4}, 1};
  CircuitBreaker breaker_{{10, 5'000}, "binding 'b'"};
  ConcurrencyLimit limit_{4};
  std::vector<int64_t> slept_, timeouts_;
};

TEST_F(RetryTest, RetryableFailuresAreRetriedAfterABackoff) {
  Result<int> result = testing_util::RunTask(
      WithRetries<int>(Make(), 0, Script({Status::Unavailable("503"), Status::Unavailable("503", 250)})));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, 7);
  EXPECT_EQ(timeouts_.size(), 3u);
  ASSERT_EQ(slept_.size(), 2u);
  EXPECT_GE(slept_[1], 250) << "Retry-After honoured";
}

TEST_F(RetryTest, NonRetryableFailuresAndTheLastAttemptAreFinal) {
  Result<int> bad = testing_util::RunTask(WithRetries<int>(Make(), 0, Script({Status::NotFound("object 'a'")})));
  EXPECT_EQ(bad.status().code(), v1::NOT_FOUND);
  EXPECT_TRUE(slept_.empty());
  timeouts_.clear();
  Result<int> down = testing_util::RunTask(WithRetries<int>(
      Make(), 0, Script({Status::Unavailable("a"), Status::Unavailable("b"), Status::Unavailable("c"),
                         Status::Unavailable("d"), Status::Unavailable("e")})));
  EXPECT_EQ(down.status().message(), "unavailable: d") << "four attempts, the last one's failure";
  EXPECT_EQ(timeouts_.size(), 4u);
}

TEST_F(RetryTest, AttemptsAndWaitsStayWithinTheDeadline) {
  const int64_t deadline = clock_.NowMs() + 1'500;
  Result<int> result = testing_util::RunTask(WithRetries<int>(
      Make(), deadline, Script({Status::Unavailable("slow", 1'000), Status::Unavailable("slow", 1'000)})));
  EXPECT_EQ(result.status().code(), v1::UNAVAILABLE);
  EXPECT_LE(clock_.NowMs(), deadline);
  ASSERT_FALSE(timeouts_.empty());
  EXPECT_EQ(timeouts_.front(), 1'000) << "the per-attempt timeout";
  for (int64_t timeout : timeouts_) EXPECT_LE(timeout, 1'500);
}

}  // namespace
}  // namespace cloudkit::resilience
