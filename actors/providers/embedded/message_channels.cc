#include "providers/embedded/message_channels.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <utility>

#include "core/hex.h"
#include "core/next_turn.h"
#include "providers/embedded/message_keys.h"
#include "providers/embedded/store_keys.h"
#include "providers/names.h"
#include "services/call_frames.h"

namespace cloudkit::embedded {
namespace {

using store::v1::MessagePayload;
using store::v1::MessageState;

constexpr int kIdBits = 40;                    // per generation; the generation takes the bits above
constexpr uint64_t kMaxGeneration = (uint64_t{1} << (64 - kIdBits)) - 1;
constexpr size_t kMaxExaminedPerClaim = 1000;  // bounds one claim's batch (dead-lettered messages)
// What the messages of one claim may hold, so that their reply fits in one
// (frames::kMaxReplyBytes, with room for the envelope): a claim stops before
// the message that would not fit, and that message stays receivable.
constexpr size_t kMaxClaimBytes = frames::kMaxReplyBytes - (64 << 10);
constexpr size_t kCountPage = 1000;
constexpr size_t kCollectStep = 256;
constexpr size_t kReceiptBytes = 28;
constexpr size_t kMaxMessageBytes = 1 << 20;  // body and attributes
constexpr int kMaxAttributes = 16;
constexpr size_t kMaxAttributeName = 256;

// An awaitable of a write already issued (g++ 12 wants prvalue awaiters).
Async<Status> Pending(Async<Status>& issued) { return std::move(issued); }

Status Stale(const Channel& channel) {
  return Status::FailedPrecondition("stale receipt handle for " + channel.label +
                                    ": the message was received again, its visibility changed, or it was "
                                    "acked or purged since");
}

}  // namespace

std::string EncodeReceipt(const Receipt& receipt) {
  std::string raw = BigEndian64(receipt.channel) + BigEndian64(static_cast<uint64_t>(receipt.rank)) +
                    BigEndian64(receipt.seq) + BigEndian64(receipt.receive_count).substr(4);
  return ToHex(raw);
}

Result<Receipt> DecodeReceipt(std::string_view handle) {
  std::optional<std::string> raw = DecodeToken(handle);
  if (!raw || raw->size() != kReceiptBytes) {
    return Status::InvalidArgument("not a receipt handle: " + names::Quote(handle));
  }
  std::string_view bytes(*raw);
  Receipt receipt;
  receipt.channel = ReadBigEndian64(bytes.substr(0, 8));
  receipt.rank = static_cast<int64_t>(ReadBigEndian64(bytes.substr(8, 8)));
  receipt.seq = ReadBigEndian64(bytes.substr(16, 8));
  receipt.receive_count = static_cast<uint32_t>(ReadBigEndian64(bytes.substr(20)) & 0xFFFFFFFFu);
  return receipt;
}

std::string MessageId(uint64_t payload_id) { return ToHex(BigEndian64(payload_id)); }

Status CheckBatchSize(int messages, const std::string& verb) {
  constexpr int kMaxBatch = 100;
  if (messages == 0) return Status::InvalidArgument("a batch " + verb + " of no messages");
  if (messages > kMaxBatch) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxBatch) + " messages per batch " + verb + ", got " +
                                   std::to_string(messages));
  }
  return Status::Ok();
}

Status CheckMessage(const std::string& body, const google::protobuf::Map<std::string, std::string>& attributes) {
  size_t bytes = body.size();
  if (attributes.size() > kMaxAttributes) {
    return Status::InvalidArgument("a message has " + std::to_string(attributes.size()) + " attributes, more than " +
                                   std::to_string(kMaxAttributes));
  }
  for (const auto& [name, value] : attributes) {
    if (name.empty() || name.size() > kMaxAttributeName || name.find('\0') != std::string::npos) {
      return Status::InvalidArgument("attribute name " + names::Quote(name) + " must be 1 to " +
                                     std::to_string(kMaxAttributeName) + " bytes without NUL");
    }
    bytes += name.size() + value.size();
  }
  if (bytes > kMaxMessageBytes) {
    return Status::InvalidArgument("a message of " + std::to_string(bytes) + " bytes (body and attributes) is over " +
                                   std::to_string(kMaxMessageBytes));
  }
  return Status::Ok();
}

MessageChannels::MessageChannels(ports::OrderedStore* store, ports::Clock* clock) : store_(store), clock_(clock) {}

Task<Status> MessageChannels::Open() {
  if (open_) co_return Status::Ok();
  // Calls that arrive together open once: the first claims, the others wait.
  auto holding = opening_.Acquire({{"open", true}});
  co_await holding->Granted();
  if (open_) co_return Status::Ok();
  const std::string generation_key(kIdGenerationKey);
  // Another store open on the location (a browser tab) may claim at once:
  // a claim writes only over the generation it read.
  uint64_t previous = 0;
  for (int conflicts = 0;; ++conflicts) {
    Result<std::string> stored = co_await store_->Get(generation_key);
    previous = 0;
    if (stored.ok()) {
      previous = std::strtoull(stored->c_str(), nullptr, 16);
    } else if (stored.status().code() != v1::NOT_FOUND) {
      co_return stored.status();
    }
    if (previous >= kMaxGeneration) co_return Status::Internal("message ids exhausted: the store was opened too often");
    ports::WriteBatch claim;
    claim.Expect(generation_key, stored.ok() ? std::optional<std::string>(std::move(*stored)) : std::nullopt);
    claim.Put(generation_key, ToHex(BigEndian64(previous + 1)));
    Status written = co_await store_->Write(std::move(claim));
    if (ports::IsWriteConflict(written) && conflicts < ports::kMaxWriteConflicts) continue;
    CK_CO_RETURN_IF_ERROR(written);
    break;
  }
  generation_ = previous + 1;
  issued_ = 0;
  // Channels discarded before a crash, not yet collected.
  const std::string garbage_start(kGarbagePrefix);
  const std::string garbage_end = PrefixSuccessor(kGarbagePrefix);
  for (;;) {
    Result<ports::OrderedStore::Entries> marks = co_await store_->Scan(garbage_start, garbage_end, kCollectStep);
    if (!marks.ok()) co_return marks.status();
    if (marks->empty()) break;
    for (const auto& entry : *marks) {
      std::optional<uint64_t> channel = ChannelOfGarbage(entry.first);
      if (!channel) co_return Status::Internal("corrupt channel mark in the queue store");
      Result<uint64_t> collected = co_await Collect(*channel);
      if (!collected.ok()) co_return collected.status();
    }
  }
  open_ = true;
  co_return Status::Ok();
}

uint64_t MessageChannels::NextId() {
  // About 10^12 ids per opening of the store; a new opening starts a new generation.
  if (issued_ + 1 >= (uint64_t{1} << kIdBits)) throw std::overflow_error("message ids of this generation exhausted");
  return generation_ << kIdBits | ++issued_;
}

uint64_t MessageChannels::StageEnqueue(const Channel& channel, const MessagePayload& payload, int64_t visible_at_ms,
                                       ports::WriteBatch* batch) {
  return StageFanOut({&channel}, payload, visible_at_ms, batch);
}

uint64_t MessageChannels::StageFanOut(const std::vector<const Channel*>& channels, const MessagePayload& payload,
                                      int64_t visible_at_ms, ports::WriteBatch* batch) {
  // The first sequence number of a message is also its payload's id (the
  // copies are told apart by their channels).
  const uint64_t id = NextId();
  if (channels.empty()) return id;
  const bool shared = channels.size() > 1;
  MessageState state;
  state.set_payload_id(id);
  state.set_visible_at_ms(visible_at_ms);
  state.set_shared_payload(shared);
  const std::string serialized = state.SerializeAsString();
  for (const Channel* channel : channels) {
    batch->Put(MessageKey(channel->id, channel->fifo ? 0 : visible_at_ms, id), serialized);
  }
  batch->Put(PayloadKey(id), payload.SerializeAsString());
  if (shared) batch->Put(ShareCountKey(id), std::to_string(channels.size()));
  return id;
}

Status MessageChannels::Corrupt(const Channel& channel, std::string_view what) const {
  return Status::Internal("corrupt " + std::string(what) + " in " + channel.label);
}

namespace {

// A message's key from its receipt. A standard channel ranks messages by the
// time they become visible, which the receipt holds; a FIFO channel keeps
// them at rank 0, in send order, and its receipts hold that time only as a
// stamp, so that a receipt from before a visibility change is stale there too.
std::string KeyOfReceipt(const Channel& channel, const Receipt& receipt) {
  return MessageKey(receipt.channel, channel.fifo ? 0 : receipt.rank, receipt.seq);
}

}  // namespace

Task<Result<MessageChannels::Claimed>> MessageChannels::Claim(const Channel& channel, const DeadLetter* dead_letter,
                                                               uint32_t max, int64_t visibility_ms,
                                                               ports::WriteBatch* batch) {
  const int64_t now = clock_->NowMs();
  Claimed claimed;
  std::string from = ChannelStart(channel.id);
  // A standard channel's receivable messages are those ranked up to now; a
  // FIFO channel's are those at its head, up to the first one still invisible.
  const std::string end = channel.fifo ? ChannelEnd(channel.id) : RankStart(channel.id, now + 1);
  bool blocked = false, exhausted = false, full = false;
  size_t examined = 0;
  size_t claimed_bytes = 0;
  while (claimed.messages.size() < max && !blocked && !exhausted && !full && examined < kMaxExaminedPerClaim) {
    const size_t want = max - claimed.messages.size();
    Result<ports::OrderedStore::Entries> entries = co_await store_->Scan(from, end, want);
    if (!entries.ok()) co_return entries.status();
    exhausted = entries->size() < want;
    for (const auto& [key, value] : *entries) {
      from = key + '\0';
      ++examined;
      std::optional<MessageKeyParts> parts = ParseMessageKey(key);
      MessageState state;
      if (!parts || !state.ParseFromString(value)) co_return Corrupt(channel, "message state");
      if (state.visible_at_ms() > now) {
        blocked = true;
        claimed.next_visible_ms = state.visible_at_ms();
        break;
      }
      if (dead_letter != nullptr && state.receive_count() >= dead_letter->max_receives) {
        const Channel& target = dead_letter->channel;
        state.set_receive_count(0);
        state.set_visible_at_ms(now);
        batch->Delete(key);
        batch->Put(MessageKey(target.id, target.fifo ? 0 : now, NextId()), state.SerializeAsString());
        claimed.dead_lettered++;
        continue;
      }
      Result<std::string> raw_payload = co_await store_->Get(PayloadKey(state.payload_id()));
      if (!raw_payload.ok()) {
        co_return raw_payload.status().code() == v1::NOT_FOUND ? Corrupt(channel, "message (payload missing)")
                                                              : raw_payload.status();
      }
      MessagePayload payload;
      if (!payload.ParseFromString(*raw_payload)) co_return Corrupt(channel, "message payload");
      // A message's own size bounds its reply's share (the receipt and a few numbers besides).
      const size_t message_bytes = raw_payload->size() + 128;
      if (!claimed.messages.empty() && claimed_bytes + message_bytes > kMaxClaimBytes) {
        full = true;
        break;
      }
      claimed_bytes += message_bytes;
      state.set_receive_count(state.receive_count() + 1);
      state.set_visible_at_ms(now + visibility_ms);
      const Receipt receipt{channel.id, state.visible_at_ms(), parts->seq, state.receive_count()};
      const std::string new_key = KeyOfReceipt(channel, receipt);
      if (new_key != key) batch->Delete(key);
      batch->Put(new_key, state.SerializeAsString());
      v1::ReceivedMessage& message = claimed.messages.emplace_back();
      message.set_message_id(MessageId(state.payload_id()));
      message.set_body(std::move(*payload.mutable_body()));
      message.mutable_attributes()->swap(*payload.mutable_attributes());
      message.set_receipt_handle(EncodeReceipt(receipt));
      message.set_receive_count(state.receive_count());
      message.set_sent_ms(payload.sent_ms());
      message.set_invisible_until_ms(state.visible_at_ms());
      if (claimed.messages.size() == max) break;
    }
  }
  if (!claimed.messages.empty()) {
    // Those claimed come back then unless acked: a stream that keeps waiting wakes for them.
    const int64_t back_at = now + visibility_ms;
    claimed.next_visible_ms = claimed.next_visible_ms == 0 ? back_at : std::min(claimed.next_visible_ms, back_at);
  } else if (!blocked) {
    if (!exhausted) {
      claimed.next_visible_ms = now;  // stopped early (many dead-lettered): more may be receivable now
    } else if (!channel.fifo) {
      Result<ports::OrderedStore::Entries> next = co_await store_->Scan(end, ChannelEnd(channel.id), 1);
      if (!next.ok()) co_return next.status();
      if (!next->empty()) {
        std::optional<MessageKeyParts> parts = ParseMessageKey(next->front().first);
        if (!parts) co_return Corrupt(channel, "message key");
        claimed.next_visible_ms = parts->rank;
      }
    }
  }
  co_return claimed;
}

Task<Result<MessageState>> MessageChannels::LoadCurrent(const Channel& channel, const Receipt& receipt) {
  if (receipt.channel != channel.id) co_return Stale(channel);
  Result<std::string> raw = co_await store_->Get(KeyOfReceipt(channel, receipt));
  if (!raw.ok()) co_return raw.status().code() == v1::NOT_FOUND ? Stale(channel) : raw.status();
  MessageState state;
  if (!state.ParseFromString(*raw)) co_return Corrupt(channel, "message state");
  if (state.receive_count() != receipt.receive_count) co_return Stale(channel);
  if (channel.fifo && state.visible_at_ms() != receipt.rank) co_return Stale(channel);
  co_return state;
}

Task<Status> MessageChannels::StageAck(const Channel& channel, const Receipt& receipt, ports::WriteBatch* batch,
                                       std::vector<uint64_t>* shared_payloads) {
  Result<MessageState> state = co_await LoadCurrent(channel, receipt);
  if (!state.ok()) co_return state.status();
  batch->Delete(KeyOfReceipt(channel, receipt));
  if (state->shared_payload()) {
    shared_payloads->push_back(state->payload_id());
  } else {
    batch->Delete(PayloadKey(state->payload_id()));
  }
  co_return Status::Ok();
}

Task<Result<MessageChannels::SharesHeld>> MessageChannels::StageShareReleases(const std::vector<uint64_t>& payloads,
                                                                             ports::WriteBatch* batch) {
  if (payloads.empty()) co_return SharesHeld();
  SharesHeld held = shares_.Acquire({{"shares", true}});
  co_await held->Granted();
  std::map<uint64_t, uint64_t> releases;  // payload -> how many
  for (uint64_t payload : payloads) releases[payload]++;
  for (const auto& [payload, released] : releases) {
    Result<std::string> raw = co_await store_->Get(ShareCountKey(payload));
    if (!raw.ok() && raw.status().code() != v1::NOT_FOUND) co_return raw.status();
    // No count: a crash between writes cannot leave one missing (a count
    // goes with its payload), so the payload is gone already.
    const uint64_t count = raw.ok() ? std::strtoull(raw->c_str(), nullptr, 10) : 0;
    if (count > released) {
      batch->Put(ShareCountKey(payload), std::to_string(count - released));
    } else {
      batch->Delete(ShareCountKey(payload));
      batch->Delete(PayloadKey(payload));
    }
  }
  co_return held;
}

Task<Result<Receipt>> MessageChannels::StageVisibility(const Channel& channel, const Receipt& receipt,
                                                       int64_t visible_at_ms, ports::WriteBatch* batch) {
  Result<MessageState> state = co_await LoadCurrent(channel, receipt);
  if (!state.ok()) co_return state.status();
  Receipt moved = receipt;
  moved.rank = visible_at_ms;
  state->set_visible_at_ms(visible_at_ms);
  const std::string old_key = KeyOfReceipt(channel, receipt);
  const std::string new_key = KeyOfReceipt(channel, moved);
  if (new_key != old_key) batch->Delete(old_key);
  batch->Put(new_key, state->SerializeAsString());
  co_return moved;
}

Task<Result<v1::DepthResponse>> MessageChannels::Count(const Channel& channel) {
  const int64_t now = clock_->NowMs();
  v1::DepthResponse depth;
  std::string from = ChannelStart(channel.id);
  const std::string end = ChannelEnd(channel.id);
  for (;;) {
    Result<ports::OrderedStore::Entries> entries = co_await store_->Scan(from, end, kCountPage);
    if (!entries.ok()) co_return entries.status();
    for (const auto& [key, value] : *entries) {
      MessageState state;
      if (!state.ParseFromString(value)) co_return Corrupt(channel, "message state");
      if (state.visible_at_ms() <= now) {
        depth.set_visible(depth.visible() + 1);
      } else if (state.receive_count() > 0) {
        depth.set_in_flight(depth.in_flight() + 1);
      } else {
        depth.set_delayed(depth.delayed() + 1);
      }
    }
    if (entries->size() < kCountPage) break;
    from = entries->back().first + '\0';
    co_await NextTurn();  // a long queue is counted over many turns
  }
  co_return depth;
}

void MessageChannels::StageDiscard(uint64_t channel, ports::WriteBatch* batch) { batch->Put(GarbageKey(channel), ""); }

Task<Result<uint64_t>> MessageChannels::Collect(uint64_t channel) {
  uint64_t collected = 0;
  const std::string start = ChannelStart(channel), end = ChannelEnd(channel);
  for (;;) {
    Result<ports::OrderedStore::Entries> entries = co_await store_->Scan(start, end, kCollectStep);
    if (!entries.ok()) co_return entries.status();
    ports::WriteBatch batch;
    std::vector<uint64_t> shared;
    for (const auto& [key, value] : *entries) {
      batch.Delete(key);
      MessageState state;
      if (!state.ParseFromString(value)) continue;
      if (state.shared_payload()) {
        shared.push_back(state.payload_id());
      } else {
        batch.Delete(PayloadKey(state.payload_id()));
      }
    }
    Result<SharesHeld> held = co_await StageShareReleases(shared, &batch);
    if (!held.ok()) co_return held.status();
    const bool last = entries->size() < kCollectStep;
    if (last) batch.Delete(GarbageKey(channel));
    Async<Status> issued = store_->Write(std::move(batch));
    held->reset();
    CK_CO_RETURN_IF_ERROR(co_await Pending(issued));
    collected += entries->size();
    if (last) co_return collected;
    co_await NextTurn();  // a long queue is collected over many turns
  }
}

}  // namespace cloudkit::embedded
