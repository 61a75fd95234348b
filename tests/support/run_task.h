// RunTask: drives an operation (a Task) to completion from a test, as an
// actor's host would: the test thread is the actor, ports that answer later
// post to its executor, and RunTask runs those completions until the task is
// done. For ports that answer at once (memory) it never waits.
//
// In the browser (the wasm test suite) a worker cannot block: waiting gives
// the event loop a turn instead (emscripten_sleep, which needs the test
// executable to be built with Asyncify), so that the JS promises behind the
// ports settle and post their answers here. Only the tests do this; the
// worker bundle's core never waits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "core/async.h"
#include "core/executor.h"
#include "core/task.h"

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#endif

namespace cloudkit::testing_util {

// An actor mailbox for the test thread.
class TestExecutor : public Executor {
 public:
  void Post(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(fn));
    ready_.notify_one();
  }
  // Runs one posted function; false when none came within `timeout`.
  bool RunOne(std::chrono::milliseconds timeout) {
    std::function<void()> fn;
#ifdef __EMSCRIPTEN__
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!queue_.empty()) {
          fn = std::move(queue_.front());
          queue_.pop_front();
          break;
        }
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      emscripten_sleep(0);  // the event loop runs; JS answers arrive through Post
    }
#else
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (!ready_.wait_for(lock, timeout, [this] { return !queue_.empty(); })) return false;
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
#endif
    fn();
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
};

// The test thread's executor (one per thread, for the test's lifetime).
inline const std::shared_ptr<TestExecutor>& ThisThreadExecutor() {
  static thread_local std::shared_ptr<TestExecutor> executor = std::make_shared<TestExecutor>();
  return executor;
}

// Runs `task` to completion on this thread and returns its value. Throws when
// nothing completes for `timeout` (a port lost an answer).
template <typename T>
T RunTask(Task<T> task, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto& executor = ThisThreadExecutor();
  ExecutorScope scope(executor);
  std::optional<T> result;
  bool done = false;
  Detach([](Task<T> t, std::optional<T>* out, bool* finished) -> Task<void> {
    out->emplace(co_await std::move(t));
    *finished = true;
  }(std::move(task), &result, &done));
  while (!done) {
    if (!executor->RunOne(timeout)) throw std::runtime_error("RunTask: no completion within the timeout");
  }
  return std::move(*result);
}

inline void RunTask(Task<void> task, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  RunTask([](Task<void> t) -> Task<bool> {
    co_await std::move(t);
    co_return true;
  }(std::move(task)), timeout);
}

// Makes the test thread an actor's turn while it lives: ports called
// meanwhile answer to the thread's executor, and Await/RunTask run the answers.
class TestTurn {
 public:
  TestTurn() : scope_(ThisThreadExecutor()) {}

 private:
  ExecutorScope scope_;
};

// Waits for a port's answer (the port must have been called during a TestTurn).
template <typename T>
T Await(Async<T> async, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  return RunTask([](Async<T> a) -> Task<T> { co_return co_await std::move(a); }(std::move(async)), timeout);
}

// The value of an Async that a port answered at once (a memory store).
template <typename T>
T ReadyValue(Async<T> async) {
  if (!async.await_ready()) throw std::logic_error("ReadyValue: the port did not answer at once");
  return async.await_resume();
}

// Runs this thread's posted completions until `done()` holds, as RunTask
// does. Throws when nothing completes for `timeout`. For tests that start
// their tasks themselves (under an ExecutorScope of ThisThreadExecutor()).
template <typename Predicate>
void RunUntil(Predicate done, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto& executor = ThisThreadExecutor();
  ExecutorScope scope(executor);
  while (!done()) {
    if (!executor->RunOne(timeout)) throw std::runtime_error("RunUntil: no completion within the timeout");
  }
}

// Runs all `tasks` at once on this thread, as one actor running many
// operations: each starts now and goes on from its completions. Returns when
// every one is done; throws when nothing completes for `timeout`.
inline void RunTasks(std::vector<Task<void>> tasks, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  ExecutorScope scope(ThisThreadExecutor());
  size_t remaining = tasks.size();
  for (auto& task : tasks) {
    Detach([](Task<void> t, size_t* left) -> Task<void> {
      co_await std::move(t);
      --*left;
    }(std::move(task), &remaining));
  }
  RunUntil([&] { return remaining == 0; }, timeout);
}

}  // namespace cloudkit::testing_util
