// The Queue provider behind `memory` and `local`: queues as named records
// over message channels (message_channels.h) in one OrderedStore (a map in
// memory, SQLite natively, IndexedDB in the browser). This file keeps what is
// a queue's own: names and options, dead-letter links, deduplication of
// sends, purging and deleting (a new channel in one write; the old channel's
// messages collected after), and the arrivals the actor's long polls wait for.
//
// Calls overlap. Each holds its queue while it reads, decides and issues its
// write (sends share it; receives, acks and visibility changes take its
// messages alone; create, purge and delete take it whole), then lets go and
// waits for the write to be durable: the store applies calls in the order
// they are made, so the next call already sees the write.
//
// Other stores on the same location (browser tabs) keep locks and caches of
// their own: a creation's write expects the queue still absent, so of two
// tabs creating one queue exactly one succeeds. Deletions, purges and
// deliveries are not guarded so (docs/browser.md, "Many tabs on one origin").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cloudkit/store/v1/queue_records.pb.h"
#include "core/key_locks.h"
#include "ports/clock.h"
#include "ports/ordered_store.h"
#include "providers/embedded/message_channels.h"
#include "services/queue_provider.h"

namespace cloudkit::embedded {

class EmbeddedQueue : public QueueProvider {
 public:
  EmbeddedQueue(std::unique_ptr<ports::OrderedStore> store, ports::Clock* clock);

  Task<Result<v1::CreateQueueResponse>> CreateQueue(const v1::CreateQueueRequest& req) override;
  Task<Result<v1::DeleteQueueResponse>> DeleteQueue(const v1::DeleteQueueRequest& req) override;
  Task<Result<v1::ListQueuesResponse>> ListQueues(const v1::ListQueuesRequest& req) override;
  Task<Result<v1::SendResponse>> Send(const v1::SendRequest& req) override;
  Task<Result<v1::SendBatchResponse>> SendBatch(const v1::SendBatchRequest& req) override;
  Task<Result<Received>> Receive(const v1::ReceiveRequest& req) override;
  Task<Result<v1::AckResponse>> Ack(const v1::AckRequest& req) override;
  Task<Result<v1::ChangeVisibilityResponse>> ChangeVisibility(const v1::ChangeVisibilityRequest& req) override;
  Task<Result<v1::DepthResponse>> Depth(const v1::DepthRequest& req) override;
  Task<Result<v1::PurgeResponse>> Purge(const v1::PurgeRequest& req) override;
  std::vector<Arrival> TakeArrivals() override;

  static constexpr int64_t kDedupWindowMs = 5 * 60 * 1000;

 private:
  using Holding = std::unique_ptr<KeyLocks::Ticket>;
  // The queue's record (cached), or nullopt. REQUIRES: the caller holds the queue.
  Task<Result<std::optional<store::v1::QueueRecord>>> Load(const std::string& queue);
  // The same, NOT_FOUND naming the queue when it does not exist.
  Task<Result<store::v1::QueueRecord>> Require(const std::string& queue);
  // How a call holds its queue: sends and counts share it; receives, acks
  // and visibility changes take its messages alone; purge and delete take
  // all of it.
  enum class Access { kShared, kMessages, kWhole };
  // A queue held for a call: the holding, and the queue's record.
  struct Held {
    Holding holding;
    store::v1::QueueRecord record;
  };
  // Checks the queue's name, opens the channels, holds the queue (and, for
  // a send with deduplication ids, the deduplication records) and loads its
  // record (NOT_FOUND naming the queue when absent).
  Task<Result<Held>> Hold(const std::string& queue, Access access, bool deduplicates = false);
  // Issues `batch`, lets the holdings go, then waits until the batch is
  // durable. On failure forgets the cached record of `queue`, which the
  // caller may have changed for the batch.
  Task<Status> WriteAndRelease(ports::WriteBatch batch, const std::string& queue, Holding holding,
                               Holding more = nullptr);
  // Stages the removal of a few deduplication ids whose window has passed.
  Task<Status> StageDedupSweep(int64_t now, ports::WriteBatch* batch);
  Task<Result<v1::SendBatchResponse>> Enqueue(const std::string& queue,
                                              const google::protobuf::RepeatedPtrField<v1::SendBatchEntry>& entries);
  void NoteArrival(const std::string& queue, int64_t at_ms) { arrivals_.push_back({queue, at_ms}); }

  std::unique_ptr<ports::OrderedStore> store_;
  ports::Clock* clock_;
  MessageChannels channels_;
  KeyLocks locks_;
  std::unordered_map<std::string, store::v1::QueueRecord> queues_;  // records read or written, by name
  std::vector<Arrival> arrivals_;
};

}  // namespace cloudkit::embedded
