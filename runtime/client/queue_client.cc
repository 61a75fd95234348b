#include "client/queue_client.h"

#include <algorithm>

#include "client/caller.h"

namespace cloudkit {
namespace {

// How much longer than its wait a long poll's call may take: the daemon
// answers before the deadline, and the answer needs time to travel.
constexpr std::chrono::milliseconds kLongPollSlack{5'000};

}  // namespace

#define CLOUDKIT_UNARY_CALL(Rpc)                                                                 \
  std::future<QueueClient::Rpc##Result> QueueClient::Rpc##Async(const v1::Rpc##Request& request, \
                                                                const CallOptions& options) {    \
    return caller_.Unary<v1::Rpc##Response>("cloudkit.v1.Queue/" #Rpc, request, options);      \
  }                                                                                              \
  QueueClient::Rpc##Result QueueClient::Rpc(const v1::Rpc##Request& request, const CallOptions& options) { \
    return caller_.Call<v1::Rpc##Response>("cloudkit.v1.Queue/" #Rpc, request, options);         \
  }

CLOUDKIT_UNARY_CALL(CreateQueue)
CLOUDKIT_UNARY_CALL(DeleteQueue)
CLOUDKIT_UNARY_CALL(ListQueues)
CLOUDKIT_UNARY_CALL(Send)
CLOUDKIT_UNARY_CALL(SendBatch)
CLOUDKIT_UNARY_CALL(Ack)
CLOUDKIT_UNARY_CALL(ChangeVisibility)
CLOUDKIT_UNARY_CALL(Depth)
CLOUDKIT_UNARY_CALL(Purge)

#undef CLOUDKIT_UNARY_CALL

namespace {

// A long poll's options: its deadline leaves room for the wait.
CallOptions ForLongPoll(const v1::ReceiveRequest& request, const CallOptions& options,
                        std::chrono::milliseconds default_timeout) {
  CallOptions call = options;
  if (!call.timeout) {
    call.timeout = std::max(default_timeout, std::chrono::milliseconds(request.wait_ms()) + kLongPollSlack);
  }
  return call;
}

}  // namespace

std::future<QueueClient::ReceiveResult> QueueClient::ReceiveAsync(const v1::ReceiveRequest& request,
                                                                  const CallOptions& options) {
  return caller_.Unary<v1::ReceiveResponse>("cloudkit.v1.Queue/Receive", request,
                                            ForLongPoll(request, options, caller_.options().timeout));
}

QueueClient::ReceiveResult QueueClient::Receive(const v1::ReceiveRequest& request, const CallOptions& options) {
  return caller_.Call<v1::ReceiveResponse>("cloudkit.v1.Queue/Receive", request,
                                           ForLongPoll(request, options, caller_.options().timeout));
}

}  // namespace cloudkit
