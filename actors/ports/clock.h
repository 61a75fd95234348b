// Clock port: wall-clock time for timestamps, TTLs and deadlines. Each host
// implements it; tests use ManualClock to make time-dependent behaviour exact.
#pragma once

#include <atomic>
#include <cstdint>

namespace cloudkit::ports {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMs() = 0;
};

// A clock that moves only when told to. Thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  int64_t NowMs() override { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace cloudkit::ports
