// LogLimiter: at most one log line per interval for one kind of event that
// clients can cause at will (malformed messages), the others counted and
// summed up in the next line, so that no client can flood the log.
#pragma once

#include <cstdint>

namespace cloudkit {

class LogLimiter {
 public:
  explicit LogLimiter(int64_t interval_ms = 10'000) : interval_ms_(interval_ms) {}

  // True when a line may be logged at `now_ms`; then `suppressed` says how
  // many were held back since the last one.
  bool Allow(int64_t now_ms, uint64_t* suppressed) {
    if (logged_ && now_ms - last_ms_ < interval_ms_) {
      ++held_back_;
      return false;
    }
    *suppressed = held_back_;
    held_back_ = 0;
    last_ms_ = now_ms;
    logged_ = true;
    return true;
  }

 private:
  int64_t interval_ms_;
  int64_t last_ms_ = 0;
  bool logged_ = false;
  uint64_t held_back_ = 0;
};

}  // namespace cloudkit
