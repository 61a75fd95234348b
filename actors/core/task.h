// Task<T>: a coroutine an operation awaits (`co_await provider.Get(req)`).
// It starts when awaited and runs on the awaiting actor's turn until it
// finishes or waits on a port (ports/async.h). A task that never waits (a
// memory lookup) finishes inside the await: no suspension, no allocation
// beyond its frame, no hop. One that waits is resumed, on a later turn of the
// same actor, by the port's completion, and then resumes its awaiter.
//
// Only chains that really wait ever suspend, so the stack never grows with
// the number of tasks that completed at once (a loop of a thousand memory
// reads runs flat).
//
// Detach(task) starts a root task (one call's operation) that nobody awaits;
// it frees itself when done, or is destroyed by its owner (an actor ending).
#pragma once

#include <exception>
#include <optional>
#include <utility>

#include "core/coro.h"

namespace cloudkit {

template <typename T>
class [[nodiscard]] Task;

namespace task_detail {

struct FinalAwaiter {
  coro::coroutine_handle<> continuation;
  bool await_ready() const noexcept { return false; }
#if CLOUDKIT_CORO_SYMMETRIC_TRANSFER
  template <typename Promise>
  coro::coroutine_handle<> await_suspend(coro::coroutine_handle<Promise>) noexcept {
    // Resume whoever awaited us (it suspended because we did); a task that
    // completed inside its await has no continuation and just stops here.
    return continuation ? continuation : coro::noop_coroutine();
  }
#else
  // The same by a nested call (see core/coro.h): the stack grows with a
  // chain of tasks that really waited, none of which exist while every port
  // answers at once. The frame is not touched after the resume, which goes
  // through a function that is not inlined: clang 14 would make a resume in
  // tail position of a coroutine a tail call all the same.
  template <typename Promise>
  void await_suspend(coro::coroutine_handle<Promise>) noexcept {
    if (continuation) ResumeNested(continuation);
  }
  [[gnu::noinline]] static void ResumeNested(coro::coroutine_handle<> handle) noexcept { handle.resume(); }
#endif
  void await_resume() const noexcept {}
};

struct PromiseBase {
  coro::coroutine_handle<> continuation;
  std::exception_ptr exception;
  coro::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {continuation}; }
  void unhandled_exception() { exception = std::current_exception(); }
};

}  // namespace task_detail

template <typename T>
class [[nodiscard]] Task {
 public:
  struct promise_type : task_detail::PromiseBase {
    std::optional<T> value;
    Task get_return_object() { return Task(coro::coroutine_handle<promise_type>::from_promise(*this)); }
    template <typename U>
    void return_value(U&& v) { value.emplace(std::forward<U>(v)); }
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  ~Task() {
    if (handle_) handle_.destroy();
  }

  // Runs the task now; true when it finished without waiting.
  bool await_ready() {
    handle_.resume();
    return handle_.done();
  }
  void await_suspend(coro::coroutine_handle<> awaiting) { handle_.promise().continuation = awaiting; }
  T await_resume() {
    if (handle_.promise().exception) std::rethrow_exception(handle_.promise().exception);
    return std::move(*handle_.promise().value);
  }

 private:
  explicit Task(coro::coroutine_handle<promise_type> handle) : handle_(handle) {}
  coro::coroutine_handle<promise_type> handle_;
};

template <>
class [[nodiscard]] Task<void> {
 public:
  struct promise_type : task_detail::PromiseBase {
    Task get_return_object() { return Task(coro::coroutine_handle<promise_type>::from_promise(*this)); }
    void return_void() {}
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() {
    handle_.resume();
    return handle_.done();
  }
  void await_suspend(coro::coroutine_handle<> awaiting) { handle_.promise().continuation = awaiting; }
  void await_resume() {
    if (handle_.promise().exception) std::rethrow_exception(handle_.promise().exception);
  }

 private:
  explicit Task(coro::coroutine_handle<promise_type> handle) : handle_(handle) {}
  coro::coroutine_handle<promise_type> handle_;
};

namespace task_detail {
// The frame of a detached root task: runs at once, frees itself at the end.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {coro::coroutine_handle<promise_type>::from_promise(*this)}; }
    coro::suspend_never initial_suspend() noexcept { return {}; }
    coro::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    // Operations catch what their providers throw; anything else is a bug.
    void unhandled_exception() noexcept { std::terminate(); }
  };
  coro::coroutine_handle<> root;
};
inline Detached RunDetached(Task<void> task) { co_await std::move(task); }
}  // namespace task_detail

// Starts `task` on the current turn; it runs until it first waits, then goes
// on from the completions of what it waits for, and frees itself when done.
// Returns the root of its frames while it runs (no longer once it finished):
// destroying that ends the task where it waits, with every task it awaits.
inline coro::coroutine_handle<> Detach(Task<void> task) { return task_detail::RunDetached(std::move(task)).root; }

}  // namespace cloudkit
