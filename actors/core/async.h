// Async<T>: what a port returns for work that may have to wait (disk, HTTP,
// IndexedDB). An operation `co_await`s it. A port that can answer at once
// (memory) returns Async<T>::Ready(value): the await does not suspend. One
// that must wait returns the Async of a Completion and keeps the Completion;
// when the work is done it posts the answer to the asking actor's executor
// (core/executor.h), and Complete, run on that actor's turn, resumes the
// waiting operation. So a port's answer is a message to the operation that
// asked, and nothing ever blocks an actor.
//
// REQUIRES: Complete runs on the turns of the actor that awaits (PostTo does
// that from any thread).
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "core/coro.h"
#include "core/executor.h"

namespace cloudkit {

template <typename T>
class Completion;

template <typename T>
class [[nodiscard]] Async {
 public:
  static Async Ready(T value) { return Async(std::move(value)); }

  bool await_ready() const { return ready_.has_value() || state_->value.has_value(); }
  void await_suspend(coro::coroutine_handle<> waiter) { state_->waiter = waiter; }
  T await_resume() { return ready_ ? std::move(*ready_) : std::move(*state_->value); }

 private:
  friend class Completion<T>;
  struct State {
    std::optional<T> value;
    coro::coroutine_handle<> waiter;
  };
  explicit Async(T value) : ready_(std::move(value)) {}
  explicit Async(std::shared_ptr<State> state) : state_(std::move(state)) {}

  std::optional<T> ready_;
  std::shared_ptr<State> state_;
};

// The port's end of a pending Async. Copyable; complete it once.
template <typename T>
class Completion {
 public:
  Completion() : state_(std::make_shared<typename Async<T>::State>()) {}

  // The Async to hand to the operation.
  Async<T> async() const { return Async<T>(state_); }

  // On the awaiting actor's turn: stores the value and resumes the waiter.
  void Complete(T value) const {
    state_->value.emplace(std::move(value));
    if (auto waiter = std::exchange(state_->waiter, nullptr)) waiter.resume();
  }

  // From any thread: completes on a turn of the actor owning `executor`.
  void PostTo(Executor& executor, T value) const {
    // Boxed: Post takes a copyable function, and T may be move-only.
    auto boxed = std::make_shared<T>(std::move(value));
    executor.Post([state = state_, boxed]() { Completion(state).Complete(std::move(*boxed)); });
  }

 private:
  explicit Completion(std::shared_ptr<typename Async<T>::State> state) : state_(std::move(state)) {}
  std::shared_ptr<typename Async<T>::State> state_;
};

}  // namespace cloudkit
