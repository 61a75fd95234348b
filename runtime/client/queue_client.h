// QueueClient: typed calls of the cloudkit.v1.Queue service. Every rpc has a
// blocking form returning Result<Response> and an ...Async form returning
// std::future<Result<Response>>; the status is the daemon's (or UNAVAILABLE /
// DEADLINE_EXCEEDED naming the endpoint when it could not answer). Obtain one
// from Client::queue().
#pragma once

#include <future>

#include "cloudkit/v1/queue.pb.h"
#include "client/client_options.h"

namespace cloudkit {

namespace client_internal {
class Caller;
}

class QueueClient {
 public:
  explicit QueueClient(client_internal::Caller& caller) : caller_(caller) {}

  using CreateQueueResult = Result<v1::CreateQueueResponse>;
  using DeleteQueueResult = Result<v1::DeleteQueueResponse>;
  using ListQueuesResult = Result<v1::ListQueuesResponse>;
  using SendResult = Result<v1::SendResponse>;
  using SendBatchResult = Result<v1::SendBatchResponse>;
  using ReceiveResult = Result<v1::ReceiveResponse>;
  using AckResult = Result<v1::AckResponse>;
  using ChangeVisibilityResult = Result<v1::ChangeVisibilityResponse>;
  using DepthResult = Result<v1::DepthResponse>;
  using PurgeResult = Result<v1::PurgeResponse>;

  CreateQueueResult CreateQueue(const v1::CreateQueueRequest& request, const CallOptions& options = {});
  std::future<CreateQueueResult> CreateQueueAsync(const v1::CreateQueueRequest& request,
                                                  const CallOptions& options = {});
  DeleteQueueResult DeleteQueue(const v1::DeleteQueueRequest& request, const CallOptions& options = {});
  std::future<DeleteQueueResult> DeleteQueueAsync(const v1::DeleteQueueRequest& request,
                                                  const CallOptions& options = {});
  // One page; pass next_continuation_token back for the next.
  ListQueuesResult ListQueues(const v1::ListQueuesRequest& request, const CallOptions& options = {});
  std::future<ListQueuesResult> ListQueuesAsync(const v1::ListQueuesRequest& request, const CallOptions& options = {});
  SendResult Send(const v1::SendRequest& request, const CallOptions& options = {});
  std::future<SendResult> SendAsync(const v1::SendRequest& request, const CallOptions& options = {});
  SendBatchResult SendBatch(const v1::SendBatchRequest& request, const CallOptions& options = {});
  std::future<SendBatchResult> SendBatchAsync(const v1::SendBatchRequest& request, const CallOptions& options = {});
  // A long poll (wait_ms) ends shortly before the call's deadline: unless
  // `options` names a timeout, the call gets one that outlasts the wait.
  ReceiveResult Receive(const v1::ReceiveRequest& request, const CallOptions& options = {});
  std::future<ReceiveResult> ReceiveAsync(const v1::ReceiveRequest& request, const CallOptions& options = {});
  AckResult Ack(const v1::AckRequest& request, const CallOptions& options = {});
  std::future<AckResult> AckAsync(const v1::AckRequest& request, const CallOptions& options = {});
  ChangeVisibilityResult ChangeVisibility(const v1::ChangeVisibilityRequest& request, const CallOptions& options = {});
  std::future<ChangeVisibilityResult> ChangeVisibilityAsync(const v1::ChangeVisibilityRequest& request,
                                                            const CallOptions& options = {});
  DepthResult Depth(const v1::DepthRequest& request, const CallOptions& options = {});
  std::future<DepthResult> DepthAsync(const v1::DepthRequest& request, const CallOptions& options = {});
  PurgeResult Purge(const v1::PurgeRequest& request, const CallOptions& options = {});
  std::future<PurgeResult> PurgeAsync(const v1::PurgeRequest& request, const CallOptions& options = {});

 private:
  client_internal::Caller& caller_;
};

}  // namespace cloudkit
