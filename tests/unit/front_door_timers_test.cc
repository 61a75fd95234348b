// The front door's timers for actors that run on its thread
// (runtime/daemon/actor_timers): the wait bounds the front door's sleep,
// expiries fire in due order, re-arming moves a timer, disarming or
// destroying the timers drops what is pending.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "daemon/actor_timers.h"

namespace cloudkit {
namespace {

struct TimerLog : Actor {
  void Receive(Inbound&&) override {}
  void OnTimer(uint32_t token) override { fired.push_back(token); }
  std::vector<uint32_t> fired;
};

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

TEST(FrontDoorTimersTest, FiresWhatIsDueInOrderAndBoundsTheWait) {
  FrontDoorTimers front_door;
  EXPECT_EQ(front_door.WaitMs(), -1);  // nothing armed: sleep until a message
  TimerLog actor;
  InlineTimers timers(&front_door);
  timers.set_handler([&actor](uint32_t token) { actor.OnTimer(token); });
  timers.Arm(2, 30);
  timers.Arm(1, 10);
  timers.Arm(3, 60'000);
  EXPECT_GE(front_door.WaitMs(), 0);  // (a preempted test thread may see less than 10)
  EXPECT_LE(front_door.WaitMs(), 10);
  front_door.FireDue();
  EXPECT_TRUE(actor.fired.empty());
  SleepMs(35);
  front_door.FireDue();
  EXPECT_EQ(actor.fired, (std::vector<uint32_t>{1, 2}));
  EXPECT_GT(front_door.WaitMs(), 50'000);
}

TEST(FrontDoorTimersTest, ReArmingMovesATimerAndDisarmingDropsIt) {
  FrontDoorTimers front_door;
  TimerLog actor;
  InlineTimers timers(&front_door);
  timers.set_handler([&actor](uint32_t token) { actor.OnTimer(token); });
  timers.Arm(7, 0);
  timers.Arm(7, 60'000);  // moved: the earlier expiry is stale
  timers.Arm(8, 0);
  timers.Disarm(8);
  EXPECT_GT(front_door.WaitMs(), 50'000);  // no stale expiry left to wake the front door
  SleepMs(2);
  front_door.FireDue();
  EXPECT_TRUE(actor.fired.empty());
}

TEST(FrontDoorTimersTest, DestroyedTimersLeaveNothingBehind) {
  FrontDoorTimers front_door;
  TimerLog actor;
  {
    InlineTimers timers(&front_door);
    timers.set_handler([&actor](uint32_t token) { actor.OnTimer(token); });
    timers.Arm(1, 0);
  }
  EXPECT_EQ(front_door.WaitMs(), -1);
  front_door.FireDue();  // no dangling expiry
  EXPECT_TRUE(actor.fired.empty());
}

}  // namespace
}  // namespace cloudkit
