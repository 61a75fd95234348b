#include "client/pubsub_client.h"

#include <algorithm>

#include "client/caller.h"
#include "client/stream_call.h"

namespace cloudkit {
namespace {

constexpr uint32_t kMaxWindow = 1000;
constexpr std::chrono::milliseconds kMaxHeartbeat{5'000};

}  // namespace

#define CLOUDKIT_UNARY_CALL(Rpc, Request, Response)                                                   \
  std::future<PubSubClient::Rpc##Result> PubSubClient::Rpc##Async(const v1::Request& request,         \
                                                                  const CallOptions& options) {       \
    return caller_.Unary<v1::Response>("cloudkit.v1.PubSub/" #Rpc, request, options);                \
  }                                                                                                   \
  PubSubClient::Rpc##Result PubSubClient::Rpc(const v1::Request& request, const CallOptions& options) { \
    return caller_.Call<v1::Response>("cloudkit.v1.PubSub/" #Rpc, request, options);                  \
  }

CLOUDKIT_UNARY_CALL(CreateTopic, CreateTopicRequest, CreateTopicResponse)
CLOUDKIT_UNARY_CALL(DeleteTopic, DeleteTopicRequest, DeleteTopicResponse)
CLOUDKIT_UNARY_CALL(ListTopics, ListTopicsRequest, ListTopicsResponse)
CLOUDKIT_UNARY_CALL(CreateSubscription, CreateSubscriptionRequest, CreateSubscriptionResponse)
CLOUDKIT_UNARY_CALL(DeleteSubscription, DeleteSubscriptionRequest, DeleteSubscriptionResponse)
CLOUDKIT_UNARY_CALL(ListSubscriptions, ListSubscriptionsRequest, ListSubscriptionsResponse)
CLOUDKIT_UNARY_CALL(Publish, PublishRequest, PublishResponse)
CLOUDKIT_UNARY_CALL(PublishBatch, PublishBatchRequest, PublishBatchResponse)
CLOUDKIT_UNARY_CALL(Ack, AckMessagesRequest, AckMessagesResponse)
CLOUDKIT_UNARY_CALL(Nack, NackMessagesRequest, NackMessagesResponse)

#undef CLOUDKIT_UNARY_CALL

PubSubClient::AckResult PubSubClient::Ack(const std::string& subscription, const std::vector<std::string>& ack_ids,
                                          const CallOptions& options) {
  v1::AckMessagesRequest request;
  request.set_subscription(subscription);
  for (const std::string& id : ack_ids) request.add_ack_ids(id);
  return Ack(request, options);
}

Result<std::unique_ptr<SubscriptionStream>> PubSubClient::Subscribe(const std::string& subscription, uint32_t window,
                                                                    const CallOptions& options) {
  if (window == 0 || window > kMaxWindow) {
    return Status::InvalidArgument("a subscription's window is 1 to " + std::to_string(kMaxWindow) + " messages, not " +
                                   std::to_string(window));
  }
  v1::SubscribeRequest request;
  request.set_subscription(subscription);
  const std::chrono::milliseconds silence = options.timeout.value_or(caller_.options().timeout);
  const std::chrono::milliseconds heartbeat =
      std::clamp(silence / 3, std::chrono::milliseconds(1), kMaxHeartbeat);
  std::unique_ptr<SubscriptionStream> stream(new SubscriptionStream(
      caller_.Stream("cloudkit.v1.PubSub/Subscribe", request, options, window), heartbeat));
  CK_RETURN_IF_ERROR(stream->Open());
  return stream;
}

SubscriptionStream::SubscriptionStream(std::unique_ptr<client_internal::StreamCall> call,
                                       std::chrono::milliseconds heartbeat)
    : call_(std::move(call)), heartbeat_(heartbeat) {}

SubscriptionStream::~SubscriptionStream() { Cancel(); }

Status SubscriptionStream::Open() {
  client_internal::ReplyFrame head = call_->Next();
  if (!head.status.ok()) {
    ended_ = head.status;
    return head.status;
  }
  v1::SubscribeResponse response;
  if (head.kind != v1::RESPONSE || !response.ParseFromString(head.body)) {
    ended_ = Status::Internal("the first frame of a Subscribe stream is not a SubscribeResponse");
    return *ended_;
  }
  subscription_ = std::move(*response.mutable_subscription());
  return Status::Ok();
}

Result<std::optional<v1::Delivery>> SubscriptionStream::Next(std::chrono::milliseconds wait) {
  const Clock::time_point until = Clock::now() + wait;
  while (!ended_) {
    if (Clock::now() - last_sent_ >= heartbeat_) {
      call_->GrantCredits(0);
      last_sent_ = Clock::now();
    }
    std::optional<client_internal::ReplyFrame> frame = call_->NextUntil(std::min(until, last_sent_ + heartbeat_));
    if (!frame) {
      if (Clock::now() >= until) return std::optional<v1::Delivery>();
      continue;  // time for a heartbeat
    }
    if (!frame->status.ok()) {
      ended_ = frame->status;
      break;
    }
    if (frame->kind != v1::DATA) continue;
    v1::Delivery delivery;
    if (!delivery.ParseFromString(frame->body)) {
      ended_ = Status::Internal("a DATA frame of a Subscribe stream is not a Delivery");
      break;
    }
    if (delivery.heartbeat()) continue;
    call_->GrantCredits(1);  // the message is taken: room for the next
    last_sent_ = Clock::now();
    return std::optional<v1::Delivery>(std::move(delivery));
  }
  call_->Cancel();  // a no-op when the daemon ended it
  return *ended_;
}

void SubscriptionStream::Cancel() {
  if (!ended_) ended_ = Status::Aborted("the subscription stream was cancelled");
  call_->Cancel();
}

}  // namespace cloudkit
