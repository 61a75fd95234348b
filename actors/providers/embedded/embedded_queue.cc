#include "providers/embedded/embedded_queue.h"

#include <algorithm>
#include <utility>

#include "providers/embedded/message_keys.h"
#include "providers/embedded/store_keys.h"
#include "providers/names.h"

namespace cloudkit::embedded {
namespace {

using store::v1::QueueRecord;

constexpr uint32_t kDefaultVisibilityMs = 30'000;
constexpr uint32_t kMaxVisibilityMs = 12 * 60 * 60 * 1000;
constexpr uint32_t kMaxDelayMs = 15 * 60 * 1000;
constexpr size_t kMaxDedupId = 128;
constexpr uint32_t kMaxReceive = 100;
constexpr uint32_t kMaxReceives = 1000;
constexpr uint32_t kMaxPageSize = 1000;
constexpr size_t kDedupSweepStep = 16;

std::string Describe(const std::string& queue) { return "queue " + names::Quote(queue); }

// Lock names: a queue as a whole (its record), and its messages' states.
KeyLocks::Key WholeQueue(const std::string& queue, bool exclusive) { return {std::string(1, 'q') + '\0' + queue, exclusive}; }
KeyLocks::Key QueueMessages(const std::string& queue) { return {std::string(1, 's') + '\0' + queue, true}; }
// Sends with deduplication ids go one at a time: each may also sweep ids of
// any queue whose window has passed.
KeyLocks::Key Deduplication() { return {std::string_view("\0dedup", 6), true}; }

Channel ChannelOf(const std::string& queue, const QueueRecord& record) {
  return Channel{record.channel(), record.options().fifo(), Describe(queue)};
}

Status CheckVisibility(const char* what, uint32_t ms) {
  if (ms <= kMaxVisibilityMs) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " of " + std::to_string(ms) + " ms is over the limit of " +
                                 std::to_string(kMaxVisibilityMs) + " ms (12 h)");
}

Status CheckOptions(const std::string& queue, const v1::QueueOptions& options) {
  CK_RETURN_IF_ERROR(CheckVisibility("visibility timeout", options.visibility_timeout_ms()));
  const bool dead_letters = !options.dead_letter_queue().empty();
  if (dead_letters != (options.max_receives() != 0)) {
    return Status::InvalidArgument(Describe(queue) + ": max_receives and dead_letter_queue go together");
  }
  if (!dead_letters) return Status::Ok();
  CK_RETURN_IF_ERROR(names::CheckContainerName("dead-letter queue", options.dead_letter_queue()));
  if (options.dead_letter_queue() == queue) {
    return Status::InvalidArgument(Describe(queue) + " cannot be its own dead-letter queue");
  }
  if (options.max_receives() > kMaxReceives) {
    return Status::InvalidArgument(Describe(queue) + ": max_receives " + std::to_string(options.max_receives()) +
                                   " is over " + std::to_string(kMaxReceives));
  }
  return Status::Ok();
}

Status CheckEntry(const v1::SendBatchEntry& entry) {
  CK_RETURN_IF_ERROR(CheckMessage(entry.body(), entry.attributes()));
  if (entry.delay_ms() > kMaxDelayMs) {
    return Status::InvalidArgument("delay of " + std::to_string(entry.delay_ms()) + " ms is over the limit of " +
                                   std::to_string(kMaxDelayMs) + " ms (15 min)");
  }
  if (entry.deduplication_id().size() > kMaxDedupId) {
    return Status::InvalidArgument("deduplication id " + names::Quote(entry.deduplication_id()) + " is longer than " +
                                   std::to_string(kMaxDedupId) + " bytes");
  }
  return Status::Ok();
}

// The queue's default visibility timeout in effect.
uint32_t VisibilityOf(const v1::QueueOptions& options) {
  return options.visibility_timeout_ms() != 0 ? options.visibility_timeout_ms() : kDefaultVisibilityMs;
}

v1::QueueInfo InfoOf(const std::string& queue, const QueueRecord& record) {
  v1::QueueInfo info;
  info.set_name(queue);
  *info.mutable_options() = record.options();
  info.mutable_options()->set_visibility_timeout_ms(VisibilityOf(record.options()));  // not the 0 that asked for it
  info.set_created_ms(record.created_ms());
  return info;
}

// An awaitable of a write already issued (g++ 12 wants prvalue awaiters).
Async<Status> Pending(Async<Status>& issued) { return std::move(issued); }

}  // namespace

EmbeddedQueue::EmbeddedQueue(std::unique_ptr<ports::OrderedStore> store, ports::Clock* clock)
    : store_(std::move(store)), clock_(clock), channels_(store_.get(), clock) {}

Task<Result<std::optional<QueueRecord>>> EmbeddedQueue::Load(const std::string& queue) {
  if (auto it = queues_.find(queue); it != queues_.end()) co_return std::optional<QueueRecord>(it->second);
  Result<std::string> raw = co_await store_->Get(QueueKey(queue));
  if (!raw.ok()) {
    if (raw.status().code() == v1::NOT_FOUND) co_return std::optional<QueueRecord>();
    co_return raw.status();
  }
  QueueRecord record;
  if (!record.ParseFromString(*raw)) co_return Status::Internal("corrupt record of " + Describe(queue));
  queues_.emplace(queue, record);
  co_return std::optional<QueueRecord>(std::move(record));
}

Task<Result<QueueRecord>> EmbeddedQueue::Require(const std::string& queue) {
  Result<std::optional<QueueRecord>> record = co_await Load(queue);
  if (!record.ok()) co_return record.status();
  if (!*record) co_return Status::NotFound(Describe(queue));
  co_return std::move(**record);
}

Task<Result<EmbeddedQueue::Held>> EmbeddedQueue::Hold(const std::string& queue, Access access, bool deduplicates) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("queue", queue));
  CK_CO_RETURN_IF_ERROR(co_await channels_.Open());
  std::vector<KeyLocks::Key> keys = {WholeQueue(queue, access == Access::kWhole)};
  if (access != Access::kShared) keys.push_back(QueueMessages(queue));
  if (deduplicates) keys.push_back(Deduplication());
  Held held;
  held.holding = locks_.Acquire(std::move(keys));
  co_await held.holding->Granted();
  Result<QueueRecord> record = co_await Require(queue);
  if (!record.ok()) co_return record.status();
  held.record = std::move(*record);
  co_return held;
}

Task<Status> EmbeddedQueue::WriteAndRelease(ports::WriteBatch batch, const std::string& queue, Holding holding,
                                            Holding more) {
  Async<Status> issued = store_->Write(std::move(batch));
  holding.reset();
  more.reset();
  Status written = co_await Pending(issued);
  if (!written.ok()) queues_.erase(queue);
  co_return written;
}

Task<Result<v1::CreateQueueResponse>> EmbeddedQueue::CreateQueue(const v1::CreateQueueRequest& req) {
  const std::string& queue = req.queue();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("queue", queue));
  CK_CO_RETURN_IF_ERROR(CheckOptions(queue, req.options()));
  CK_CO_RETURN_IF_ERROR(co_await channels_.Open());
  const std::string& dead_letter = req.options().dead_letter_queue();
  // Another store on the location (a browser tab) may create the queue
  // between our read and our write: the write expects it still absent, and
  // when it is not, the queue is read again.
  for (int conflicts = 0;; ++conflicts) {
    std::vector<KeyLocks::Key> keys = {WholeQueue(queue, true)};
    if (!dead_letter.empty()) keys.push_back(WholeQueue(dead_letter, false));
    Holding holding = locks_.Acquire(std::move(keys));
    co_await holding->Granted();
    Result<std::optional<QueueRecord>> current = co_await Load(queue);
    if (!current.ok()) co_return current.status();
    if (*current) co_return Status::AlreadyExists(Describe(queue));
    if (!dead_letter.empty()) {
      Result<std::optional<QueueRecord>> target = co_await Load(dead_letter);
      if (!target.ok()) co_return target.status();
      if (!*target) co_return Status::NotFound("dead-letter " + Describe(dead_letter) + " of " + Describe(queue));
      if ((*target)->options().fifo() != req.options().fifo()) {
        co_return Status::InvalidArgument("dead-letter " + Describe(dead_letter) + " is " +
                                          ((*target)->options().fifo() ? "FIFO" : "standard") + " and " +
                                          Describe(queue) + " is not");
      }
    }
    QueueRecord record;
    record.set_channel(channels_.NextId());
    *record.mutable_options() = req.options();
    record.set_created_ms(clock_->NowMs());
    ports::WriteBatch batch;
    batch.Expect(QueueKey(queue), std::nullopt);
    batch.Put(QueueKey(queue), record.SerializeAsString());
    // Not cached: the write may lose to another store's creation, and the
    // calls made meanwhile then read from the store whichever record landed.
    Status written = co_await WriteAndRelease(std::move(batch), queue, std::move(holding));
    if (ports::IsWriteConflict(written)) {
      if (conflicts < ports::kMaxWriteConflicts) continue;
      co_return Status::Aborted(Describe(queue) + " kept being created and deleted by another store meanwhile");
    }
    CK_CO_RETURN_IF_ERROR(written);
    v1::CreateQueueResponse resp;
    *resp.mutable_queue() = InfoOf(queue, record);
    co_return resp;
  }
}

Task<Result<v1::DeleteQueueResponse>> EmbeddedQueue::DeleteQueue(const v1::DeleteQueueRequest& req) {
  const std::string& queue = req.queue();
  Result<Held> held = co_await Hold(queue, Access::kWhole);
  if (!held.ok()) co_return held.status();
  const uint64_t channel = held->record.channel();
  // A queue another one dead-letters into stays: its messages would have nowhere to go.
  const std::string start(kQueuePrefix), end = PrefixSuccessor(kQueuePrefix);
  std::string from = start;
  for (bool more = true; more;) {
    Result<ports::OrderedStore::Entries> page = co_await store_->Scan(from, end, kMaxPageSize);
    if (!page.ok()) co_return page.status();
    more = page->size() == kMaxPageSize;
    for (const auto& [key, value] : *page) {
      from = key + '\0';
      QueueRecord other;
      if (!other.ParseFromString(value)) co_return Status::Internal("corrupt record under " + names::Quote(key));
      if (other.options().dead_letter_queue() == queue) {
        co_return Status::FailedPrecondition(Describe(queue) + " is the dead-letter queue of " +
                                             Describe(key.substr(start.size())));
      }
    }
  }
  ports::WriteBatch batch;
  batch.Delete(QueueKey(queue));
  MessageChannels::StageDiscard(channel, &batch);
  queues_.erase(queue);
  CK_CO_RETURN_IF_ERROR(co_await WriteAndRelease(std::move(batch), queue, std::move(held->holding)));
  NoteArrival(queue, clock_->NowMs());  // its waiting receives learn that it is gone
  Result<uint64_t> collected = co_await channels_.Collect(channel);
  if (!collected.ok()) co_return collected.status();
  co_return v1::DeleteQueueResponse();
}

Task<Result<v1::ListQueuesResponse>> EmbeddedQueue::ListQueues(const v1::ListQueuesRequest& req) {
  const std::string base(kQueuePrefix);
  const std::string end = PrefixSuccessor(base + req.prefix());
  std::string start = base + req.prefix();
  if (!req.continuation_token().empty()) {
    std::optional<std::string> resume = DecodeToken(req.continuation_token());
    if (!resume || *resume < start || *resume >= end) {
      co_return Status::InvalidArgument("continuation token does not belong to this listing of queues");
    }
    start = *resume;
  }
  const uint32_t page = req.page_size() == 0 ? kMaxPageSize : std::min(req.page_size(), kMaxPageSize);
  // One more than asked: whether another page follows.
  Result<ports::OrderedStore::Entries> entries = co_await store_->Scan(start, end, page + 1);
  if (!entries.ok()) co_return entries.status();
  v1::ListQueuesResponse resp;
  for (size_t i = 0; i < entries->size(); ++i) {
    const auto& [key, value] = (*entries)[i];
    if (i == page) {
      resp.set_next_continuation_token(EncodeToken(key));
      break;
    }
    QueueRecord record;
    if (!record.ParseFromString(value)) co_return Status::Internal("corrupt record under " + names::Quote(key));
    *resp.add_queues() = InfoOf(key.substr(base.size()), record);
  }
  co_return resp;
}

Task<Result<v1::SendResponse>> EmbeddedQueue::Send(const v1::SendRequest& req) {
  google::protobuf::RepeatedPtrField<v1::SendBatchEntry> entries;
  v1::SendBatchEntry* entry = entries.Add();
  entry->set_body(req.body());
  *entry->mutable_attributes() = req.attributes();
  entry->set_delay_ms(req.delay_ms());
  entry->set_deduplication_id(req.deduplication_id());
  Result<v1::SendBatchResponse> sent = co_await Enqueue(req.queue(), entries);
  if (!sent.ok()) co_return sent.status();
  co_return std::move(*sent->mutable_results(0));
}

Task<Result<v1::SendBatchResponse>> EmbeddedQueue::SendBatch(const v1::SendBatchRequest& req) {
  CK_CO_RETURN_IF_ERROR(CheckBatchSize(req.entries_size(), "send"));
  co_return co_await Enqueue(req.queue(), req.entries());
}

Task<Status> EmbeddedQueue::StageDedupSweep(int64_t now, ports::WriteBatch* batch) {
  const std::string start(kDedupExpiryPrefix);
  Result<ports::OrderedStore::Entries> expired = co_await store_->Scan(start, DedupExpiryStart(now + 1), kDedupSweepStep);
  if (!expired.ok()) co_return expired.status();
  for (const auto& entry : *expired) {
    std::optional<std::string> record = DedupKeyOfExpiry(entry.first);
    if (!record) co_return Status::Internal("corrupt deduplication entry in the queue store");
    batch->Delete(entry.first);
    batch->Delete(*record);
  }
  co_return Status::Ok();
}

Task<Result<v1::SendBatchResponse>> EmbeddedQueue::Enqueue(
    const std::string& queue, const google::protobuf::RepeatedPtrField<v1::SendBatchEntry>& entries) {
  bool deduplicates = false;
  for (const v1::SendBatchEntry& entry : entries) {
    CK_CO_RETURN_IF_ERROR(CheckEntry(entry));
    deduplicates = deduplicates || !entry.deduplication_id().empty();
  }
  Result<Held> held = co_await Hold(queue, Access::kShared, deduplicates);
  if (!held.ok()) co_return held.status();
  const Channel channel = ChannelOf(queue, held->record);
  const int64_t now = clock_->NowMs();
  ports::WriteBatch batch;
  if (deduplicates) CK_CO_RETURN_IF_ERROR(co_await StageDedupSweep(now, &batch));
  std::unordered_map<std::string, uint64_t> sent_now;  // deduplication ids of this batch
  v1::SendBatchResponse resp;
  int64_t earliest = 0;
  for (const v1::SendBatchEntry& entry : entries) {
    const std::string& dedup_id = entry.deduplication_id();
    v1::SendResponse* result = resp.add_results();
    if (!dedup_id.empty()) {
      if (auto it = sent_now.find(dedup_id); it != sent_now.end()) {
        result->set_message_id(MessageId(it->second));
        result->set_duplicate(true);
        continue;
      }
      Result<std::string> raw = co_await store_->Get(DedupKey(channel.id, dedup_id));
      if (!raw.ok() && raw.status().code() != v1::NOT_FOUND) co_return raw.status();
      if (raw.ok()) {
        store::v1::DedupRecord seen;
        if (!seen.ParseFromString(*raw)) co_return Status::Internal("corrupt deduplication record in " + channel.label);
        if (seen.expires_ms() > now) {
          result->set_message_id(MessageId(seen.payload_id()));
          result->set_duplicate(true);
          continue;
        }
        batch.Delete(DedupExpiryKey(seen.expires_ms(), channel.id, dedup_id));
      }
    }
    store::v1::MessagePayload payload;
    payload.set_body(entry.body());
    *payload.mutable_attributes() = entry.attributes();
    payload.set_sent_ms(now);
    const int64_t visible_at = now + entry.delay_ms();
    const uint64_t id = channels_.StageEnqueue(channel, payload, visible_at, &batch);
    result->set_message_id(MessageId(id));
    earliest = earliest == 0 ? visible_at : std::min(earliest, visible_at);
    if (!dedup_id.empty()) {
      store::v1::DedupRecord seen;
      seen.set_payload_id(id);
      seen.set_expires_ms(now + kDedupWindowMs);
      batch.Put(DedupKey(channel.id, dedup_id), seen.SerializeAsString());
      batch.Put(DedupExpiryKey(seen.expires_ms(), channel.id, dedup_id), "");
      sent_now.emplace(dedup_id, id);
    }
  }
  CK_CO_RETURN_IF_ERROR(co_await WriteAndRelease(std::move(batch), queue, std::move(held->holding)));
  if (earliest != 0) NoteArrival(queue, earliest);
  co_return resp;
}

Task<Result<QueueProvider::Received>> EmbeddedQueue::Receive(const v1::ReceiveRequest& req) {
  const std::string& queue = req.queue();
  if (req.max_messages() > kMaxReceive) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxReceive) + " messages per receive, asked " +
                                      std::to_string(req.max_messages()));
  }
  CK_CO_RETURN_IF_ERROR(CheckVisibility("visibility timeout", req.visibility_timeout_ms()));
  Result<Held> held = co_await Hold(queue, Access::kMessages);
  if (!held.ok()) co_return held.status();
  const v1::QueueOptions& options = held->record.options();
  // Dead-letter links form no cycle (a queue's dead-letter queue exists
  // before it), so holding one after the other cannot deadlock.
  Holding target_holding;
  std::optional<DeadLetter> dead_letter;
  if (options.max_receives() != 0) {
    target_holding = locks_.Acquire({WholeQueue(options.dead_letter_queue(), false)});
    co_await target_holding->Granted();
    Result<QueueRecord> target = co_await Require(options.dead_letter_queue());
    if (!target.ok()) co_return Status::Internal(Describe(queue) + " lost its dead-letter queue: " + target.status().message());
    dead_letter = DeadLetter{ChannelOf(options.dead_letter_queue(), *target), options.max_receives()};
  }
  const uint32_t visibility = req.visibility_timeout_ms() != 0 ? req.visibility_timeout_ms() : VisibilityOf(options);
  ports::WriteBatch batch;
  Result<MessageChannels::Claimed> claimed =
      co_await channels_.Claim(ChannelOf(queue, held->record), dead_letter ? &*dead_letter : nullptr,
                               std::max<uint32_t>(req.max_messages(), 1), visibility, &batch);
  if (!claimed.ok()) co_return claimed.status();
  if (!batch.ops.empty()) {
    CK_CO_RETURN_IF_ERROR(
        co_await WriteAndRelease(std::move(batch), queue, std::move(held->holding), std::move(target_holding)));
  }
  if (claimed->dead_lettered != 0) NoteArrival(options.dead_letter_queue(), clock_->NowMs());
  // The receives waiting meanwhile wake when these may come back, unacked.
  if (!claimed->messages.empty()) NoteArrival(queue, claimed->next_visible_ms);
  Received received;
  for (v1::ReceivedMessage& message : claimed->messages) *received.response.add_messages() = std::move(message);
  received.next_visible_ms = claimed->next_visible_ms;
  co_return received;
}

Task<Result<v1::AckResponse>> EmbeddedQueue::Ack(const v1::AckRequest& req) {
  const std::string& queue = req.queue();
  Result<Receipt> receipt = DecodeReceipt(req.receipt_handle());
  if (!receipt.ok()) co_return receipt.status();
  Result<Held> held = co_await Hold(queue, Access::kMessages);
  if (!held.ok()) co_return held.status();
  ports::WriteBatch batch;
  std::vector<uint64_t> shared;
  CK_CO_RETURN_IF_ERROR(co_await channels_.StageAck(ChannelOf(queue, held->record), *receipt, &batch, &shared));
  Result<MessageChannels::SharesHeld> shares = co_await channels_.StageShareReleases(shared, &batch);
  if (!shares.ok()) co_return shares.status();
  const bool fifo = held->record.options().fifo();
  CK_CO_RETURN_IF_ERROR(
      co_await WriteAndRelease(std::move(batch), queue, std::move(held->holding), std::move(*shares)));
  // The head of a FIFO queue is gone: the next message may go.
  if (fifo) NoteArrival(queue, clock_->NowMs());
  co_return v1::AckResponse();
}

Task<Result<v1::ChangeVisibilityResponse>> EmbeddedQueue::ChangeVisibility(const v1::ChangeVisibilityRequest& req) {
  const std::string& queue = req.queue();
  CK_CO_RETURN_IF_ERROR(CheckVisibility("visibility timeout", req.visibility_timeout_ms()));
  Result<Receipt> receipt = DecodeReceipt(req.receipt_handle());
  if (!receipt.ok()) co_return receipt.status();
  Result<Held> held = co_await Hold(queue, Access::kMessages);
  if (!held.ok()) co_return held.status();
  const int64_t visible_at = clock_->NowMs() + req.visibility_timeout_ms();
  ports::WriteBatch batch;
  Result<Receipt> moved =
      co_await channels_.StageVisibility(ChannelOf(queue, held->record), *receipt, visible_at, &batch);
  if (!moved.ok()) co_return moved.status();
  CK_CO_RETURN_IF_ERROR(co_await WriteAndRelease(std::move(batch), queue, std::move(held->holding)));
  NoteArrival(queue, visible_at);
  v1::ChangeVisibilityResponse resp;
  resp.set_receipt_handle(EncodeReceipt(*moved));
  resp.set_invisible_until_ms(visible_at);
  co_return resp;
}

Task<Result<v1::DepthResponse>> EmbeddedQueue::Depth(const v1::DepthRequest& req) {
  const std::string& queue = req.queue();
  Result<Held> held = co_await Hold(queue, Access::kShared);
  if (!held.ok()) co_return held.status();
  co_return co_await channels_.Count(ChannelOf(queue, held->record));
}

Task<Result<v1::PurgeResponse>> EmbeddedQueue::Purge(const v1::PurgeRequest& req) {
  const std::string& queue = req.queue();
  Result<Held> held = co_await Hold(queue, Access::kWhole);
  if (!held.ok()) co_return held.status();
  QueueRecord* record = &held->record;
  // The queue moves to a new, empty channel in one write; the old one's
  // messages are collected afterwards.
  const uint64_t old_channel = record->channel();
  record->set_channel(channels_.NextId());
  ports::WriteBatch batch;
  batch.Put(QueueKey(queue), record->SerializeAsString());
  MessageChannels::StageDiscard(old_channel, &batch);
  queues_[queue] = *record;
  CK_CO_RETURN_IF_ERROR(co_await WriteAndRelease(std::move(batch), queue, std::move(held->holding)));
  Result<uint64_t> collected = co_await channels_.Collect(old_channel);
  if (!collected.ok()) co_return collected.status();
  v1::PurgeResponse resp;
  resp.set_purged(*collected);
  co_return resp;
}

std::vector<QueueProvider::Arrival> EmbeddedQueue::TakeArrivals() { return std::exchange(arrivals_, {}); }

}  // namespace cloudkit::embedded
