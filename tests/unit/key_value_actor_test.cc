// The KeyValue actor's calls as operations: calls on different keys wait on
// storage at the same time; calls on one key take effect in arrival order
// (writes hold a key, reads share it); a call over a store that answers at
// once is answered inside the turn it arrived in. The store here holds every
// answer until the test releases it, as a slow disk would.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "ports/memory_storage.h"
#include "providers/embedded/embedded_key_value.h"
#include "services/key_value_actor.h"
#include "support/manual_host.h"

namespace cloudkit {
namespace {

constexpr char kPut[] = "cloudkit.v1.KeyValue/Put";
constexpr char kGet[] = "cloudkit.v1.KeyValue/Get";

// A memory store whose answers wait until Release: the test plays the disk.
class HeldStore : public ports::OrderedStore {
 public:
  Async<Result<std::string>> Get(const std::string& key) override {
    return Hold(memory_.Get(key));
  }
  Async<Result<Entries>> Scan(const std::string& start, const std::string& end, size_t limit) override {
    return Hold(memory_.Scan(start, end, limit));
  }
  Async<Status> Write(ports::WriteBatch batch) override {
    ++writes_started;
    return Hold(memory_.Write(std::move(batch)));
  }

  size_t held() const { return held_.size(); }
  // Answers the oldest held call (resuming its operation right here).
  void ReleaseOne() {
    auto answer = std::move(held_.front());
    held_.pop_front();
    answer();
  }
  void ReleaseAll() {
    while (!held_.empty()) ReleaseOne();
  }
  int writes_started = 0;

 private:
  template <typename T>
  Async<T> Hold(Async<T> ready) {
    T value = ready.await_resume();
    Completion<T> done;
    held_.push_back([done, value = std::make_shared<T>(std::move(value))] { done.Complete(std::move(*value)); });
    return done.async();
  }
  ports::MemoryOrderedStore memory_;
  std::deque<std::function<void()>> held_;
};

using testing_util::RecordingOutbox;

Inbound PutFrame(uint64_t call_id, const std::string& key, const std::string& value) {
  v1::PutRequest put;
  put.set_table("t");
  put.set_key(key);
  put.set_value(value);
  Inbound in;
  in.call_id = call_id;
  in.method = kPut;
  in.body = put.SerializeAsString();
  return in;
}

Inbound GetFrame(uint64_t call_id, const std::string& key) {
  v1::GetRequest get;
  get.set_table("t");
  get.set_key(key);
  Inbound in;
  in.call_id = call_id;
  in.method = kGet;
  in.body = get.SerializeAsString();
  return in;
}

std::vector<uint64_t> AnsweredIds(const RecordingOutbox& outbox) {
  std::vector<uint64_t> ids;
  for (const Outbound& frame : outbox.frames) ids.push_back(frame.call_id);
  return ids;
}

class KeyValueActorTest : public ::testing::Test {
 protected:
  KeyValueActorTest() : store_(new HeldStore), provider_(std::unique_ptr<HeldStore>(store_), &clock_),
                        actor_(&provider_, &clock_, &outbox_) {
    // The first put also reads the ETag generation: keep it out of the cases.
    actor_.Receive(PutFrame(100, "warm", "up"));
    store_->ReleaseAll();
    outbox_.frames.clear();
    store_->writes_started = 0;
  }

  ports::ManualClock clock_;
  HeldStore* store_;  // owned by provider_
  embedded::EmbeddedKeyValue provider_;
  RecordingOutbox outbox_;
  KeyValueActor actor_;
};

TEST_F(KeyValueActorTest, CallsOnDifferentKeysWaitOnStorageTogether) {
  actor_.Receive(PutFrame(1, "a", "1"));
  actor_.Receive(PutFrame(2, "b", "2"));
  actor_.Receive(GetFrame(3, "c"));
  EXPECT_EQ(store_->held(), 3u) << "every call reached the store before any was answered";
  EXPECT_EQ(actor_.open_calls(), 3u);
  EXPECT_TRUE(outbox_.frames.empty());
  store_->ReleaseAll();
  EXPECT_EQ(AnsweredIds(outbox_), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(actor_.open_calls(), 0u);
}

TEST_F(KeyValueActorTest, CallsOnOneKeyTakeEffectInArrivalOrder) {
  actor_.Receive(PutFrame(1, "a", "first"));
  actor_.Receive(GetFrame(2, "a"));
  actor_.Receive(PutFrame(3, "a", "second"));
  actor_.Receive(GetFrame(4, "a"));
  EXPECT_EQ(store_->held(), 1u) << "only the first put runs; the rest wait for the key";
  EXPECT_EQ(store_->writes_started, 1);
  store_->ReleaseAll();
  ASSERT_EQ(AnsweredIds(outbox_), (std::vector<uint64_t>{1, 2, 3, 4}));
  v1::GetResponse got;
  ASSERT_TRUE(got.ParseFromString(outbox_.frames[1].body));
  EXPECT_EQ(got.item().value(), "first");
  ASSERT_TRUE(got.ParseFromString(outbox_.frames[3].body));
  EXPECT_EQ(got.item().value(), "second");
}

TEST_F(KeyValueActorTest, ReadsOfOneKeyShareIt) {
  actor_.Receive(PutFrame(1, "a", "v"));
  store_->ReleaseAll();
  outbox_.frames.clear();
  actor_.Receive(GetFrame(2, "a"));
  actor_.Receive(GetFrame(3, "a"));
  EXPECT_EQ(store_->held(), 2u);
  actor_.Receive(PutFrame(4, "a", "w"));  // waits for both reads
  EXPECT_EQ(store_->held(), 2u);
  store_->ReleaseOne();
  store_->ReleaseOne();
  EXPECT_EQ(store_->held(), 1u) << "the put starts once both reads are done";
  store_->ReleaseAll();
  EXPECT_EQ(AnsweredIds(outbox_), (std::vector<uint64_t>{2, 3, 4}));
}

TEST_F(KeyValueActorTest, ExpiredRequestIsRefusedWithoutTouchingStorage) {
  Inbound late = PutFrame(1, "a", "1");
  late.deadline_ms = clock_.NowMs() - 1;
  actor_.Receive(std::move(late));
  ASSERT_EQ(outbox_.frames.size(), 1u);
  EXPECT_EQ(outbox_.frames[0].status.code(), v1::DEADLINE_EXCEEDED);
  EXPECT_EQ(store_->held(), 0u);
}

TEST(KeyValueActorInline, CallsOverMemoryAreAnsweredInTheTurnTheyArrive) {
  ports::ManualClock clock;
  embedded::EmbeddedKeyValue provider(std::make_unique<ports::MemoryOrderedStore>(), &clock);
  RecordingOutbox outbox;
  KeyValueActor actor(&provider, &clock, &outbox);
  actor.Receive(PutFrame(1, "a", "1"));
  ASSERT_EQ(outbox.frames.size(), 1u);
  EXPECT_TRUE(outbox.frames[0].status.ok()) << outbox.frames[0].status.message();
  actor.Receive(GetFrame(2, "a"));
  ASSERT_EQ(outbox.frames.size(), 2u);
  EXPECT_TRUE(outbox.frames[1].status.ok());
  EXPECT_EQ(actor.open_calls(), 0u);
}

// Idempotency keys (services/idempotent_calls): a write retried under its key
// gets the first call's answer, also when the first was cancelled by its
// deadline while its write was under way.
Inbound Keyed(Inbound in, const std::string& key) {
  in.idempotency_key = key;
  return in;
}

Inbound CancelFrame(uint64_t call_id) {
  Inbound in;
  in.call_id = call_id;
  in.kind = v1::CANCEL;
  return in;
}

TEST_F(KeyValueActorTest, ARetryOfACancelledWriteWaitsForItAndGetsItsAnswer) {
  actor_.Receive(Keyed(PutFrame(1, "a", "once"), "put-a-1"));
  ASSERT_EQ(store_->writes_started, 1);
  actor_.Receive(CancelFrame(1));  // its deadline passed: the client was told DEADLINE_EXCEEDED
  actor_.Receive(Keyed(PutFrame(2, "a", "once"), "put-a-1"));
  EXPECT_EQ(store_->writes_started, 1) << "the retry waits for the first call, it does not write";
  store_->ReleaseAll();
  ASSERT_EQ(AnsweredIds(outbox_), (std::vector<uint64_t>{2}));
  ASSERT_TRUE(outbox_.frames[0].status.ok()) << outbox_.frames[0].status.message();
  v1::PutResponse first;
  ASSERT_TRUE(first.ParseFromString(outbox_.frames[0].body));

  actor_.Receive(Keyed(PutFrame(3, "a", "once"), "put-a-1"));
  EXPECT_EQ(store_->writes_started, 1);
  ASSERT_EQ(AnsweredIds(outbox_), (std::vector<uint64_t>{2, 3}));
  v1::PutResponse again;
  ASSERT_TRUE(again.ParseFromString(outbox_.frames[1].body));
  EXPECT_EQ(again.etag(), first.etag());
}

TEST_F(KeyValueActorTest, AKeyGivenToAnotherRequestIsRefused) {
  actor_.Receive(Keyed(PutFrame(1, "a", "first"), "k"));
  store_->ReleaseAll();
  actor_.Receive(Keyed(PutFrame(2, "a", "second"), "k"));
  ASSERT_EQ(AnsweredIds(outbox_), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(outbox_.frames[1].status.code(), v1::INVALID_ARGUMENT) << outbox_.frames[1].status.message();
  EXPECT_EQ(store_->writes_started, 1);
  actor_.Receive(GetFrame(3, "a"));
  store_->ReleaseAll();
  v1::GetResponse got;
  ASSERT_TRUE(got.ParseFromString(outbox_.frames[2].body));
  EXPECT_EQ(got.item().value(), "first");
}

TEST_F(KeyValueActorTest, AKeyIsForgottenAfterItsWindow) {
  actor_.set_idempotency_limits({/*window_ms=*/60'000, /*memory_bytes=*/1 << 20});
  actor_.Receive(Keyed(PutFrame(1, "a", "v"), "k"));
  store_->ReleaseAll();
  clock_.Advance(59'000);
  actor_.Receive(Keyed(PutFrame(2, "a", "v"), "k"));
  EXPECT_EQ(store_->writes_started, 1);
  clock_.Advance(2'000);
  actor_.Receive(Keyed(PutFrame(3, "a", "v"), "k"));
  store_->ReleaseAll();
  EXPECT_EQ(store_->writes_started, 2) << "past the window the call runs again";
  EXPECT_EQ(AnsweredIds(outbox_), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(KeyValueActorTest, KeptAnswersStayWithinTheirMemory) {
  actor_.set_idempotency_limits({/*window_ms=*/600'000, /*memory_bytes=*/4096});
  for (int i = 0; i < 200; ++i) {
    actor_.Receive(Keyed(PutFrame(1 + i, "k" + std::to_string(i), "v"), "key-" + std::to_string(i)));
    store_->ReleaseAll();
  }
  EXPECT_LT(actor_.idempotent_calls().kept(), 200u);
  EXPECT_GT(actor_.idempotent_calls().kept(), 0u);
  // The newest is still answered from memory, the oldest runs again.
  const int writes = store_->writes_started;
  actor_.Receive(Keyed(PutFrame(1000, "k199", "v"), "key-199"));
  EXPECT_EQ(store_->writes_started, writes);
  actor_.Receive(Keyed(PutFrame(1001, "k0", "v"), "key-0"));
  store_->ReleaseAll();
  EXPECT_EQ(store_->writes_started, writes + 1);
}

}  // namespace
}  // namespace cloudkit
