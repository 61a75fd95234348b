// IdempotentCalls: what a service actor remembers of the calls made with an
// idempotency key (docs/protocol.md, "Idempotency keys"), so that a retried
// write gets the first call's answer instead of running again.
//
// A key names one request (its method and body bytes) for a window after its
// answer. While the first call runs, retries wait for it; once it has been
// answered, they get a copy of its answer. An answer that does not settle the
// outcome (a retryable error, INTERNAL, DEADLINE_EXCEEDED) or that starts a
// stream is not kept: the key is free again and the next retry runs.
//
// Memory is bounded: answers are kept for `window_ms`, and when they take
// more than `memory_bytes` the oldest are forgotten first.
//
// REQUIRES: used from one actor's turns.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/actor.h"
#include "core/coro.h"

namespace cloudkit {

struct IdempotencyLimits {
  int64_t window_ms = 600'000;       // 0: keys are not honoured
  uint64_t memory_bytes = 16u << 20;  // answers kept per actor
};

class IdempotentCalls {
 public:
  static constexpr size_t kMaxKeyBytes = 256;
  // Answers larger than this are not kept (writes answer far less).
  static constexpr size_t kMaxAnswerBytes = 64u << 10;

  explicit IdempotentCalls(IdempotencyLimits limits = {}) : limits_(limits) {}

  bool enabled() const { return limits_.window_ms > 0; }
  int64_t window_ms() const { return limits_.window_ms; }

  // The method and body a key was given for, as a 64-bit digest.
  static uint64_t Fingerprint(std::string_view method, std::string_view body);

  enum class State { kNew, kRunning, kAnswered, kConflict };
  struct Lookup {
    State state;
    const Outbound* answer = nullptr;  // kAnswered
  };
  // What became of `key`; kNew marks it running for the caller, who must end
  // it with Finish.
  Lookup Begin(const std::string& key, uint64_t fingerprint, int64_t now_ms);

  // Resumes the awaiting operation when the call running under `key` ends.
  struct Wait {
    IdempotentCalls* calls;
    const std::string* key;
    bool await_ready() const { return false; }
    void await_suspend(coro::coroutine_handle<> waiter) { calls->entries_.at(*key).waiters.push_back(waiter); }
    void await_resume() const {}
  };
  // REQUIRES: Begin answered kRunning for `key` in this turn.
  Wait Finished(const std::string& key) { return Wait{this, &key}; }

  // Ends the running call of `key` with its first frame: kept when it settles
  // the outcome. Returns the operations waiting for it, to resume once that
  // frame is out.
  [[nodiscard]] std::vector<coro::coroutine_handle<>> Finish(const std::string& key, const Outbound& first_frame,
                                                             int64_t now_ms);

  size_t kept() const { return order_.size(); }

 private:
  struct Entry {
    uint64_t fingerprint = 0;
    std::optional<Outbound> answer;  // empty while the call runs
    int64_t expires_ms = 0;
    uint64_t bytes = 0;
    std::vector<coro::coroutine_handle<>> waiters;
  };
  static bool Settles(const Outbound& frame);
  void Prune(int64_t now_ms);

  IdempotencyLimits limits_;
  std::unordered_map<std::string, Entry> entries_;
  // Answered keys, oldest first (the window is the same for all); an entry
  // forgotten and begun again is found stale by its expiry.
  std::deque<std::pair<int64_t, std::string>> order_;
  uint64_t bytes_ = 0;
};

}  // namespace cloudkit
