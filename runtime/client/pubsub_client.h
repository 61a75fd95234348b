// PubSubClient: typed calls of the cloudkit.v1.PubSub service. Every unary
// rpc has a blocking form returning Result<Response> and an ...Async form
// returning std::future<Result<Response>>; the status is the daemon's (or
// UNAVAILABLE / DEADLINE_EXCEEDED naming the endpoint when it could not
// answer). Subscribe opens a SubscriptionStream. Obtain one from
// Client::pubsub().
//
//   auto stream = client->pubsub().Subscribe("workers");
//   while (running) {
//     auto next = (*stream)->Next(std::chrono::seconds(1));
//     if (!next.ok()) break;                 // the stream ended: the status says why
//     if (!*next) continue;                  // nothing within the second
//     Handle(**next);
//     client->pubsub().Ack("workers", {(*next)->ack_id()});
//   }
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cloudkit/v1/pubsub.pb.h"
#include "client/client_options.h"

namespace cloudkit {

namespace client_internal {
class Caller;
class StreamCall;
}  // namespace client_internal

// One Subscribe call (docs/protocol.md, "Pub/sub"): the messages of a
// subscription as they arrive. Flow control: it lets the daemon send at
// most `window` messages the caller has not taken yet, granting one credit
// per message taken. Liveness: while the caller waits in Next it sends the
// daemon a heartbeat (a CREDIT frame of 0) often enough that the call's
// timeout (the longest silence the daemon allows its client) never passes;
// a caller that spends longer than the timeout between two Next calls loses
// the stream. The daemon's own heartbeats are swallowed.
// Not thread-safe: one thread drives it. Destroying it cancels the call;
// messages taken and not acked come back after their ack deadline.
class SubscriptionStream {
 public:
  ~SubscriptionStream();
  SubscriptionStream(const SubscriptionStream&) = delete;
  SubscriptionStream& operator=(const SubscriptionStream&) = delete;

  const v1::SubscriptionInfo& subscription() const { return subscription_; }
  // The next message, waiting at most `wait`; nullopt when none came in that
  // time. An error ends the stream (the subscription was deleted, the daemon
  // went away, the client fell silent too long): this and later calls
  // return it.
  Result<std::optional<v1::Delivery>> Next(std::chrono::milliseconds wait);
  // Ends the call (nothing more arrives).
  void Cancel();

 private:
  friend class PubSubClient;
  using Clock = std::chrono::steady_clock;
  SubscriptionStream(std::unique_ptr<client_internal::StreamCall> call, std::chrono::milliseconds heartbeat);
  // Waits for the daemon's first answer: the subscription, or the error.
  Status Open();

  std::unique_ptr<client_internal::StreamCall> call_;
  const std::chrono::milliseconds heartbeat_;
  Clock::time_point last_sent_ = Clock::now();
  v1::SubscriptionInfo subscription_;
  std::optional<Status> ended_;
};

class PubSubClient {
 public:
  explicit PubSubClient(client_internal::Caller& caller) : caller_(caller) {}

  using CreateTopicResult = Result<v1::CreateTopicResponse>;
  using DeleteTopicResult = Result<v1::DeleteTopicResponse>;
  using ListTopicsResult = Result<v1::ListTopicsResponse>;
  using CreateSubscriptionResult = Result<v1::CreateSubscriptionResponse>;
  using DeleteSubscriptionResult = Result<v1::DeleteSubscriptionResponse>;
  using ListSubscriptionsResult = Result<v1::ListSubscriptionsResponse>;
  using PublishResult = Result<v1::PublishResponse>;
  using PublishBatchResult = Result<v1::PublishBatchResponse>;
  using AckResult = Result<v1::AckMessagesResponse>;
  using NackResult = Result<v1::NackMessagesResponse>;

  CreateTopicResult CreateTopic(const v1::CreateTopicRequest& request, const CallOptions& options = {});
  std::future<CreateTopicResult> CreateTopicAsync(const v1::CreateTopicRequest& request,
                                                  const CallOptions& options = {});
  DeleteTopicResult DeleteTopic(const v1::DeleteTopicRequest& request, const CallOptions& options = {});
  std::future<DeleteTopicResult> DeleteTopicAsync(const v1::DeleteTopicRequest& request,
                                                  const CallOptions& options = {});
  // One page; pass next_continuation_token back for the next.
  ListTopicsResult ListTopics(const v1::ListTopicsRequest& request, const CallOptions& options = {});
  std::future<ListTopicsResult> ListTopicsAsync(const v1::ListTopicsRequest& request, const CallOptions& options = {});
  CreateSubscriptionResult CreateSubscription(const v1::CreateSubscriptionRequest& request,
                                              const CallOptions& options = {});
  std::future<CreateSubscriptionResult> CreateSubscriptionAsync(const v1::CreateSubscriptionRequest& request,
                                                                const CallOptions& options = {});
  DeleteSubscriptionResult DeleteSubscription(const v1::DeleteSubscriptionRequest& request,
                                              const CallOptions& options = {});
  std::future<DeleteSubscriptionResult> DeleteSubscriptionAsync(const v1::DeleteSubscriptionRequest& request,
                                                                const CallOptions& options = {});
  ListSubscriptionsResult ListSubscriptions(const v1::ListSubscriptionsRequest& request,
                                            const CallOptions& options = {});
  std::future<ListSubscriptionsResult> ListSubscriptionsAsync(const v1::ListSubscriptionsRequest& request,
                                                              const CallOptions& options = {});
  PublishResult Publish(const v1::PublishRequest& request, const CallOptions& options = {});
  std::future<PublishResult> PublishAsync(const v1::PublishRequest& request, const CallOptions& options = {});
  PublishBatchResult PublishBatch(const v1::PublishBatchRequest& request, const CallOptions& options = {});
  std::future<PublishBatchResult> PublishBatchAsync(const v1::PublishBatchRequest& request,
                                                    const CallOptions& options = {});
  AckResult Ack(const v1::AckMessagesRequest& request, const CallOptions& options = {});
  std::future<AckResult> AckAsync(const v1::AckMessagesRequest& request, const CallOptions& options = {});
  NackResult Nack(const v1::NackMessagesRequest& request, const CallOptions& options = {});
  std::future<NackResult> NackAsync(const v1::NackMessagesRequest& request, const CallOptions& options = {});
  // Acks ids of one subscription.
  AckResult Ack(const std::string& subscription, const std::vector<std::string>& ack_ids,
                const CallOptions& options = {});

  // Opens a stream of `subscription`'s messages, at most `window` (1..1000)
  // of them on their way at once; answers once the daemon has found the
  // subscription (NOT_FOUND when it does not exist). `options.timeout` is
  // the longest silence the daemon allows the stream's client (default: the
  // client's timeout); heartbeats go at a third of it, 5 s at most.
  Result<std::unique_ptr<SubscriptionStream>> Subscribe(const std::string& subscription, uint32_t window = 8,
                                                        const CallOptions& options = {});

 private:
  client_internal::Caller& caller_;
};

}  // namespace cloudkit
