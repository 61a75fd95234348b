#include "ports/thread_sleep_port.h"

#include <chrono>
#include <utility>

namespace cloudkit {

ThreadSleepPort::ThreadSleepPort() : thread_([this] { Run(); }) {}

ThreadSleepPort::~ThreadSleepPort() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_one();
  thread_.join();
}

Async<bool> ThreadSleepPort::Sleep(int64_t ms) {
  if (!CurrentExecutor()) return Async<bool>::Ready(false);  // outside a turn: nobody to wake
  Completion<bool> completion;
  Async<bool> async = completion.async();
  const auto at = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms < 0 ? 0 : ms);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.emplace(at, Wakeup{CurrentExecutor(), std::move(completion)});
  }
  changed_.notify_one();
  return async;
}

void ThreadSleepPort::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (pending_.empty()) {
      changed_.wait(lock);
      continue;
    }
    auto first = pending_.begin();
    if (first->first > std::chrono::steady_clock::now()) {
      changed_.wait_until(lock, first->first);
      continue;
    }
    Wakeup due = std::move(first->second);
    pending_.erase(first);
    lock.unlock();
    if (due.executor) due.completion.PostTo(*due.executor, true);
    lock.lock();
  }
}

}  // namespace cloudkit
