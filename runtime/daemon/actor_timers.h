// The native Timers ports (actors/ports/timers.h), one per hosted actor, for
// the two ways BindingHost runs an actor:
// - CafTimers: the actor has its own CAF actor; an expiry is a delayed CAF
//   message to it (timer_atom, token, generation), handled between its
//   batches of frames.
// - InlineTimers: the actor runs on the front door thread; its timers wait in
//   the front door's FrontDoorTimers, which bounds the front door's sleep and
//   fires what is due after each poll. Re-arming or disarming takes the
//   pending expiry out.
// A CAF delayed message cannot be taken back: CafTimers drops the expiries of
// a re-armed or disarmed timer by generation (ports/timer_generations.h).
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>

#include "core/actor.h"
#include "ports/timer_generations.h"
#include "ports/timers.h"

namespace cloudkit {

using timer_atom = caf::atom_constant<caf::atom("timer")>;

class CafTimers : public ports::Timers {
 public:
  // Arms made before the CAF actor exists (an actor arms in its constructor)
  // are sent when Attach gives its handle.
  void Attach(caf::actor handle);
  void Arm(uint32_t token, int64_t delay_ms) override;
  void Disarm(uint32_t token) override {
    generations_.Next(token);
    armed_.erase(token);
  }
  // On the actor's thread, for an arriving timer_atom message: true when it
  // fires (it is the token's current generation), which disarms the token.
  bool Fire(uint32_t token, uint32_t generation) {
    if (!generations_.IsCurrent(token, generation)) return false;
    armed_.erase(token);
    return true;
  }
  // Tokens armed and not yet fired. Actor thread.
  size_t armed() const { return armed_.size(); }

 private:
  struct Early {
    uint32_t token;
    uint32_t generation;
    std::chrono::steady_clock::time_point due;
  };
  caf::actor handle_;
  ports::TimerGenerations generations_;
  std::unordered_set<uint32_t> armed_;
  std::vector<Early> early_;
};

class InlineTimers;

// The timers of every actor on the front door thread, by due time. Front door
// thread only (BindingHost::Add runs there too, before the loop starts).
class FrontDoorTimers {
 public:
  // How long the front door may sleep before the next expiry: -1 when none.
  int WaitMs() const;
  // Fires every expiry now due, in due order.
  void FireDue();

 private:
  friend class InlineTimers;
  struct Pending {
    InlineTimers* timers;
    uint32_t token;
  };
  using Due = std::multimap<std::chrono::steady_clock::time_point, Pending>;
  Due due_;
};

class InlineTimers : public ports::Timers {
 public:
  explicit InlineTimers(FrontDoorTimers* front_door) : front_door_(front_door) {}
  ~InlineTimers() override;
  // What an expiry runs (the host calls the actor's OnTimer in it); set once
  // the actor exists (it arms while constructed).
  void set_handler(std::function<void(uint32_t token)> handler) { handler_ = std::move(handler); }
  void Arm(uint32_t token, int64_t delay_ms) override;
  void Disarm(uint32_t token) override;
  size_t armed() const { return armed_.size(); }

 private:
  friend class FrontDoorTimers;
  FrontDoorTimers* front_door_;
  std::function<void(uint32_t)> handler_;
  std::unordered_map<uint32_t, FrontDoorTimers::Due::iterator> armed_;  // token -> its entry in due_
};

}  // namespace cloudkit
