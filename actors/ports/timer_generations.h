// Generations of one actor's timers, for hosts that cannot take an expiry back
// once it is on its way (a CAF delayed message, a setTimeout): every Arm and
// Disarm starts a new generation of the token, the expiry carries the
// generation it was armed with, and only an expiry of the current one fires.
#pragma once

#include <cstdint>
#include <unordered_map>

namespace cloudkit::ports {

class TimerGenerations {
 public:
  // Starts a new generation of `token` (on Arm and Disarm) and returns it.
  uint32_t Next(uint32_t token) { return ++current_[token]; }
  bool IsCurrent(uint32_t token, uint32_t generation) const {
    auto it = current_.find(token);
    return it != current_.end() && it->second == generation;
  }

 private:
  std::unordered_map<uint32_t, uint32_t> current_;
};

}  // namespace cloudkit::ports
