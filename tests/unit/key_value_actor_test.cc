// The KeyValue actor's group commit: frames handed over together
// (ReceiveAll) are answered in order, exactly once each, as if handled one by
// one, while consecutive unconditional puts share one store write.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "ports/memory_storage.h"
#include "providers/embedded/embedded_key_value.h"
#include "services/key_value_actor.h"

namespace cloudkit {
namespace {

constexpr char kPut[] = "cloudkit.v1.KeyValue/Put";
constexpr char kGet[] = "cloudkit.v1.KeyValue/Get";

// A memory store that counts its writes (each would be one SQLite transaction).
class CountingStore : public ports::MemoryOrderedStore {
 public:
  explicit CountingStore(int* writes) : writes_(writes) {}
  Status Write(const ports::WriteBatch& batch) override {
    ++*writes_;
    return MemoryOrderedStore::Write(batch);
  }

 private:
  int* writes_;
};

struct RecordingOutbox : Outbox {
  void Send(Outbound&& frame) override { frames.push_back(std::move(frame)); }
  std::vector<Outbound> frames;
};

Inbound PutFrame(uint64_t call_id, const std::string& table, const std::string& key, const std::string& value,
                 bool if_absent = false) {
  v1::PutRequest put;
  put.set_table(table);
  put.set_key(key);
  put.set_value(value);
  put.set_if_absent(if_absent);
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

class KeyValueActorTest : public ::testing::Test {
 protected:
  KeyValueActorTest()
      : provider_(std::make_unique<CountingStore>(&writes_), &clock_), actor_(&provider_, &clock_, &outbox_) {
    // The first put also claims the ETag generation: keep that write out of the counts.
    actor_.Receive(PutFrame(100, "t", "warm", "up"));
    outbox_.frames.clear();
    writes_ = 0;
  }

  int writes_ = 0;
  ports::ManualClock clock_;
  embedded::EmbeddedKeyValue provider_;
  RecordingOutbox outbox_;
  KeyValueActor actor_;
};

TEST_F(KeyValueActorTest, ConsecutivePutsShareOneWriteAndEveryCallIsAnsweredInOrder) {
  std::vector<Inbound> frames;
  frames.push_back(PutFrame(1, "t", "a", "1"));
  frames.push_back(PutFrame(2, "t", "b", "2"));
  frames.push_back(PutFrame(3, "bad table!", "c", "3"));  // fails alone
  frames.push_back(PutFrame(4, "t", "a", "4"));           // later put of the same key wins
  frames.push_back(GetFrame(5, "a"));                      // sees the puts before it
  frames.push_back(PutFrame(6, "t", "b", "6", /*if_absent=*/true));  // conditional: on its own
  frames.push_back(PutFrame(7, "t", "d", "7"));
  actor_.ReceiveAll(std::move(frames));

  ASSERT_EQ(outbox_.frames.size(), 7u);
  for (size_t i = 0; i < outbox_.frames.size(); ++i) EXPECT_EQ(outbox_.frames[i].call_id, i + 1);
  EXPECT_TRUE(outbox_.frames[0].status.ok());
  EXPECT_TRUE(outbox_.frames[1].status.ok());
  EXPECT_EQ(outbox_.frames[2].status.code(), v1::INVALID_ARGUMENT);
  EXPECT_TRUE(outbox_.frames[3].status.ok());
  ASSERT_TRUE(outbox_.frames[4].status.ok()) << outbox_.frames[4].status.message();
  v1::GetResponse got;
  ASSERT_TRUE(got.ParseFromString(outbox_.frames[4].body));
  EXPECT_EQ(got.item().value(), "4");
  EXPECT_EQ(outbox_.frames[5].status.code(), v1::ALREADY_EXISTS);
  EXPECT_TRUE(outbox_.frames[6].status.ok());
  // Puts 1-4 in one write, put 7 in another; the conditional put wrote nothing.
  EXPECT_EQ(writes_, 2);

  v1::PutResponse first, fourth;
  ASSERT_TRUE(first.ParseFromString(outbox_.frames[0].body));
  ASSERT_TRUE(fourth.ParseFromString(outbox_.frames[3].body));
  EXPECT_NE(first.etag(), fourth.etag());
}

TEST_F(KeyValueActorTest, ExpiredPutsAreRefusedNotGrouped) {
  std::vector<Inbound> frames;
  frames.push_back(PutFrame(1, "t", "a", "1"));
  Inbound late = PutFrame(2, "t", "b", "2");
  late.deadline_ms = clock_.NowMs() - 1;
  frames.push_back(std::move(late));
  actor_.ReceiveAll(std::move(frames));
  ASSERT_EQ(outbox_.frames.size(), 2u);
  EXPECT_TRUE(outbox_.frames[0].status.ok());
  EXPECT_EQ(outbox_.frames[1].status.code(), v1::DEADLINE_EXCEEDED);
}

}  // namespace
}  // namespace cloudkit
