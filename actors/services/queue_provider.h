// What a provider implements to serve the Queue service. The service actor
// (services/queue_actor.cc) decodes requests and calls these; the provider
// keeps the semantics documented in proto/cloudkit/v1/queue.proto. Every
// method is a coroutine (core/task.h); calls may overlap, started by the actor
// in the order their queues allow (docs/protocol.md, "Ordering").
//
// Receive never waits for messages to arrive: it answers what can be received
// now. The actor runs long polls over it, parking the call until a send on
// the binding or a timer says that trying again may find something.
//
// REQUIRES: called from the turns of one actor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cloudkit/v1/queue.pb.h"
#include "core/status.h"
#include "core/task.h"
#include "services/service_provider.h"

namespace cloudkit {

inline constexpr char kQueueService[] = "queue";

class QueueProvider : public ServiceProvider {
 public:
  virtual Task<Result<v1::CreateQueueResponse>> CreateQueue(const v1::CreateQueueRequest& req) = 0;
  virtual Task<Result<v1::DeleteQueueResponse>> DeleteQueue(const v1::DeleteQueueRequest& req) = 0;
  virtual Task<Result<v1::ListQueuesResponse>> ListQueues(const v1::ListQueuesRequest& req) = 0;
  virtual Task<Result<v1::SendResponse>> Send(const v1::SendRequest& req) = 0;
  virtual Task<Result<v1::SendBatchResponse>> SendBatch(const v1::SendBatchRequest& req) = 0;

  struct Received {
    v1::ReceiveResponse response;
    // When nothing could be received: the earliest time a message of the
    // queue (delayed, in flight, or a FIFO queue's blocking head) may
    // become receivable; 0 = none is known.
    int64_t next_visible_ms = 0;
  };
  // Ignores req.wait_ms (the actor waits).
  virtual Task<Result<Received>> Receive(const v1::ReceiveRequest& req) = 0;
  virtual Task<Result<v1::AckResponse>> Ack(const v1::AckRequest& req) = 0;
  virtual Task<Result<v1::ChangeVisibilityResponse>> ChangeVisibility(const v1::ChangeVisibilityRequest& req) = 0;
  virtual Task<Result<v1::DepthResponse>> Depth(const v1::DepthRequest& req) = 0;
  virtual Task<Result<v1::PurgeResponse>> Purge(const v1::PurgeRequest& req) = 0;

  // A queue in which a message may have become receivable at `at_ms`
  // (absolute; at or before now: already): a send, a visibility set to 0,
  // a dead-lettered message, a FIFO queue's head acked.
  struct Arrival {
    std::string queue;
    int64_t at_ms = 0;
  };
  // The arrivals since the last call, so the actor can wake the receives
  // waiting on those queues.
  virtual std::vector<Arrival> TakeArrivals() = 0;
};

}  // namespace cloudkit
