// KeyLocks: keys taken in arrival order, shared (readers) or exclusive
// (writers), by operations that may wait while holding them. A taker names all
// its keys at once; it goes once every earlier taker that conflicts on one of
// them has let go. Takers that share no key, or only read, go together. Since
// all keys are taken at once, in arrival order, the oldest waiting taker can
// always go next: no deadlock.
//
// Used twice: service actors keep each client's calls on a key in the order
// the client sent them (docs/protocol.md, "Ordering"), and providers make
// their read-check-write steps atomic against other calls.
//
// REQUIRES: used from one actor's turns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/coro.h"

namespace cloudkit {

class KeyLocks {
 public:
  // A key is known by a 64-bit hash of its name: two names that collide
  // only order their takers together, which is safe.
  struct Key {
    Key(std::string_view name, bool exclusive) : id(std::hash<std::string_view>{}(name)), exclusive(exclusive) {}
    uint64_t id;
    bool exclusive;
  };
  class Ticket;

  // Queues a call on `keys` (duplicates are merged, exclusive winning).
  // `co_await ticket->Granted()` resumes the call when its keys are free (at
  // once, without suspending, when nothing earlier conflicts). Releasing the
  // ticket (destroying it) lets later calls go.
  std::unique_ptr<Ticket> Acquire(std::vector<Key> keys);

  class Ticket {
   public:
    Ticket() = default;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

    struct Wait {
      Ticket* ticket;
      bool await_ready() const { return ticket->waiting_ == 0; }
      void await_suspend(coro::coroutine_handle<> waiter) { ticket->waiter_ = waiter; }
      void await_resume() const {}
    };
    // An awaiter by value: g++ 12 copies an awaited lvalue.
    Wait Granted() { return Wait{this}; }

   private:
    friend class KeyLocks;
    KeyLocks* locks_ = nullptr;
    std::vector<Key> keys_;
    size_t waiting_ = 0;  // keys on which an earlier conflicting call still runs or waits
    coro::coroutine_handle<> waiter_;
  };

  size_t keys_in_use() const { return queues_.size(); }

 private:
  struct Entry {
    Ticket* ticket;
    bool exclusive;
    bool granted;
  };
  using Queue = std::vector<Entry>;  // short: the takers of one key, oldest first
  void Release(Ticket* ticket);
  // Grants what the front of `queue` now allows; collects tickets that became ready.
  static void GrantFront(Queue& queue, std::vector<Ticket*>* ready);

  std::unordered_map<uint64_t, Queue> queues_;
};

}  // namespace cloudkit
