// MessageChannels: the state of messages, apart from what owns them. A
// channel is an ordered set of messages with at-least-once delivery: a
// message is enqueued (possibly delayed), claimed by a receive (invisible
// for a while, its receive count one higher), and either acked (deleted) or,
// when its invisibility ends, claimed again; after a set number of receives
// it moves to a dead-letter channel instead. A queue is a channel with a
// name (embedded_queue); a pub/sub subscription is one fed by its topic
// (embedded_pubsub), and one publish puts a message into several channels
// that share one payload record, deleted with the last of them.
//
// Everything a step changes is staged into one WriteBatch, which the caller
// writes atomically with its own records. Keys: providers/embedded/message_keys.h.
//
// REQUIRES: called from the turns of one actor; the caller keeps claims,
// acks and visibility changes of one channel from overlapping (they read,
// decide and write).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cloudkit/store/v1/queue_records.pb.h"
#include "cloudkit/v1/queue.pb.h"
#include "core/key_locks.h"
#include "core/status.h"
#include "core/task.h"
#include "ports/clock.h"
#include "ports/ordered_store.h"

namespace cloudkit::embedded {

struct Channel {
  uint64_t id = 0;
  bool fifo = false;   // one group: delivery in send order, a message out blocks those behind it
  std::string label;   // for messages: "queue 'jobs'"
};

// Where a channel's messages go after `max_receives` receives.
struct DeadLetter {
  Channel channel;
  uint32_t max_receives = 0;
};

// What a receipt handle names: one receive of one message.
struct Receipt {
  uint64_t channel = 0;
  int64_t rank = 0;  // when the message becomes visible: its rank on a standard channel
  uint64_t seq = 0;
  uint32_t receive_count = 0;
};
std::string EncodeReceipt(const Receipt& receipt);
// INVALID_ARGUMENT when `handle` is not one EncodeReceipt made.
Result<Receipt> DecodeReceipt(std::string_view handle);
// Message ids as clients see them: 16 hex digits.
std::string MessageId(uint64_t payload_id);
// INVALID_ARGUMENT unless the message keeps the limits of queues and topics
// alike: at most 1 MiB of body and attributes, at most 16 attributes, names
// of 1 to 256 bytes without NUL.
Status CheckMessage(const std::string& body, const google::protobuf::Map<std::string, std::string>& attributes);
// INVALID_ARGUMENT unless a batch holds 1..100 messages; `verb` names it ("send").
Status CheckBatchSize(int messages, const std::string& verb);

class MessageChannels {
 public:
  MessageChannels(ports::OrderedStore* store, ports::Clock* clock);

  // Makes the channels ready on first use: claims a new generation of ids
  // (one durable write) and collects the channels a crash left half
  // collected. Cheap once done; every other call needs it first.
  Task<Status> Open();

  // A new id, larger than every id given before in this store (also
  // before a restart): channels, sequence numbers and payloads take them.
  // REQUIRES: Open succeeded.
  uint64_t NextId();

  // Stages a new message, receivable from `visible_at_ms`; returns its payload id.
  uint64_t StageEnqueue(const Channel& channel, const store::v1::MessagePayload& payload, int64_t visible_at_ms,
                        ports::WriteBatch* batch);
  // Stages one message into each of `channels` (a publish fanned out to its
  // subscriptions), all holding one payload record; returns the payload id,
  // the message id of every copy. No channels: nothing is staged.
  uint64_t StageFanOut(const std::vector<const Channel*>& channels, const store::v1::MessagePayload& payload,
                       int64_t visible_at_ms, ports::WriteBatch* batch);

  struct Claimed {
    std::vector<v1::ReceivedMessage> messages;
    size_t dead_lettered = 0;
    // When the next message may become receivable (0 = no message waits):
    // when nothing was claimed, the earliest waiting; else at the latest when
    // those claimed come back.
    int64_t next_visible_ms = 0;
  };
  // Claims up to `max` receivable messages, in delivery order, invisible for
  // `visibility_ms`, and stages the moves of those that were received
  // dead_letter->max_receives times to the dead-letter channel (null: none).
  Task<Result<Claimed>> Claim(const Channel& channel, const DeadLetter* dead_letter, uint32_t max,
                              int64_t visibility_ms, ports::WriteBatch* batch);

  // Stages the deletion of the message `receipt` names, with its payload
  // unless the payload is shared: then the payload's id goes to
  // `shared_payloads`, for StageShareReleases. FAILED_PRECONDITION when the
  // receipt is not the message's latest.
  Task<Status> StageAck(const Channel& channel, const Receipt& receipt, ports::WriteBatch* batch,
                        std::vector<uint64_t>* shared_payloads);

  // Share counts held from StageShareReleases until the caller has issued
  // its batch: no other release reads a count meanwhile.
  using SharesHeld = std::unique_ptr<KeyLocks::Ticket>;
  // Stages one release of each payload of `payloads` (a repeat releases
  // twice): its share count goes down, and the last release deletes the
  // payload. Drop the answer once `batch` is issued (no payloads: nothing
  // is held).
  Task<Result<SharesHeld>> StageShareReleases(const std::vector<uint64_t>& payloads, ports::WriteBatch* batch);
  // Stages a new invisibility end for the message; answers its new receipt.
  Task<Result<Receipt>> StageVisibility(const Channel& channel, const Receipt& receipt, int64_t visible_at_ms,
                                        ports::WriteBatch* batch);

  Task<Result<v1::DepthResponse>> Count(const Channel& channel);

  // Stages a mark that `channel` is to be collected: write it with the
  // change that stops using the channel, then Collect it.
  static void StageDiscard(uint64_t channel, ports::WriteBatch* batch);
  // Deletes the messages of a discarded channel, a bounded batch at a time,
  // then its mark; answers how many there were.
  Task<Result<uint64_t>> Collect(uint64_t channel);

 private:
  Status Corrupt(const Channel& channel, std::string_view what) const;
  Task<Result<store::v1::MessageState>> LoadCurrent(const Channel& channel, const Receipt& receipt);

  ports::OrderedStore* store_;
  ports::Clock* clock_;
  KeyLocks opening_;
  KeyLocks shares_;  // one key: releases of shared payloads read and write counts one call at a time
  bool open_ = false;
  uint64_t generation_ = 0;
  uint64_t issued_ = 0;  // ids given in this generation
};

}  // namespace cloudkit::embedded
