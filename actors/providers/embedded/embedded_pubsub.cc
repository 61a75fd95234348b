#include "providers/embedded/embedded_pubsub.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "providers/embedded/message_keys.h"
#include "providers/embedded/store_keys.h"
#include "providers/names.h"

namespace cloudkit::embedded {
namespace {

using store::v1::SubscriptionRecord;
using store::v1::TopicRecord;

constexpr uint32_t kDefaultAckDeadlineMs = 30'000;
constexpr uint32_t kMaxAckDeadlineMs = 10 * 60 * 1000;
constexpr uint32_t kMaxDeliveries = 1000;
constexpr int kMaxFilterPairs = 16;
constexpr int kMaxAckIds = 1000;
constexpr uint32_t kMaxPull = 100;
constexpr uint32_t kMaxPageSize = 1000;

std::string DescribeTopic(const std::string& topic) { return "topic " + names::Quote(topic); }
std::string DescribeSubscription(const std::string& subscription) {
  return "subscription " + names::Quote(subscription);
}

// Lock names: a topic (its record and its list of subscriptions), a
// subscription as a whole (its record), and its messages' states.
KeyLocks::Key TopicLock(const std::string& topic, bool exclusive) { return {std::string("t\0", 2) + topic, exclusive}; }
KeyLocks::Key SubscriptionLock(const std::string& subscription, bool exclusive) {
  return {std::string("s\0", 2) + subscription, exclusive};
}
KeyLocks::Key SubscriptionMessages(const std::string& subscription) {
  return {std::string("m\0", 2) + subscription, true};
}

Channel ChannelOf(const std::string& subscription, const SubscriptionRecord& record) {
  return Channel{record.channel(), false, DescribeSubscription(subscription)};
}

Status CheckOptions(const std::string& subscription, const v1::SubscriptionOptions& options) {
  if (options.filter_size() > kMaxFilterPairs) {
    return Status::InvalidArgument(DescribeSubscription(subscription) + ": a filter of " +
                                   std::to_string(options.filter_size()) + " attributes, more than " +
                                   std::to_string(kMaxFilterPairs));
  }
  for (const auto& [name, value] : options.filter()) {
    if (name.empty()) return Status::InvalidArgument(DescribeSubscription(subscription) + ": a filter on no attribute");
  }
  if (options.ack_deadline_ms() > kMaxAckDeadlineMs) {
    return Status::InvalidArgument("ack deadline of " + std::to_string(options.ack_deadline_ms()) +
                                   " ms is over the limit of " + std::to_string(kMaxAckDeadlineMs) + " ms (10 min)");
  }
  const bool dead_letters = !options.dead_letter_subscription().empty();
  if (dead_letters != (options.max_deliveries() != 0)) {
    return Status::InvalidArgument(DescribeSubscription(subscription) +
                                   ": max_deliveries and dead_letter_subscription go together");
  }
  if (!dead_letters) return Status::Ok();
  CK_RETURN_IF_ERROR(names::CheckContainerName("dead-letter subscription", options.dead_letter_subscription()));
  if (options.dead_letter_subscription() == subscription) {
    return Status::InvalidArgument(DescribeSubscription(subscription) + " cannot be its own dead-letter subscription");
  }
  if (options.max_deliveries() > kMaxDeliveries) {
    return Status::InvalidArgument(DescribeSubscription(subscription) + ": max_deliveries " +
                                   std::to_string(options.max_deliveries()) + " is over " +
                                   std::to_string(kMaxDeliveries));
  }
  return Status::Ok();
}

bool Matches(const v1::SubscriptionOptions& options, const google::protobuf::Map<std::string, std::string>& attributes) {
  for (const auto& [name, value] : options.filter()) {
    auto it = attributes.find(name);
    if (it == attributes.end() || it->second != value) return false;
  }
  return true;
}

uint32_t AckDeadlineOf(const SubscriptionRecord& record) {
  return record.options().ack_deadline_ms() != 0 ? record.options().ack_deadline_ms() : kDefaultAckDeadlineMs;
}

v1::SubscriptionInfo InfoOf(const std::string& subscription, const SubscriptionRecord& record) {
  v1::SubscriptionInfo info;
  info.set_name(subscription);
  info.set_topic(record.topic());
  *info.mutable_options() = record.options();
  info.mutable_options()->set_ack_deadline_ms(AckDeadlineOf(record));  // in effect, not the 0 that asked for the default
  info.set_created_ms(record.created_ms());
  return info;
}

Status CheckAckIds(const google::protobuf::RepeatedPtrField<std::string>& ack_ids) {
  if (ack_ids.empty()) return Status::InvalidArgument("no ack ids");
  if (ack_ids.size() > kMaxAckIds) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxAckIds) + " ack ids per call, got " +
                                   std::to_string(ack_ids.size()));
  }
  return Status::Ok();
}

struct AckId {
  const std::string* text;
  Receipt receipt;
};

// Each ack id once: a repeated one would be acked (and its shared payload
// released) twice in one batch.
Result<std::vector<AckId>> DecodeAckIds(const google::protobuf::RepeatedPtrField<std::string>& ack_ids) {
  CK_RETURN_IF_ERROR(CheckAckIds(ack_ids));
  std::vector<AckId> decoded;
  std::unordered_set<std::string_view> seen;
  for (const std::string& ack_id : ack_ids) {
    Result<Receipt> receipt = DecodeReceipt(ack_id);
    if (!receipt.ok()) return Status::InvalidArgument("not an ack id: " + names::Quote(ack_id));
    if (seen.insert(ack_id).second) decoded.push_back({&ack_id, *receipt});
  }
  return decoded;
}

// An awaitable of a write already issued (g++ 12 wants prvalue awaiters).
Async<Status> Pending(Async<Status>& issued) { return std::move(issued); }

template <typename Record>
Task<Result<std::optional<Record>>> LoadRecord(ports::OrderedStore* store,
                                              std::unordered_map<std::string, Record>* cache, std::string key,
                                              std::string name, std::string described) {
  if (auto it = cache->find(name); it != cache->end()) co_return std::optional<Record>(it->second);
  Result<std::string> raw = co_await store->Get(key);
  if (!raw.ok()) {
    if (raw.status().code() == v1::NOT_FOUND) co_return std::optional<Record>();
    co_return raw.status();
  }
  Record record;
  if (!record.ParseFromString(*raw)) co_return Status::Internal("corrupt record of " + described);
  cache->emplace(name, record);
  co_return std::optional<Record>(std::move(record));
}

// One page of a listing: the entries from `base` + `prefix` (or from where
// `token` says), at most `page_size` of them, and the token of the next.
struct Page {
  ports::OrderedStore::Entries entries;
  std::string next_token;
};
Task<Result<Page>> ListPage(ports::OrderedStore* store, const std::string& base, const std::string& prefix,
                            uint32_t page_size, const std::string& token, const char* what) {
  const std::string end = PrefixSuccessor(base + prefix);
  std::string start = base + prefix;
  if (!token.empty()) {
    std::optional<std::string> resume = DecodeToken(token);
    if (!resume || *resume < start || *resume >= end) {
      co_return Status::InvalidArgument(std::string("continuation token does not belong to this listing of ") + what);
    }
    start = *resume;
  }
  const uint32_t page = page_size == 0 ? kMaxPageSize : std::min(page_size, kMaxPageSize);
  // One more than asked: whether another page follows.
  Result<ports::OrderedStore::Entries> entries = co_await store->Scan(start, end, page + 1);
  if (!entries.ok()) co_return entries.status();
  Page listed;
  listed.entries = std::move(*entries);
  if (listed.entries.size() > page) {
    listed.next_token = EncodeToken(listed.entries[page].first);
    listed.entries.resize(page);
  }
  co_return listed;
}

}  // namespace

EmbeddedPubSub::EmbeddedPubSub(std::unique_ptr<ports::OrderedStore> store, ports::Clock* clock)
    : store_(std::move(store)), clock_(clock), channels_(store_.get(), clock) {}

Task<Result<std::optional<TopicRecord>>> EmbeddedPubSub::LoadTopic(const std::string& topic) {
  return LoadRecord(store_.get(), &topics_, TopicKey(topic), topic, DescribeTopic(topic));
}

Task<Result<std::optional<SubscriptionRecord>>> EmbeddedPubSub::LoadSubscription(const std::string& subscription) {
  return LoadRecord(store_.get(), &subscriptions_, SubscriptionKey(subscription), subscription,
                    DescribeSubscription(subscription));
}

Task<Status> EmbeddedPubSub::RequireTopic(const std::string& topic) {
  Result<std::optional<TopicRecord>> record = co_await LoadTopic(topic);
  if (!record.ok()) co_return record.status();
  if (!*record) co_return Status::NotFound(DescribeTopic(topic));
  co_return Status::Ok();
}

Task<Result<SubscriptionRecord>> EmbeddedPubSub::RequireSubscription(const std::string& subscription) {
  Result<std::optional<SubscriptionRecord>> record = co_await LoadSubscription(subscription);
  if (!record.ok()) co_return record.status();
  if (!*record) co_return Status::NotFound(DescribeSubscription(subscription));
  co_return std::move(**record);
}

Task<Result<std::vector<EmbeddedPubSub::Member>>> EmbeddedPubSub::Members(const std::string& topic) {
  if (auto it = members_.find(topic); it != members_.end()) co_return it->second;
  std::vector<Member> members;
  const std::string start = TopicSubscriptionsStart(topic), end = PrefixSuccessor(start);
  std::string from = start;
  for (bool more = true; more;) {
    Result<ports::OrderedStore::Entries> page = co_await store_->Scan(from, end, kMaxPageSize);
    if (!page.ok()) co_return page.status();
    more = page->size() == kMaxPageSize;
    for (const auto& entry : *page) {
      from = entry.first + '\0';
      Member& member = members.emplace_back();
      member.name = entry.first.substr(start.size());
      Result<SubscriptionRecord> record = co_await RequireSubscription(member.name);
      if (!record.ok()) co_return Status::Internal(DescribeTopic(topic) + " lists a lost " + record.status().message());
      member.record = std::move(*record);
    }
  }
  members_[topic] = members;
  co_return members;
}

Task<Result<EmbeddedPubSub::Held>> EmbeddedPubSub::HoldMessages(const std::string& subscription) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("subscription", subscription));
  CK_CO_RETURN_IF_ERROR(co_await channels_.Open());
  Held held;
  held.holding = locks_.Acquire({SubscriptionLock(subscription, false), SubscriptionMessages(subscription)});
  co_await held.holding->Granted();
  Result<SubscriptionRecord> record = co_await RequireSubscription(subscription);
  if (!record.ok()) co_return record.status();
  held.record = std::move(*record);
  co_return held;
}

Task<Status> EmbeddedPubSub::WriteAndRelease(ports::WriteBatch batch, Holding holding, Holding more) {
  Async<Status> issued = store_->Write(std::move(batch));
  holding.reset();
  more.reset();
  Status written = co_await Pending(issued);
  if (!written.ok()) {
    topics_.clear();
    subscriptions_.clear();
    members_.clear();
  }
  co_return written;
}

Task<Result<v1::CreateTopicResponse>> EmbeddedPubSub::CreateTopic(const v1::CreateTopicRequest& req) {
  const std::string& topic = req.topic();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("topic", topic));
  CK_CO_RETURN_IF_ERROR(co_await channels_.Open());
  // Another store on the location (a browser tab) may create the topic
  // between our read and our write: the write expects it still absent, and
  // when it is not, the topic is read again.
  for (int conflicts = 0;; ++conflicts) {
    Holding holding = locks_.Acquire({TopicLock(topic, true)});
    co_await holding->Granted();
    Result<std::optional<TopicRecord>> current = co_await LoadTopic(topic);
    if (!current.ok()) co_return current.status();
    if (*current) co_return Status::AlreadyExists(DescribeTopic(topic));
    TopicRecord record;
    record.set_created_ms(clock_->NowMs());
    ports::WriteBatch batch;
    batch.Expect(TopicKey(topic), std::nullopt);
    batch.Put(TopicKey(topic), record.SerializeAsString());
    // Not cached: the write may lose to another store's creation, and the
    // calls made meanwhile then read from the store whichever topic landed.
    members_.erase(topic);
    Status written = co_await WriteAndRelease(std::move(batch), std::move(holding));
    if (ports::IsWriteConflict(written)) {
      if (conflicts < ports::kMaxWriteConflicts) continue;
      co_return Status::Aborted(DescribeTopic(topic) + " kept being created and deleted by another store meanwhile");
    }
    CK_CO_RETURN_IF_ERROR(written);
    v1::CreateTopicResponse resp;
    resp.mutable_topic()->set_name(topic);
    resp.mutable_topic()->set_created_ms(record.created_ms());
    co_return resp;
  }
}

Task<Result<v1::DeleteTopicResponse>> EmbeddedPubSub::DeleteTopic(const v1::DeleteTopicRequest& req) {
  const std::string& topic = req.topic();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("topic", topic));
  CK_CO_RETURN_IF_ERROR(co_await channels_.Open());
  Holding holding = locks_.Acquire({TopicLock(topic, true)});
  co_await holding->Granted();
  CK_CO_RETURN_IF_ERROR(co_await RequireTopic(topic));
  Result<std::vector<Member>> members = co_await Members(topic);
  if (!members.ok()) co_return members.status();
  if (!members->empty()) {
    const size_t others = members->size() - 1;
    co_return Status::FailedPrecondition(DescribeTopic(topic) + " has subscriptions (" +
                                         DescribeSubscription(members->front().name) +
                                         (others ? " and " + std::to_string(others) + " more" : "") +
                                         "): delete them first");
  }
  ports::WriteBatch batch;
  batch.Delete(TopicKey(topic));
  topics_.erase(topic);
  members_.erase(topic);
  CK_CO_RETURN_IF_ERROR(co_await WriteAndRelease(std::move(batch), std::move(holding)));
  co_return v1::DeleteTopicResponse();
}

Task<Result<v1::ListTopicsResponse>> EmbeddedPubSub::ListTopics(const v1::ListTopicsRequest& req) {
  const std::string base(kTopicPrefix);
  Result<Page> page = co_await ListPage(store_.get(), base, req.prefix(), req.page_size(), req.continuation_token(),
                                        "topics");
  if (!page.ok()) co_return page.status();
  v1::ListTopicsResponse resp;
  for (const auto& [key, value] : page->entries) {
    TopicRecord record;
    if (!record.ParseFromString(value)) co_return Status::Internal("corrupt record under " + names::Quote(key));
    v1::TopicInfo* info = resp.add_topics();
    info->set_name(key.substr(base.size()));
    info->set_created_ms(record.created_ms());
  }
  resp.set_next_continuation_token(std::move(page->next_token));
  co_return resp;
}

Task<Result<v1::CreateSubscriptionResponse>> EmbeddedPubSub::CreateSubscription(
    const v1::CreateSubscriptionRequest& req) {
  const std::string& subscription = req.subscription();
  const std::string& topic = req.topic();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("subscription", subscription));
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("topic", topic));
  CK_CO_RETURN_IF_ERROR(CheckOptions(subscription, req.options()));
  CK_CO_RETURN_IF_ERROR(co_await channels_.Open());
  const std::string& dead_letter = req.options().dead_letter_subscription();
  // Another store on the location (a browser tab) may create the
  // subscription between our read and our write: the write expects it still
  // absent, and when it is not, it is read again.
  for (int conflicts = 0;; ++conflicts) {
    std::vector<KeyLocks::Key> keys = {TopicLock(topic, true), SubscriptionLock(subscription, true)};
    if (!dead_letter.empty()) keys.push_back(SubscriptionLock(dead_letter, false));
    Holding holding = locks_.Acquire(std::move(keys));
    co_await holding->Granted();
    CK_CO_RETURN_IF_ERROR(co_await RequireTopic(topic));
    Result<std::optional<SubscriptionRecord>> current = co_await LoadSubscription(subscription);
    if (!current.ok()) co_return current.status();
    if (*current) co_return Status::AlreadyExists(DescribeSubscription(subscription));
    if (!dead_letter.empty()) {
      Result<std::optional<SubscriptionRecord>> target = co_await LoadSubscription(dead_letter);
      if (!target.ok()) co_return target.status();
      if (!*target) {
        co_return Status::NotFound("dead-letter " + DescribeSubscription(dead_letter) + " of " +
                                   DescribeSubscription(subscription));
      }
    }
    SubscriptionRecord record;
    record.set_topic(topic);
    record.set_channel(channels_.NextId());
    *record.mutable_options() = req.options();
    record.set_created_ms(clock_->NowMs());
    ports::WriteBatch batch;
    batch.Expect(SubscriptionKey(subscription), std::nullopt);
    batch.Put(SubscriptionKey(subscription), record.SerializeAsString());
    batch.Put(TopicSubscriptionKey(topic, subscription), "");
    // Not cached, and the topic's cached subscriptions forgotten: the write
    // may lose to another store's creation, and the publishes made meanwhile
    // then fan out to the subscriptions the store holds.
    members_.erase(topic);
    Status written = co_await WriteAndRelease(std::move(batch), std::move(holding));
    if (ports::IsWriteConflict(written)) {
      if (conflicts < ports::kMaxWriteConflicts) continue;
      co_return Status::Aborted(DescribeSubscription(subscription) +
                                " kept being created and deleted by another store meanwhile");
    }
    CK_CO_RETURN_IF_ERROR(written);
    v1::CreateSubscriptionResponse resp;
    *resp.mutable_subscription() = InfoOf(subscription, record);
    co_return resp;
  }
}

Task<Result<v1::DeleteSubscriptionResponse>> EmbeddedPubSub::DeleteSubscription(
    const v1::DeleteSubscriptionRequest& req) {
  const std::string& subscription = req.subscription();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("subscription", subscription));
  CK_CO_RETURN_IF_ERROR(co_await channels_.Open());
  // Its topic and itself, taken at once (taking one after the other could
  // deadlock with a creation); the topic is read first, then checked.
  Holding holding;
  SubscriptionRecord record;
  for (;;) {
    Holding peek = locks_.Acquire({SubscriptionLock(subscription, false)});
    co_await peek->Granted();
    Result<SubscriptionRecord> peeked = co_await RequireSubscription(subscription);
    peek.reset();
    if (!peeked.ok()) co_return peeked.status();
    holding = locks_.Acquire({TopicLock(peeked->topic(), true), SubscriptionLock(subscription, true),
                              SubscriptionMessages(subscription)});
    co_await holding->Granted();
    Result<SubscriptionRecord> current = co_await RequireSubscription(subscription);
    if (!current.ok()) co_return current.status();
    if (current->topic() == peeked->topic()) {
      record = std::move(*current);
      break;
    }
    holding.reset();  // deleted and created again on another topic meanwhile
  }
  // A subscription another one dead-letters into stays: its messages would have nowhere to go.
  const std::string start(kSubscriptionPrefix), end = PrefixSuccessor(kSubscriptionPrefix);
  std::string from = start;
  for (bool more = true; more;) {
    Result<ports::OrderedStore::Entries> page = co_await store_->Scan(from, end, kMaxPageSize);
    if (!page.ok()) co_return page.status();
    more = page->size() == kMaxPageSize;
    for (const auto& [key, value] : *page) {
      from = key + '\0';
      SubscriptionRecord other;
      if (!other.ParseFromString(value)) co_return Status::Internal("corrupt record under " + names::Quote(key));
      if (other.options().dead_letter_subscription() == subscription) {
        co_return Status::FailedPrecondition(DescribeSubscription(subscription) + " is the dead-letter subscription of " +
                                             DescribeSubscription(key.substr(start.size())));
      }
    }
  }
  const std::string& topic = record.topic();
  ports::WriteBatch batch;
  batch.Delete(SubscriptionKey(subscription));
  batch.Delete(TopicSubscriptionKey(topic, subscription));
  MessageChannels::StageDiscard(record.channel(), &batch);
  subscriptions_.erase(subscription);
  if (auto cached = members_.find(topic); cached != members_.end()) {
    std::erase_if(cached->second, [&](const Member& member) { return member.name == subscription; });
  }
  CK_CO_RETURN_IF_ERROR(co_await WriteAndRelease(std::move(batch), std::move(holding)));
  NoteArrival(subscription, clock_->NowMs());  // its streams learn that it is gone
  Result<uint64_t> collected = co_await channels_.Collect(record.channel());
  if (!collected.ok()) co_return collected.status();
  co_return v1::DeleteSubscriptionResponse();
}

Task<Result<v1::ListSubscriptionsResponse>> EmbeddedPubSub::ListSubscriptions(
    const v1::ListSubscriptionsRequest& req) {
  const std::string& topic = req.topic();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("topic", topic));
  Holding holding = locks_.Acquire({TopicLock(topic, false)});
  co_await holding->Granted();
  CK_CO_RETURN_IF_ERROR(co_await RequireTopic(topic));
  const std::string base = TopicSubscriptionsStart(topic), no_prefix;
  Result<Page> page = co_await ListPage(store_.get(), base, no_prefix, req.page_size(), req.continuation_token(),
                                        "subscriptions");
  if (!page.ok()) co_return page.status();
  v1::ListSubscriptionsResponse resp;
  for (const auto& entry : page->entries) {
    const std::string name = entry.first.substr(base.size());
    Result<SubscriptionRecord> record = co_await RequireSubscription(name);
    if (!record.ok()) co_return Status::Internal(DescribeTopic(topic) + " lists a lost " + record.status().message());
    *resp.add_subscriptions() = InfoOf(name, *record);
  }
  resp.set_next_continuation_token(std::move(page->next_token));
  co_return resp;
}

Task<Result<v1::PublishResponse>> EmbeddedPubSub::Publish(const v1::PublishRequest& req) {
  google::protobuf::RepeatedPtrField<v1::PublishBatchEntry> entries;
  v1::PublishBatchEntry* entry = entries.Add();
  entry->set_body(req.body());
  *entry->mutable_attributes() = req.attributes();
  Result<v1::PublishBatchResponse> published = co_await Fan(req.topic(), entries);
  if (!published.ok()) co_return published.status();
  co_return std::move(*published->mutable_results(0));
}

Task<Result<v1::PublishBatchResponse>> EmbeddedPubSub::PublishBatch(const v1::PublishBatchRequest& req) {
  CK_CO_RETURN_IF_ERROR(CheckBatchSize(req.entries_size(), "publish"));
  co_return co_await Fan(req.topic(), req.entries());
}

Task<Result<v1::PublishBatchResponse>> EmbeddedPubSub::Fan(
    const std::string& topic, const google::protobuf::RepeatedPtrField<v1::PublishBatchEntry>& entries) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("topic", topic));
  for (const v1::PublishBatchEntry& entry : entries) CK_CO_RETURN_IF_ERROR(CheckMessage(entry.body(), entry.attributes()));
  CK_CO_RETURN_IF_ERROR(co_await channels_.Open());
  Holding holding = locks_.Acquire({TopicLock(topic, false)});
  co_await holding->Granted();
  CK_CO_RETURN_IF_ERROR(co_await RequireTopic(topic));
  Result<std::vector<Member>> members = co_await Members(topic);
  if (!members.ok()) co_return members.status();
  std::vector<Channel> channels;
  for (const Member& member : *members) channels.push_back(ChannelOf(member.name, member.record));
  const int64_t now = clock_->NowMs();
  ports::WriteBatch batch;
  v1::PublishBatchResponse resp;
  std::vector<bool> reached(members->size(), false);
  for (const v1::PublishBatchEntry& entry : entries) {
    std::vector<const Channel*> matching;
    for (size_t i = 0; i < members->size(); ++i) {
      if (!Matches((*members)[i].record.options(), entry.attributes())) continue;
      matching.push_back(&channels[i]);
      reached[i] = true;
    }
    store::v1::MessagePayload payload;
    payload.set_body(entry.body());
    *payload.mutable_attributes() = entry.attributes();
    payload.set_sent_ms(now);
    v1::PublishResponse* result = resp.add_results();
    result->set_message_id(MessageId(channels_.StageFanOut(matching, payload, now, &batch)));
    result->set_subscriptions(static_cast<uint32_t>(matching.size()));
  }
  if (!batch.ops.empty()) CK_CO_RETURN_IF_ERROR(co_await WriteAndRelease(std::move(batch), std::move(holding)));
  for (size_t i = 0; i < members->size(); ++i) {
    if (reached[i]) NoteArrival((*members)[i].name, now);
  }
  co_return resp;
}

Task<Result<v1::AckMessagesResponse>> EmbeddedPubSub::Ack(const v1::AckMessagesRequest& req) {
  const std::string& subscription = req.subscription();
  Result<std::vector<AckId>> ack_ids = DecodeAckIds(req.ack_ids());
  if (!ack_ids.ok()) co_return ack_ids.status();
  Result<Held> held = co_await HoldMessages(subscription);
  if (!held.ok()) co_return held.status();
  const Channel channel = ChannelOf(subscription, held->record);
  ports::WriteBatch batch;
  std::vector<uint64_t> shared;
  v1::AckMessagesResponse resp;
  for (const AckId& ack_id : *ack_ids) {
    Status acked = co_await channels_.StageAck(channel, ack_id.receipt, &batch, &shared);
    if (acked.code() == v1::FAILED_PRECONDITION) {
      resp.add_stale_ack_ids(*ack_id.text);
      continue;
    }
    CK_CO_RETURN_IF_ERROR(acked);
    resp.set_acked(resp.acked() + 1);
  }
  Result<MessageChannels::SharesHeld> shares = co_await channels_.StageShareReleases(shared, &batch);
  if (!shares.ok()) co_return shares.status();
  if (!batch.ops.empty()) {
    CK_CO_RETURN_IF_ERROR(co_await WriteAndRelease(std::move(batch), std::move(held->holding), std::move(*shares)));
  }
  co_return resp;
}

Task<Result<v1::NackMessagesResponse>> EmbeddedPubSub::Nack(const v1::NackMessagesRequest& req) {
  const std::string& subscription = req.subscription();
  Result<std::vector<AckId>> ack_ids = DecodeAckIds(req.ack_ids());
  if (!ack_ids.ok()) co_return ack_ids.status();
  Result<Held> held = co_await HoldMessages(subscription);
  if (!held.ok()) co_return held.status();
  const Channel channel = ChannelOf(subscription, held->record);
  const int64_t now = clock_->NowMs();
  ports::WriteBatch batch;
  v1::NackMessagesResponse resp;
  for (const AckId& ack_id : *ack_ids) {
    Result<Receipt> moved = co_await channels_.StageVisibility(channel, ack_id.receipt, now, &batch);
    if (moved.status().code() == v1::FAILED_PRECONDITION) {
      resp.add_stale_ack_ids(*ack_id.text);
      continue;
    }
    if (!moved.ok()) co_return moved.status();
    resp.set_nacked(resp.nacked() + 1);
  }
  if (!batch.ops.empty()) CK_CO_RETURN_IF_ERROR(co_await WriteAndRelease(std::move(batch), std::move(held->holding)));
  if (resp.nacked() > 0) NoteArrival(subscription, now);
  co_return resp;
}

Task<Result<v1::SubscriptionInfo>> EmbeddedPubSub::GetSubscription(const std::string& subscription) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("subscription", subscription));
  Holding holding = locks_.Acquire({SubscriptionLock(subscription, false)});
  co_await holding->Granted();
  Result<SubscriptionRecord> record = co_await RequireSubscription(subscription);
  if (!record.ok()) co_return record.status();
  co_return InfoOf(subscription, *record);
}

Task<Result<PubSubProvider::Pulled>> EmbeddedPubSub::Pull(const std::string& subscription, uint32_t max) {
  if (max == 0 || max > kMaxPull) {
    co_return Status::InvalidArgument("pull of " + std::to_string(max) + " messages: 1 to " + std::to_string(kMaxPull));
  }
  Result<Held> held = co_await HoldMessages(subscription);
  if (!held.ok()) co_return held.status();
  const v1::SubscriptionOptions& options = held->record.options();
  // Dead-letter links form no cycle (a dead-letter subscription exists
  // before the subscriptions naming it), so holding one after the other
  // cannot deadlock.
  Holding target_holding;
  std::optional<DeadLetter> dead_letter;
  if (options.max_deliveries() != 0) {
    target_holding = locks_.Acquire({SubscriptionLock(options.dead_letter_subscription(), false)});
    co_await target_holding->Granted();
    Result<SubscriptionRecord> target = co_await RequireSubscription(options.dead_letter_subscription());
    if (!target.ok()) {
      co_return Status::Internal(DescribeSubscription(subscription) + " lost its dead-letter subscription: " +
                                 target.status().message());
    }
    dead_letter = DeadLetter{ChannelOf(options.dead_letter_subscription(), *target), options.max_deliveries()};
  }
  ports::WriteBatch batch;
  Result<MessageChannels::Claimed> claimed =
      co_await channels_.Claim(ChannelOf(subscription, held->record), dead_letter ? &*dead_letter : nullptr, max,
                               AckDeadlineOf(held->record), &batch);
  if (!claimed.ok()) co_return claimed.status();
  if (!batch.ops.empty()) {
    CK_CO_RETURN_IF_ERROR(
        co_await WriteAndRelease(std::move(batch), std::move(held->holding), std::move(target_holding)));
  }
  if (claimed->dead_lettered != 0) NoteArrival(options.dead_letter_subscription(), clock_->NowMs());
  // The streams waiting meanwhile wake when these may come back, unacked.
  if (!claimed->messages.empty()) NoteArrival(subscription, claimed->next_visible_ms);
  Pulled pulled;
  for (v1::ReceivedMessage& message : claimed->messages) {
    v1::Delivery& delivery = pulled.deliveries.emplace_back();
    delivery.set_message_id(std::move(*message.mutable_message_id()));
    delivery.set_ack_id(std::move(*message.mutable_receipt_handle()));
    delivery.set_body(std::move(*message.mutable_body()));
    delivery.mutable_attributes()->swap(*message.mutable_attributes());
    delivery.set_delivery_count(message.receive_count());
    delivery.set_publish_time_ms(message.sent_ms());
    delivery.set_ack_deadline_ms(message.invisible_until_ms());
  }
  pulled.next_visible_ms = claimed->next_visible_ms;
  co_return pulled;
}

std::vector<PubSubProvider::Arrival> EmbeddedPubSub::TakeArrivals() { return std::exchange(arrivals_, {}); }

}  // namespace cloudkit::embedded
