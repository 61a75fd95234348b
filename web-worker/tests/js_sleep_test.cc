// The browser sleep port (wasm/js_sleep, src/timer_port.js): a sleep wakes
// its caller after about the time asked, through a port reply; sleeps in
// flight together wake in the order of their delays; outside an actor's
// turn it answers false at once.
#include <emscripten.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "js_sleep.h"
#include "support/run_task.h"

namespace cloudkit::web {
namespace {

TEST(JsSleepPortTest, WakesAfterTheDelay) {
  JsSleepPort sleep;
  const double started = emscripten_get_now();
  bool woke = testing_util::RunTask([](JsSleepPort* port) -> Task<bool> { co_return co_await port->Sleep(150); }(&sleep));
  const double elapsed = emscripten_get_now() - started;
  EXPECT_TRUE(woke);
  EXPECT_GE(elapsed, 140.0);
  EXPECT_LT(elapsed, 5000.0);
}

TEST(JsSleepPortTest, SleepsInFlightWakeInTheOrderOfTheirDelays) {
  JsSleepPort sleep;
  std::string order;
  std::vector<Task<void>> tasks;
  for (int delay : {300, 20, 150}) {
    tasks.push_back([](JsSleepPort* port, int ms, std::string* woke) -> Task<void> {
      if (co_await port->Sleep(ms)) *woke += std::to_string(ms) + " ";
    }(&sleep, delay, &order));
  }
  testing_util::RunTasks(std::move(tasks));
  EXPECT_EQ(order, "20 150 300 ");
}

TEST(JsSleepPortTest, OutsideAnActorsTurnAnswersFalseAtOnce) {
  JsSleepPort sleep;
  Async<bool> answer = sleep.Sleep(10);
  ASSERT_TRUE(answer.await_ready());
  EXPECT_FALSE(answer.await_resume());
}

}  // namespace
}  // namespace cloudkit::web
