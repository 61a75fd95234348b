// Caller: turns a method name and a request message into a call on the
// Transport. It fills the REQUEST envelope from the client's options (binding,
// timeout, idempotency key) and either completes a std::future with the typed
// response (unary calls, sent again under one key while attempts remain) or
// opens a StreamCall (PutObject / GetObject).
// Internal to the client library; the service clients are built on it.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "client/client_options.h"
#include "client/stream_call.h"
#include "client/transport.h"

namespace cloudkit::client_internal {

class Caller {
 public:
  // The daemon drops a connection that sends a larger message (docs/protocol.md,
  // "Limits"); leave room for the envelope.
  static constexpr size_t kMaxRequestBytes = (8 << 20) - 4096;

  Caller(std::unique_ptr<Transport> transport, ClientOptions options)
      : transport_(std::move(transport)), options_(std::move(options)) {}

  const ClientOptions& options() const { return options_; }
  const std::string& endpoint() const { return transport_->endpoint(); }

  // Sends `request` to `method` and waits for the response or the status of
  // the RESPONSE (or the transport's failure). The calling thread sends and
  // receives the call itself when no other thread is using the connection.
  template <typename Resp, typename Req>
  Result<Resp> Call(const char* method, const Req& request, const CallOptions& call_options) {
    std::future<Result<Resp>> future = Unary<Resp>(method, request, call_options, /*caller_drives=*/true);
    transport_->Drive([&future] { return future.wait_for(std::chrono::seconds(0)) != std::future_status::ready; });
    return future.get();
  }

  // Sends `request` to `method` and resolves with the response or the status
  // of the RESPONSE (or the transport's failure). With `caller_drives`, the
  // caller Drive()s the transport next.
  template <typename Resp, typename Req>
  std::future<Result<Resp>> Unary(const char* method, const Req& request, const CallOptions& call_options,
                                  bool caller_drives = false) {
    auto promise = std::make_shared<std::promise<Result<Resp>>>();
    std::future<Result<Resp>> future = promise->get_future();
    std::string body = request.SerializeAsString();
    if (body.size() > kMaxRequestBytes) {
      // The daemon would drop the connection, failing every call on it.
      promise->set_value(Status::ResourceExhausted(std::string(method) + " request of " + std::to_string(body.size()) +
                                                   " bytes exceeds the protocol's 8 MiB message limit"));
      return future;
    }
    // The handler runs on the thread running the transport's loop, while the transport exists.
    const std::string* endpoint = &transport_->endpoint();
    StartUnary(method, call_options, std::move(body), caller_drives, [promise, method, endpoint](ReplyFrame&& frame) {
      if (!frame.status.ok()) return promise->set_value(frame.status);
      Resp response;
      if (!response.ParseFromString(frame.body)) {
        promise->set_value(Status::Internal("the reply of cloudkitd at " + *endpoint + " to " + method +
                                            " is not a valid " + response.GetTypeName()));
      } else {
        promise->set_value(std::move(response));
      }
    });
    return future;
  }

  // Opens a streamed call; `credits` is the DATA window granted up front.
  template <typename Req>
  std::unique_ptr<StreamCall> Stream(const char* method, const Req& request, const CallOptions& call_options,
                                     uint32_t credits) {
    return StreamCall::Start(*transport_, Envelope(method, call_options, credits), request.SerializeAsString(),
                             Timeout(call_options));
  }

 private:
  // Sends a unary call, again while it fails in a way a retry may mend and
  // attempts remain (CallOptions::attempts), and hands its last RESPONSE to
  // `done` on the thread running the transport's loop.
  void StartUnary(const char* method, const CallOptions& call_options, std::string body, bool caller_drives,
                  std::function<void(ReplyFrame&&)> done);
  v1::RequestEnvelope Envelope(const char* method, const CallOptions& call_options, uint32_t credits);
  std::chrono::milliseconds Timeout(const CallOptions& call_options) const {
    return call_options.timeout.value_or(options_.timeout);
  }

  std::unique_ptr<Transport> transport_;
  const ClientOptions options_;
};

}  // namespace cloudkit::client_internal
