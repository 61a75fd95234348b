// The browser's sleep port (ports/sleep.h): setTimeout in the worker script,
// reached as a port call (js_port_call.h) to the JS "ckTimer" port, so the
// wake-up arrives as a message in the asking actor's mailbox, on one of its
// turns, like any port's reply. A wake-up for an actor stopped meanwhile is
// dropped with its other port replies.
#pragma once

#include "ports/sleep.h"

namespace cloudkit::web {

class JsSleepPort : public ports::SleepPort {
 public:
  // Completes with true after about `ms` milliseconds; false at once when
  // called outside an actor's turn (nobody to wake).
  Async<bool> Sleep(int64_t ms) override;
};

}  // namespace cloudkit::web
