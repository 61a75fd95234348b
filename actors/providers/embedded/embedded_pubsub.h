// The PubSub provider behind `memory` and `local`: topics and subscriptions
// as named records over message channels (message_channels.h) in one
// OrderedStore. A subscription is a channel fed by its topic: a publish
// stages one copy of each message into the channel of every subscription
// whose filter it matches, all sharing one payload record, in one write; a
// subscription's deliveries, acks, nacks and dead letters are its channel's
// claims, acks, visibility changes and moves. This file keeps what is pub/sub's
// own: names and options, filters, the topics' lists of subscriptions, and
// the arrivals the actor's parked streams wait for.
//
// Calls overlap. Each holds what it changes while it reads, decides and
// issues its write (a publish shares its topic; creating or deleting a
// subscription takes its topic and itself whole; pulls, acks and nacks take
// a subscription's messages alone), then lets go and waits for the write to
// be durable: the store applies calls in the order they are made, so the next
// call already sees the write.
//
// Other stores on the same location (browser tabs) keep locks and caches of
// their own: creating a topic or a subscription writes expecting it still
// absent, so of two tabs creating one exactly one succeeds. Deletions and
// deliveries are not guarded so (docs/browser.md, "Many tabs on one origin").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cloudkit/store/v1/pubsub_records.pb.h"
#include "core/key_locks.h"
#include "ports/clock.h"
#include "ports/ordered_store.h"
#include "providers/embedded/message_channels.h"
#include "services/pubsub_provider.h"

namespace cloudkit::embedded {

class EmbeddedPubSub : public PubSubProvider {
 public:
  EmbeddedPubSub(std::unique_ptr<ports::OrderedStore> store, ports::Clock* clock);

  Task<Result<v1::CreateTopicResponse>> CreateTopic(const v1::CreateTopicRequest& req) override;
  Task<Result<v1::DeleteTopicResponse>> DeleteTopic(const v1::DeleteTopicRequest& req) override;
  Task<Result<v1::ListTopicsResponse>> ListTopics(const v1::ListTopicsRequest& req) override;
  Task<Result<v1::CreateSubscriptionResponse>> CreateSubscription(const v1::CreateSubscriptionRequest& req) override;
  Task<Result<v1::DeleteSubscriptionResponse>> DeleteSubscription(const v1::DeleteSubscriptionRequest& req) override;
  Task<Result<v1::ListSubscriptionsResponse>> ListSubscriptions(const v1::ListSubscriptionsRequest& req) override;
  Task<Result<v1::PublishResponse>> Publish(const v1::PublishRequest& req) override;
  Task<Result<v1::PublishBatchResponse>> PublishBatch(const v1::PublishBatchRequest& req) override;
  Task<Result<v1::AckMessagesResponse>> Ack(const v1::AckMessagesRequest& req) override;
  Task<Result<v1::NackMessagesResponse>> Nack(const v1::NackMessagesRequest& req) override;
  Task<Result<v1::SubscriptionInfo>> GetSubscription(const std::string& subscription) override;
  Task<Result<Pulled>> Pull(const std::string& subscription, uint32_t max) override;
  std::vector<Arrival> TakeArrivals() override;

 private:
  using Holding = std::unique_ptr<KeyLocks::Ticket>;
  using SubscriptionRecord = store::v1::SubscriptionRecord;
  // A topic's subscriptions, as a publish fans out to them.
  struct Member {
    std::string name;
    SubscriptionRecord record;
  };

  // Records (cached), or nullopt. REQUIRES: the caller holds the name.
  Task<Result<std::optional<store::v1::TopicRecord>>> LoadTopic(const std::string& topic);
  Task<Result<std::optional<SubscriptionRecord>>> LoadSubscription(const std::string& subscription);
  // The same, NOT_FOUND naming it when absent.
  Task<Status> RequireTopic(const std::string& topic);
  Task<Result<SubscriptionRecord>> RequireSubscription(const std::string& subscription);
  // The topic's subscriptions in name order (cached). REQUIRES: the caller holds the topic.
  Task<Result<std::vector<Member>>> Members(const std::string& topic);
  // A subscription held for its messages (pulls, acks, nacks): the holding
  // and its record.
  struct Held {
    Holding holding;
    SubscriptionRecord record;
  };
  Task<Result<Held>> HoldMessages(const std::string& subscription);
  // Issues `batch`, lets the holdings go, then waits until the batch is
  // durable. On failure forgets every cached record (the caller may have
  // changed some for the batch).
  Task<Status> WriteAndRelease(ports::WriteBatch batch, Holding holding, Holding more = nullptr);
  Task<Result<v1::PublishBatchResponse>> Fan(const std::string& topic,
                                             const google::protobuf::RepeatedPtrField<v1::PublishBatchEntry>& entries);
  void NoteArrival(const std::string& subscription, int64_t at_ms) { arrivals_.push_back({subscription, at_ms}); }

  std::unique_ptr<ports::OrderedStore> store_;
  ports::Clock* clock_;
  MessageChannels channels_;
  KeyLocks locks_;
  std::unordered_map<std::string, store::v1::TopicRecord> topics_;       // read or written, by name
  std::unordered_map<std::string, SubscriptionRecord> subscriptions_;   // read or written, by name
  std::unordered_map<std::string, std::vector<Member>> members_;        // by topic
  std::vector<Arrival> arrivals_;
};

}  // namespace cloudkit::embedded
