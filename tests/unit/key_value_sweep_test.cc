// The KeyValue actor's sweeping of expired items, driven by its Timers port:
// when timers are armed (first pass after start, then at each known expiry,
// never while nothing expires), that a large store is swept in steps with
// requests answered in between, and that a failing store is retried later.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "ports/memory_storage.h"
#include "providers/embedded/embedded_key_value.h"
#include "services/key_value_actor.h"
#include "support/run_task.h"

namespace cloudkit {
namespace {

// Timers on a ManualClock, fired by the test as it moves the clock: a host
// with perfect timing.
class ManualTimers : public ports::Timers {
 public:
  explicit ManualTimers(ports::ManualClock* clock) : clock_(clock) {}
  void Arm(uint32_t token, int64_t delay_ms) override { due_[token] = clock_->NowMs() + std::max<int64_t>(delay_ms, 0); }
  void Disarm(uint32_t token) override { due_.erase(token); }

  // When `token` fires (absolute), or 0 when not armed.
  int64_t DueAt(uint32_t token) const {
    auto it = due_.find(token);
    return it == due_.end() ? 0 : it->second;
  }
  // Moves the clock to each due timer up to `until_ms` in turn and fires it.
  // Returns how many fired.
  int RunUntil(int64_t until_ms, Actor& actor) {
    int fired = 0;
    for (;;) {
      auto next = std::min_element(due_.begin(), due_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
      if (next == due_.end() || next->second > until_ms) break;
      const uint32_t token = next->first;
      if (next->second > clock_->NowMs()) clock_->Advance(next->second - clock_->NowMs());
      due_.erase(next);
      actor.OnTimer(token);
      ++fired;
    }
    if (until_ms > clock_->NowMs()) clock_->Advance(until_ms - clock_->NowMs());
    return fired;
  }

 private:
  ports::ManualClock* clock_;
  std::map<uint32_t, int64_t> due_;
};

// A memory store whose writes can be made to fail, and whose size is visible.
class FlakyStore : public ports::MemoryOrderedStore {
 public:
  Async<Status> Write(ports::WriteBatch batch) override {
    if (fail_writes) return Async<Status>::Ready(Status::Unavailable("disk on fire"));
    return MemoryOrderedStore::Write(std::move(batch));
  }
  bool fail_writes = false;
};

struct NullOutbox : Outbox {
  void Send(Outbound&& frame) override { sent.push_back(std::move(frame)); }
  std::vector<Outbound> sent;
};

Inbound Put(uint64_t call_id, const std::string& key, uint64_t ttl_ms) {
  v1::PutRequest put;
  put.set_table("t");
  put.set_key(key);
  put.set_value("v");
  put.set_ttl_ms(ttl_ms);
  Inbound in;
  in.call_id = call_id;
  in.method = "cloudkit.v1.KeyValue/Put";
  in.body = put.SerializeAsString();
  return in;
}

class KeyValueSweepTest : public ::testing::Test {
 protected:
  KeyValueSweepTest() {
    auto store = std::make_unique<FlakyStore>();
    store_ = store.get();
    provider_ = std::make_unique<embedded::EmbeddedKeyValue>(std::move(store), &clock_);
    actor_ = std::make_unique<KeyValueActor>(provider_.get(), &clock_, &outbox_, &timers_);
  }
  // Items in storage, expired or not (plus the provider's generation record).
  size_t Stored() {
    Result<ports::OrderedStore::Entries> all = testing_util::ReadyValue(store_->Scan("", "", 1'000'000));
    EXPECT_TRUE(all.ok());
    return all.ok() ? all->size() : 0;
  }
  int64_t now() { return clock_.NowMs(); }

  ports::ManualClock clock_;
  ManualTimers timers_{&clock_};
  FlakyStore* store_;
  std::unique_ptr<embedded::EmbeddedKeyValue> provider_;
  NullOutbox outbox_;
  std::unique_ptr<KeyValueActor> actor_;
  static constexpr uint32_t kSweep = KeyValueActor::kSweepTimer;
};

TEST_F(KeyValueSweepTest, FirstPassAfterStartThenNoTimerWhileNothingExpires) {
  EXPECT_EQ(timers_.DueAt(kSweep), now() + KeyValueActor::kFirstSweepMs);
  actor_->Receive(Put(1, "plain", 0));
  EXPECT_EQ(timers_.RunUntil(now() + 60'000, *actor_), 1);
  EXPECT_EQ(timers_.DueAt(kSweep), 0);  // idle: nothing armed
}

TEST_F(KeyValueSweepTest, ExpiredItemsLeaveStorageAtTheirExpiry) {
  timers_.RunUntil(now() + KeyValueActor::kFirstSweepMs, *actor_);  // the start-up pass
  actor_->Receive(Put(0, "warm", 0));  // the first write also stores the ETag generation
  const size_t before = Stored();
  actor_->Receive(Put(1, "session", 5000));
  actor_->Receive(Put(2, "keep", 0));
  EXPECT_EQ(timers_.DueAt(kSweep), now() + 5000);  // armed for the expiry itself
  actor_->Receive(Put(3, "sooner", 3000));
  EXPECT_EQ(timers_.DueAt(kSweep), now() + 3000);  // moved earlier
  EXPECT_EQ(Stored(), before + 3);

  timers_.RunUntil(now() + 3000, *actor_);
  EXPECT_EQ(Stored(), before + 2);  // "sooner" gone from storage, not just hidden
  EXPECT_EQ(timers_.DueAt(kSweep), now() + 2000);  // next: "session"
  timers_.RunUntil(now() + 2000, *actor_);
  EXPECT_EQ(Stored(), before + 1);
  EXPECT_EQ(timers_.DueAt(kSweep), 0);
}

TEST_F(KeyValueSweepTest, ALargeStoreIsSweptInStepsWithRequestsInBetween) {
  timers_.RunUntil(now() + KeyValueActor::kFirstSweepMs, *actor_);
  constexpr int kItems = 3 * KeyValueActor::kSweepStepItems + 7;
  for (int i = 0; i < kItems; ++i) actor_->Receive(Put(i + 1, "k" + std::to_string(i), 1000));
  const size_t before = Stored();
  clock_.Advance(1000);
  int steps = 0;
  while (timers_.DueAt(kSweep) != 0 && steps < 100) {
    ASSERT_LE(timers_.DueAt(kSweep), now() + KeyValueActor::kSweepStepGapMs);
    timers_.RunUntil(timers_.DueAt(kSweep), *actor_);
    ++steps;
    actor_->Receive(Put(100'000 + steps, "between", 0));  // a request between two steps
  }
  EXPECT_EQ(steps, 4);  // ceil(kItems / step) steps, each a turn of its own
  EXPECT_EQ(Stored(), before - kItems + 1);  // + "between"
}

TEST_F(KeyValueSweepTest, AFailingStoreIsRetriedLaterAndNothingIsLost) {
  timers_.RunUntil(now() + KeyValueActor::kFirstSweepMs, *actor_);
  actor_->Receive(Put(1, "gone", 1000));
  actor_->Receive(Put(2, "kept", 0));
  const size_t before = Stored();
  store_->fail_writes = true;
  timers_.RunUntil(now() + 1000, *actor_);
  EXPECT_EQ(Stored(), before);
  EXPECT_EQ(timers_.DueAt(kSweep), now() + KeyValueActor::kSweepRetryMs);
  store_->fail_writes = false;
  timers_.RunUntil(now() + KeyValueActor::kSweepRetryMs, *actor_);
  EXPECT_EQ(Stored(), before - 1);
  EXPECT_EQ(timers_.DueAt(kSweep), 0);
}

}  // namespace
}  // namespace cloudkit
