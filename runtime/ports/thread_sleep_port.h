// ThreadSleepPort: the native sleep port (ports/sleep.h). One thread for the
// whole host keeps the pending wake-ups in time order and posts each to the
// executor of the actor that asked, when its time comes. Destroying it
// drops the wake-ups still pending (their actors are stopping too).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/executor.h"
#include "ports/sleep.h"

namespace cloudkit {

class ThreadSleepPort : public ports::SleepPort {
 public:
  ThreadSleepPort();
  ~ThreadSleepPort() override;
  ThreadSleepPort(const ThreadSleepPort&) = delete;
  ThreadSleepPort& operator=(const ThreadSleepPort&) = delete;

  Async<bool> Sleep(int64_t ms) override;

 private:
  struct Wakeup {
    std::shared_ptr<Executor> executor;
    Completion<bool> completion;
  };
  void Run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::multimap<std::chrono::steady_clock::time_point, Wakeup> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cloudkit
