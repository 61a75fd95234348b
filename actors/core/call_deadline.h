// The deadline of the call a provider method serves. Provider interfaces take
// only the request, but a provider of a remote service must fit its attempts
// and retries within the client's deadline. The service actor starts each
// provider call inside WithCallDeadline; the provider reads
// CurrentCallDeadlineMs() before its first wait and keeps the value (it is
// only set while the call's first step runs: operations interleave).
#pragma once

#include <cstdint>
#include <utility>

#include "core/coro.h"
#include "core/task.h"

namespace cloudkit {

namespace call_deadline_detail {
inline thread_local int64_t current_deadline_ms = 0;
}

// Absolute, on the host's Clock::NowMs(); 0 = the call has none (or no call
// is starting on this thread).
inline int64_t CurrentCallDeadlineMs() { return call_deadline_detail::current_deadline_ms; }

// Awaits `task` with CurrentCallDeadlineMs() = deadline_ms while its first
// step runs (a Task starts when awaited: core/task.h).
template <typename T>
class [[nodiscard]] WithCallDeadline {
 public:
  WithCallDeadline(int64_t deadline_ms, Task<T> task) : deadline_ms_(deadline_ms), task_(std::move(task)) {}

  bool await_ready() {
    const int64_t previous = std::exchange(call_deadline_detail::current_deadline_ms, deadline_ms_);
    const bool ready = task_.await_ready();
    call_deadline_detail::current_deadline_ms = previous;
    return ready;
  }
  void await_suspend(coro::coroutine_handle<> awaiting) { task_.await_suspend(awaiting); }
  T await_resume() { return task_.await_resume(); }

 private:
  int64_t deadline_ms_;
  Task<T> task_;
};

}  // namespace cloudkit
