// The host's side of a service actor driven by hand, as unit tests, the
// conformance suite and the fuzz harnesses drive one: timers that fire when
// the driver says (by a clock it moves itself), and the frames the actor sent.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "core/actor.h"
#include "ports/clock.h"
#include "ports/timers.h"

namespace cloudkit::testing_util {

struct ManualTimers : ports::Timers {
  explicit ManualTimers(ports::Clock* clock) : clock(clock) {}
  void Arm(uint32_t token, int64_t delay_ms) override { due[token] = clock->NowMs() + std::max<int64_t>(delay_ms, 0); }
  void Disarm(uint32_t token) override { due.erase(token); }
  // Takes one timer that is due by the clock (lowest token first); false when none is.
  bool TakeDue(uint32_t* token) {
    for (auto it = due.begin(); it != due.end(); ++it) {
      if (it->second > clock->NowMs()) continue;
      *token = it->first;
      due.erase(it);
      return true;
    }
    return false;
  }
  ports::Clock* clock;
  std::map<uint32_t, int64_t> due;  // token -> when, by the clock
};

struct RecordingOutbox : Outbox {
  void Send(Outbound&& frame) override { frames.push_back(std::move(frame)); }
  std::vector<Outbound> frames;
};

}  // namespace cloudkit::testing_util
