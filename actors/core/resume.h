// Resuming a waiting operation, except while an actor ends its operations
// (OperationActor::EndOperations). Then the frames of its operations are
// destroyed where they wait, and what they hold (key locks, permits) is
// released on the way; the waiters such a release would resume are
// operations being ended too, so none of them runs again.
//
// Every resume a destructor can trigger goes through Resume.
#pragma once

#include "core/coro.h"

namespace cloudkit {

namespace resume_detail {
inline thread_local int ending_operations = 0;
}  // namespace resume_detail

inline void Resume(coro::coroutine_handle<> waiter) {
  if (resume_detail::ending_operations == 0) waiter.resume();
}

// While alive, Resume on this thread resumes nothing.
class EndingOperationsScope {
 public:
  EndingOperationsScope() { ++resume_detail::ending_operations; }
  ~EndingOperationsScope() { --resume_detail::ending_operations; }
  EndingOperationsScope(const EndingOperationsScope&) = delete;
  EndingOperationsScope& operator=(const EndingOperationsScope&) = delete;
};

}  // namespace cloudkit
