#include "ports/system_clock.h"

#include <chrono>

namespace cloudkit {

int64_t SystemClock::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace cloudkit
