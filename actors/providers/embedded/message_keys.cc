#include "providers/embedded/message_keys.h"

#include <algorithm>

namespace cloudkit::embedded {
namespace {

constexpr std::string_view kMessagePrefix = "m/";
constexpr std::string_view kPayloadPrefix = "p/";
constexpr std::string_view kDedupPrefix = "d/";
constexpr std::string_view kShareCountPrefix = "c/";
constexpr std::string_view kTopicSubscriptionPrefix = "u/";

uint64_t Unsigned(int64_t value) { return static_cast<uint64_t>(std::max<int64_t>(value, 0)); }

std::string Join(std::string_view prefix, std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  std::string out;
  out.reserve(prefix.size() + a.size() + b.size() + c.size());
  out.append(prefix).append(a).append(b).append(c);
  return out;
}

}  // namespace

std::string BigEndian64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xFF);
    value >>= 8;
  }
  return out;
}

uint64_t ReadBigEndian64(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) value = value << 8 | static_cast<unsigned char>(bytes[i]);
  return value;
}

std::string QueueKey(std::string_view queue) { return Join(kQueuePrefix, queue); }
std::string TopicKey(std::string_view topic) { return Join(kTopicPrefix, topic); }
std::string SubscriptionKey(std::string_view subscription) { return Join(kSubscriptionPrefix, subscription); }
std::string TopicSubscriptionKey(std::string_view topic, std::string_view subscription) {
  return Join(kTopicSubscriptionPrefix, topic, "/", subscription);
}
std::string TopicSubscriptionsStart(std::string_view topic) { return Join(kTopicSubscriptionPrefix, topic, "/"); }

std::string MessageKey(uint64_t channel, int64_t rank, uint64_t seq) {
  return Join(kMessagePrefix, BigEndian64(channel), BigEndian64(Unsigned(rank)), BigEndian64(seq));
}
std::string ChannelStart(uint64_t channel) { return Join(kMessagePrefix, BigEndian64(channel)); }
std::string ChannelEnd(uint64_t channel) { return Join(kMessagePrefix, BigEndian64(channel + 1)); }
std::string RankStart(uint64_t channel, int64_t rank) {
  return Join(kMessagePrefix, BigEndian64(channel), BigEndian64(Unsigned(rank)));
}

std::optional<MessageKeyParts> ParseMessageKey(std::string_view key) {
  if (key.size() != kMessagePrefix.size() + 24 || !key.starts_with(kMessagePrefix)) return std::nullopt;
  key.remove_prefix(kMessagePrefix.size());
  return MessageKeyParts{ReadBigEndian64(key.substr(0, 8)), static_cast<int64_t>(ReadBigEndian64(key.substr(8, 8))),
                         ReadBigEndian64(key.substr(16, 8))};
}

std::string PayloadKey(uint64_t payload_id) { return Join(kPayloadPrefix, BigEndian64(payload_id)); }
std::string ShareCountKey(uint64_t payload_id) { return Join(kShareCountPrefix, BigEndian64(payload_id)); }

std::string DedupKey(uint64_t channel, std::string_view dedup_id) {
  return Join(kDedupPrefix, BigEndian64(channel), dedup_id);
}
std::string DedupExpiryKey(int64_t expires_ms, uint64_t channel, std::string_view dedup_id) {
  return Join(kDedupExpiryPrefix, BigEndian64(Unsigned(expires_ms)), BigEndian64(channel), dedup_id);
}
std::string DedupExpiryStart(int64_t expires_ms) { return Join(kDedupExpiryPrefix, BigEndian64(Unsigned(expires_ms))); }

std::optional<std::string> DedupKeyOfExpiry(std::string_view expiry_key) {
  if (expiry_key.size() < kDedupExpiryPrefix.size() + 16 || !expiry_key.starts_with(kDedupExpiryPrefix)) {
    return std::nullopt;
  }
  expiry_key.remove_prefix(kDedupExpiryPrefix.size() + 8);
  return Join(kDedupPrefix, expiry_key);
}

std::string GarbageKey(uint64_t channel) { return Join(kGarbagePrefix, BigEndian64(channel)); }

std::optional<uint64_t> ChannelOfGarbage(std::string_view garbage_key) {
  if (garbage_key.size() != kGarbagePrefix.size() + 8 || !garbage_key.starts_with(kGarbagePrefix)) return std::nullopt;
  return ReadBigEndian64(garbage_key.substr(kGarbagePrefix.size()));
}

}  // namespace cloudkit::embedded
