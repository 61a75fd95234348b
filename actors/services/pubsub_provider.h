// What a provider implements to serve the PubSub service. The service actor
// (services/pubsub_actor.cc) decodes requests and calls these; the provider
// keeps the semantics documented in proto/cloudkit/v1/pubsub.proto. Every
// method is a coroutine (core/task.h); calls may overlap, started by the actor
// in the order their topics and subscriptions allow (docs/protocol.md,
// "Ordering").
//
// Subscribe is the actor's: it streams what Pull hands out, and parks the
// stream when Pull finds nothing, until a publish on the binding (an
// arrival) or a timer says that pulling again may find something.
//
// REQUIRES: called from the turns of one actor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cloudkit/v1/pubsub.pb.h"
#include "core/status.h"
#include "core/task.h"
#include "services/service_provider.h"

namespace cloudkit {

inline constexpr char kPubSubService[] = "pubsub";

class PubSubProvider : public ServiceProvider {
 public:
  virtual Task<Result<v1::CreateTopicResponse>> CreateTopic(const v1::CreateTopicRequest& req) = 0;
  virtual Task<Result<v1::DeleteTopicResponse>> DeleteTopic(const v1::DeleteTopicRequest& req) = 0;
  virtual Task<Result<v1::ListTopicsResponse>> ListTopics(const v1::ListTopicsRequest& req) = 0;
  virtual Task<Result<v1::CreateSubscriptionResponse>> CreateSubscription(
      const v1::CreateSubscriptionRequest& req) = 0;
  virtual Task<Result<v1::DeleteSubscriptionResponse>> DeleteSubscription(
      const v1::DeleteSubscriptionRequest& req) = 0;
  virtual Task<Result<v1::ListSubscriptionsResponse>> ListSubscriptions(const v1::ListSubscriptionsRequest& req) = 0;
  virtual Task<Result<v1::PublishResponse>> Publish(const v1::PublishRequest& req) = 0;
  virtual Task<Result<v1::PublishBatchResponse>> PublishBatch(const v1::PublishBatchRequest& req) = 0;
  virtual Task<Result<v1::AckMessagesResponse>> Ack(const v1::AckMessagesRequest& req) = 0;
  virtual Task<Result<v1::NackMessagesResponse>> Nack(const v1::NackMessagesRequest& req) = 0;

  // The subscription Subscribe opens; NOT_FOUND naming it when absent.
  virtual Task<Result<v1::SubscriptionInfo>> GetSubscription(const std::string& subscription) = 0;

  struct Pulled {
    std::vector<v1::Delivery> deliveries;
    // When nothing could be delivered: the earliest time a message of the
    // subscription (one out, not yet acked) may come back; 0 = none is known.
    int64_t next_visible_ms = 0;
  };
  // Up to `max` (1..100) deliverable messages, each invisible for the
  // subscription's ack deadline from now, its delivery count one higher.
  virtual Task<Result<Pulled>> Pull(const std::string& subscription, uint32_t max) = 0;

  // A subscription in which a message may have become deliverable at
  // `at_ms` (absolute; at or before now: already): a publish, a nack, a
  // dead-lettered message, the subscription deleted (its streams end).
  struct Arrival {
    std::string subscription;
    int64_t at_ms = 0;
  };
  // The arrivals since the last call, so the actor can wake the streams
  // parked on those subscriptions.
  virtual std::vector<Arrival> TakeArrivals() = 0;
};

}  // namespace cloudkit
