// Sleep port: how an operation waits a while without blocking its actor (the
// backoff between attempts of a call to a remote service). The answer comes
// back as a message on a later turn of the asking actor, like any port's
// (core/async.h). Natively one timer thread for the whole host
// (runtime/ports/timer_thread_sleep); in the browser setTimeout.
//
// REQUIRES: called from an actor's turn (the answer goes to its executor).
#pragma once

#include <cstdint>

#include "core/async.h"

namespace cloudkit::ports {

class SleepPort {
 public:
  virtual ~SleepPort() = default;
  // Completes after about `ms` milliseconds (0 or less: on a later turn).
  virtual Async<bool> Sleep(int64_t ms) = 0;
};

}  // namespace cloudkit::ports
