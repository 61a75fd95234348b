// SystemClock: the native Clock port, wall-clock time from
// std::chrono::system_clock. Thread-safe.
#pragma once

#include <cstdint>

#include "ports/clock.h"

namespace cloudkit {

class SystemClock : public ports::Clock {
 public:
  // Milliseconds since the Unix epoch.
  int64_t NowMs() override;
};

}  // namespace cloudkit
