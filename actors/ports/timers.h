// Timers port: how an actor asks its host to wake it later (the key-value
// actor sweeping expired items; queue visibility timeouts later). One Timers
// belongs to one actor: the host delivers each expiry to that actor as
// Actor::OnTimer(token), in turn with its frames, never while another of its
// handlers runs. Natively CAF's delayed messages (runtime/daemon), in the
// browser setTimeout feeding the actor's mailbox (web-worker/).
//
// REQUIRES: called only from the owning actor's handlers.
#pragma once

#include <cstdint>

namespace cloudkit::ports {

class Timers {
 public:
  virtual ~Timers() = default;
  // Arms timer `token` to fire once, `delay_ms` from now (0 or less: on the
  // actor's next turn). Arming a token that is armed moves it.
  virtual void Arm(uint32_t token, int64_t delay_ms) = 0;
  // After this, `token` does not fire until armed again, even if its expiry
  // is already on its way to the actor.
  virtual void Disarm(uint32_t token) = 0;
};

}  // namespace cloudkit::ports
