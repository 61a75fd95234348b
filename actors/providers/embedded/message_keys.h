// How the embedded Queue and PubSub providers lay their records out in an
// OrderedStore (each in a store of its own). Numbers are 8 bytes big-endian,
// so that key order is numeric order, and queue, topic and subscription names
// never contain NUL or '/' (providers/names):
//   "q/" name                          -> store.v1.QueueRecord
//   "t/" topic                         -> store.v1.TopicRecord
//   "s/" subscription                  -> store.v1.SubscriptionRecord
//   "u/" topic "/" subscription        -> ""   (a topic's subscriptions)
//   "m/" channel rank seq              -> store.v1.MessageState
//   "p/" payload                       -> store.v1.MessagePayload
//   "c/" payload                       -> share count (decimal): messages holding a shared payload
//   "d/" channel dedup_id              -> store.v1.DedupRecord
//   "e/" expires channel dedup_id      -> ""   (deduplication ids by expiry)
//   "g/" channel                       -> ""   (a channel whose messages are to be collected)
//   "\0ids"                            -> the generation of ids (hex)
// A channel holds one queue's or one subscription's messages. Its keys sort in delivery order: a
// standard queue ranks a message by the time it becomes visible, so that
// receiving is a scan of ranks up to now; a FIFO queue ranks every message 0,
// so that they sort by sequence number, which is send order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cloudkit::embedded {

inline constexpr std::string_view kQueuePrefix = "q/";
inline constexpr std::string_view kGarbagePrefix = "g/";
inline constexpr std::string_view kDedupExpiryPrefix = "e/";
inline constexpr std::string_view kIdGenerationKey{"\0ids", 4};

std::string QueueKey(std::string_view queue);

inline constexpr std::string_view kTopicPrefix = "t/";
inline constexpr std::string_view kSubscriptionPrefix = "s/";
std::string TopicKey(std::string_view topic);
std::string SubscriptionKey(std::string_view subscription);
// The entry naming `subscription` among its topic's, and where the topic's start.
std::string TopicSubscriptionKey(std::string_view topic, std::string_view subscription);
std::string TopicSubscriptionsStart(std::string_view topic);

// The key of a message's state, and the bounds of scans over a channel.
std::string MessageKey(uint64_t channel, int64_t rank, uint64_t seq);
std::string ChannelStart(uint64_t channel);
std::string ChannelEnd(uint64_t channel);
// Where the messages of rank `rank` and above start.
std::string RankStart(uint64_t channel, int64_t rank);
struct MessageKeyParts {
  uint64_t channel = 0;
  int64_t rank = 0;
  uint64_t seq = 0;
};
std::optional<MessageKeyParts> ParseMessageKey(std::string_view key);

std::string PayloadKey(uint64_t payload_id);
std::string ShareCountKey(uint64_t payload_id);

std::string DedupKey(uint64_t channel, std::string_view dedup_id);
std::string DedupExpiryKey(int64_t expires_ms, uint64_t channel, std::string_view dedup_id);
// Where the entries expiring at `expires_ms` and later start.
std::string DedupExpiryStart(int64_t expires_ms);
// The DedupKey an expiry entry names; nullopt when it is not one.
std::optional<std::string> DedupKeyOfExpiry(std::string_view expiry_key);

std::string GarbageKey(uint64_t channel);
std::optional<uint64_t> ChannelOfGarbage(std::string_view garbage_key);

// 8 bytes, most significant first; ranks and times below 0 count as 0.
std::string BigEndian64(uint64_t value);
uint64_t ReadBigEndian64(std::string_view bytes);

}  // namespace cloudkit::embedded
