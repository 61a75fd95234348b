#include "services/idempotent_calls.h"

#include <functional>
#include <utility>

namespace cloudkit {
namespace {

constexpr uint64_t kEntryOverheadBytes = 128;

}  // namespace

uint64_t IdempotentCalls::Fingerprint(std::string_view method, std::string_view body) {
  const uint64_t m = std::hash<std::string_view>{}(method);
  const uint64_t b = std::hash<std::string_view>{}(body);
  return m ^ (b + 0x9E3779B97F4A7C15ull + (m << 6) + (m >> 2));
}

bool IdempotentCalls::Settles(const Outbound& frame) {
  if (!frame.ends_call || frame.kind != v1::RESPONSE) return false;  // a stream's start
  if (frame.status.ok()) return true;
  const v1::StatusCode code = frame.status.code();
  return !frame.status.retryable() && code != v1::INTERNAL && code != v1::DEADLINE_EXCEEDED;
}

IdempotentCalls::Lookup IdempotentCalls::Begin(const std::string& key, uint64_t fingerprint, int64_t now_ms) {
  Prune(now_ms);
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& entry = it->second;
  if (inserted) {
    entry.fingerprint = fingerprint;
    return {State::kNew};
  }
  if (entry.fingerprint != fingerprint) return {State::kConflict};
  if (!entry.answer) return {State::kRunning};
  return {State::kAnswered, &*entry.answer};
}

std::vector<coro::coroutine_handle<>> IdempotentCalls::Finish(const std::string& key, const Outbound& first_frame,
                                                              int64_t now_ms) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return {};
  std::vector<coro::coroutine_handle<>> waiters = std::move(it->second.waiters);
  const uint64_t bytes = kEntryOverheadBytes + key.size() + first_frame.body.size() + first_frame.status.message().size();
  if (!Settles(first_frame) || first_frame.body.size() > kMaxAnswerBytes) {
    entries_.erase(it);
    return waiters;
  }
  Entry& entry = it->second;
  entry.answer = first_frame;
  entry.answer->call_id = 0;
  entry.expires_ms = now_ms + limits_.window_ms;
  entry.bytes = bytes;
  bytes_ += bytes;
  order_.emplace_back(entry.expires_ms, key);
  Prune(now_ms);
  return waiters;
}

void IdempotentCalls::Prune(int64_t now_ms) {
  while (!order_.empty() && (order_.front().first <= now_ms || bytes_ > limits_.memory_bytes)) {
    auto it = entries_.find(order_.front().second);
    // Only the answered entry this place was made for: the key may have been
    // forgotten and begun again since.
    if (it != entries_.end() && it->second.answer && it->second.expires_ms == order_.front().first) {
      bytes_ -= it->second.bytes;
      entries_.erase(it);
    }
    order_.pop_front();
  }
}

}  // namespace cloudkit
