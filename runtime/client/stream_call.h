// StreamCall: one streamed call (PutObject, GetObject, Subscribe) seen from the thread
// that drives it. The thread running the transport's loop (its I/O thread, or
// a caller blocked on another call) puts the call's frames into an inbox; the
// driving thread takes them with Next() (blocking) or Poll(), and sends DATA
// and CREDIT frames back through the Transport. The inbox never holds more
// than the DATA frames the driver granted, so memory stays bounded.
// A StreamCall that is destroyed before Finish() cancels its call.
// Internal to the client library.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "client/transport.h"

namespace cloudkit::client_internal {

class StreamCall {
 public:
  // Sends the REQUEST (`envelope` carries the request id and any credits).
  static std::unique_ptr<StreamCall> Start(Transport& transport, const v1::RequestEnvelope& envelope,
                                           std::string body, std::chrono::milliseconds idle_timeout);
  ~StreamCall();

  StreamCall(const StreamCall&) = delete;
  StreamCall& operator=(const StreamCall&) = delete;

  // The next frame of the call, waiting for it. After a frame with a non-OK
  // status the call is over, and Next() returns that frame again.
  ReplyFrame Next();
  // The next frame if one has arrived.
  std::optional<ReplyFrame> Poll();
  // The next frame, waiting for it until `until` at most.
  std::optional<ReplyFrame> NextUntil(std::chrono::steady_clock::time_point until);

  void SendData(std::string chunk, bool end_of_stream);
  void GrantCredits(uint32_t credits);
  // The call completed: forget it (no CANCEL).
  void Finish();
  // Abandon the call: the daemon discards an upload or stops a download.
  void Cancel();

 private:
  // Shared with the frame handler, which may outlive this object by a moment.
  struct Inbox {
    std::mutex mutex;
    std::condition_variable arrived;
    std::deque<ReplyFrame> frames;
    std::optional<ReplyFrame> failure;  // the frame that ended the call with an error
  };

  StreamCall(Transport& transport, uint64_t request_id) : transport_(transport), request_id_(request_id) {}
  std::optional<ReplyFrame> TakeLocked();

  Transport& transport_;
  const uint64_t request_id_;
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
  bool ended_ = false;
};

}  // namespace cloudkit::client_internal
