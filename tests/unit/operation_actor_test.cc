// An actor that ends with operations still open (the host stops it, or the
// daemon exits) destroys their frames where they wait: what they hold is
// released, nothing they would have woken runs again, and nothing leaks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/async.h"
#include "core/key_locks.h"
#include "ports/clock.h"
#include "services/operation_actor.h"
#include "support/manual_host.h"

namespace cloudkit {
namespace {

// Counts the frames of a test that are alive.
class Alive {
 public:
  explicit Alive(int* count) : count_(count) { ++*count_; }
  ~Alive() { --*count_; }
  Alive(const Alive&) = delete;
  Alive& operator=(const Alive&) = delete;

 private:
  int* count_;
};

// Every call takes its client's order on one key, then waits for an answer
// the test holds; its own task waits the same way.
class WaitingActor : public OperationActor {
 public:
  WaitingActor(ports::Clock* clock, Outbox* outbox, std::vector<Completion<int>>* held, int* alive)
      : OperationActor(clock, outbox), held_(held), alive_(alive) {}
  ~WaitingActor() override { EndOperations(); }

  void StartOwnTask() { Spawn(OwnTask()); }

 protected:
  Task<void> Start(Call& call, Inbound& request) override {
    Alive alive(alive_);
    auto ticket = OrderFor(request, {KeyLocks::Key("key", true)});
    co_await ticket->Granted();
    const int answer = co_await Held();
    Fail(call, Status::Aborted("answered " + std::to_string(answer)));
  }

 private:
  Async<int> Held() {
    Completion<int> done;
    held_->push_back(done);
    return done.async();
  }
  Task<void> OwnTask() {
    Alive alive(alive_);
    (void)co_await Held();
  }

  std::vector<Completion<int>>* held_;
  int* alive_;
};

Inbound Request(uint64_t call_id) {
  Inbound in;
  in.call_id = call_id;
  in.client = 7;
  in.method = "test.v1.Waiting/Wait";
  return in;
}

class OperationActorEndTest : public ::testing::Test {
 protected:
  ports::ManualClock clock_;
  testing_util::RecordingOutbox outbox_;
  std::vector<Completion<int>> held_;
  int alive_ = 0;
};

TEST_F(OperationActorEndTest, AnswersHeldAnswersWhileItLives) {
  WaitingActor actor(&clock_, &outbox_, &held_, &alive_);
  actor.Receive(Request(1));
  actor.Receive(Request(2));  // waits for call 1: same client, same key
  ASSERT_EQ(held_.size(), 1u);
  held_[0].Complete(10);
  ASSERT_EQ(held_.size(), 2u) << "call 2 went on once call 1 let go of the key";
  held_[1].Complete(20);
  ASSERT_EQ(outbox_.frames.size(), 2u);
  EXPECT_THAT(outbox_.frames[0].status.message(), ::testing::HasSubstr("answered 10"));
  EXPECT_THAT(outbox_.frames[1].status.message(), ::testing::HasSubstr("answered 20"));
  EXPECT_EQ(actor.open_calls(), 0u);
  EXPECT_EQ(alive_, 0);
}

TEST_F(OperationActorEndTest, EndingDestroysWaitingOperationsAndResumesNone) {
  auto actor = std::make_unique<WaitingActor>(&clock_, &outbox_, &held_, &alive_);
  actor->Receive(Request(1));  // waits on its held answer, holding the key
  actor->Receive(Request(2));  // waits for the key
  actor->StartOwnTask();       // waits on its held answer
  ASSERT_EQ(held_.size(), 2u);
  ASSERT_EQ(actor->open_calls(), 2u);
  ASSERT_EQ(alive_, 3);

  actor.reset();
  EXPECT_EQ(alive_, 0) << "every frame was destroyed";
  EXPECT_EQ(held_.size(), 2u) << "call 2 never ran on when call 1 let go of the key";
  EXPECT_TRUE(outbox_.frames.empty()) << "ended calls send nothing";
}

TEST_F(OperationActorEndTest, AnActorMadeAfterAnotherEndedRunsItsCalls) {
  auto ended = std::make_unique<WaitingActor>(&clock_, &outbox_, &held_, &alive_);
  ended->Receive(Request(1));
  ended->Receive(Request(2));
  ended.reset();
  held_.clear();  // their answers have nobody to go to

  WaitingActor actor(&clock_, &outbox_, &held_, &alive_);
  actor.Receive(Request(3));
  actor.Receive(Request(4));
  held_[0].Complete(30);
  ASSERT_EQ(held_.size(), 2u) << "releasing a key resumes its next taker again";
  held_[1].Complete(40);
  ASSERT_EQ(outbox_.frames.size(), 2u);
  EXPECT_THAT(outbox_.frames[1].status.message(), ::testing::HasSubstr("answered 40"));
}

}  // namespace
}  // namespace cloudkit
