// ParkedCalls: the operations of one actor that wait for something to
// arrive (a queue's long polls, a subscription's streams), parked as
// coroutines: no thread waits and nothing polls. An operation parks on a key
// (a queue, a subscription) until an arrival on that key wakes it, until its
// wake-up time (one timer of the actor's ports::Timers for all of them), or
// until something happens to its call (a frame, a cancel). A woken operation
// resumes on a later turn of the actor, one by one, never nested inside the
// operation that woke it; it tries again and parks again if it must.
//
// REQUIRES: used from the turns of one actor; the actor passes its OnTimer
// calls on.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/coro.h"
#include "ports/clock.h"
#include "ports/timers.h"

namespace cloudkit {

class ParkedCalls {
 public:
  // `wait_token` and `ready_token` are the actor's timer tokens these use.
  ParkedCalls(ports::Clock* clock, ports::Timers* timers, uint32_t wait_token, uint32_t ready_token)
      : clock_(clock), timers_(timers), wait_token_(wait_token), ready_token_(ready_token) {}

  // Without a Timers port nothing can park.
  bool can_park() const { return timers_ != nullptr; }
  // Operations parked or woken and not yet resumed.
  size_t size() const { return by_call_.size() + ready_.size(); }

  struct Waiter {
    std::string key;
    uint64_t call_id = 0;
    int64_t wake_at_ms = 0;
    coro::coroutine_handle<> handle;
    std::list<Waiter*>::iterator in_key;
    std::multimap<int64_t, Waiter*>::iterator by_time;
  };
  struct Park {
    ParkedCalls* parked;
    Waiter waiter;
    bool await_ready() const { return false; }
    void await_suspend(coro::coroutine_handle<> handle) {
      waiter.handle = handle;
      parked->Enlist(&waiter);
    }
    void await_resume() const {}
  };
  // `co_await Park(...)` parks the operation of `call_id` until it is woken:
  // by an arrival on `key` (an empty key: never), at `wake_at_ms` (absolute,
  // by the clock; 0: never), or by WakeCall. REQUIRES: can_park().
  Park Wait(std::string key, uint64_t call_id, int64_t wake_at_ms) {
    return Park{this, Waiter{std::move(key), call_id, wake_at_ms, {}, {}, {}}};
  }

  // Wakes the operation of `call_id` if it is parked (a frame or a cancel came).
  void WakeCall(uint64_t call_id);
  // Wakes the oldest operation parked on `key`: one more may find something.
  void WakeOldest(const std::string& key);
  // Something may be there for `key` at `at_ms`: at or before now, the
  // oldest operation parked on it wakes; later, those parked on it wake then
  // at the latest.
  void Arrived(const std::string& key, int64_t at_ms);
  // The actor's OnTimer: true when `token` was one of these.
  bool OnTimer(uint32_t token);

 private:
  void Enlist(Waiter* waiter);
  void Delist(Waiter* waiter);
  // Delists the waiter and resumes it on a later turn.
  void WakeSoon(Waiter* waiter);
  void ArmWaitTimer();

  ports::Clock* clock_;
  ports::Timers* timers_;
  const uint32_t wait_token_;   // the earliest wake-up of a waiter
  const uint32_t ready_token_;  // waiters to wake on the next turn
  std::unordered_map<std::string, std::list<Waiter*>> by_key_;  // oldest first
  std::multimap<int64_t, Waiter*> by_wake_time_;
  std::unordered_map<uint64_t, Waiter*> by_call_;
  std::vector<Waiter*> ready_;  // delisted, resumed when the ready timer fires
  bool ready_armed_ = false;
  int64_t wait_timer_at_ = 0;  // when the wait timer fires; 0 = disarmed
};

}  // namespace cloudkit
