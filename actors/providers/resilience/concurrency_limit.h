// A concurrency limit per binding: at most `limit` calls to the service at
// once; the others wait, in arrival order, without blocking the actor (an
// operation awaits its permit like any port). Protects both the service and
// the daemon from a burst.
//
// REQUIRES: used from one actor's turns.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>

#include "core/coro.h"

namespace cloudkit::resilience {

class ConcurrencyLimit {
 public:
  explicit ConcurrencyLimit(size_t limit) : available_(limit == 0 ? 1 : limit) {}

  // Held while a call runs; destroying it lets the next waiting call go.
  class Permit {
   public:
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

    struct Wait {
      Permit* permit;
      bool await_ready() const { return permit->granted_; }
      void await_suspend(coro::coroutine_handle<> waiter) { permit->waiter_ = waiter; }
      void await_resume() const {}
    };
    // `co_await permit->Granted()`: at once when a slot is free.
    Wait Granted() { return Wait{this}; }

   private:
    friend class ConcurrencyLimit;
    explicit Permit(ConcurrencyLimit* limit) : limit_(limit) {}
    ConcurrencyLimit* limit_;
    bool granted_ = false;
    coro::coroutine_handle<> waiter_;
  };

  std::unique_ptr<Permit> Acquire();

  size_t waiting() const { return waiting_.size(); }

 private:
  void Release(Permit* permit);

  size_t available_;
  std::deque<Permit*> waiting_;
};

}  // namespace cloudkit::resilience
