#include "fetch_http.h"

#include <algorithm>
#include <cstdint>

#include "cloudkit/web/v1/worker.pb.h"
#include "core/task.h"
#include "js_port_call.h"

namespace cloudkit::web {
namespace {

Result<v1::HttpReply> Call(const v1::HttpCall& call) {
  auto bytes = CallJsPort("ckHttp", call.op(), call.SerializeAsString());
  if (!bytes.ok()) return bytes.status();
  v1::HttpReply reply;
  if (!reply.ParseFromString(*bytes)) return Status::Internal("fetch " + call.op() + ": reply does not parse");
  if (reply.code() != 0) {
    return Status(static_cast<StatusCode>(reply.code()), reply.message(), reply.code() == ::cloudkit::v1::UNAVAILABLE);
  }
  return reply;
}

class FetchBodyReader : public ports::HttpBodyReader {
 public:
  explicit FetchBodyReader(uint32_t handle) : handle_(handle) {}
  ~FetchBodyReader() override {
    if (done_) return;
    v1::HttpCall call;
    call.set_op("close");
    call.set_handle(handle_);
    (void)Call(call);
  }

  Async<Result<std::string>> Read(size_t max_bytes) override { return Async<Result<std::string>>::Ready(ReadNow(max_bytes)); }

 private:
  Result<std::string> ReadNow(size_t max_bytes) {
    if (done_ || max_bytes == 0) return std::string();
    v1::HttpCall call;
    call.set_op("read");
    call.set_handle(handle_);
    call.set_max_bytes(static_cast<uint32_t>(std::min<size_t>(max_bytes, UINT32_MAX)));
    auto reply = Call(call);
    if (!reply.ok()) {
      done_ = true;
      return reply.status();
    }
    if (reply->chunk().empty()) done_ = true;
    return std::move(*reply->mutable_chunk());
  }

  uint32_t handle_;
  bool done_ = false;
};

Result<ports::HttpResponse> SendNow(const ports::HttpRequest& request, const std::string& body) {
  v1::HttpCall call;
  call.set_op("send");
  call.set_method(request.method);
  call.set_url(request.url);
  for (const auto& [name, value] : request.headers) {
    v1::HttpHeader* header = call.add_headers();
    header->set_name(name);
    header->set_value(value);
  }
  call.set_body(body);
  call.set_timeout_ms(request.timeout_ms);
  auto reply = Call(call);
  if (!reply.ok()) return reply.status();
  ports::HttpResponse response;
  response.status = reply->status();
  for (const auto& header : reply->headers()) response.headers.emplace_back(header.name(), header.value());
  response.body = std::make_unique<FetchBodyReader>(reply->handle());
  return response;
}

// Reads a streamed body to its end (see the limitation in fetch_http.h), then
// sends. Finishes inside the caller's await unless the source itself waits.
Task<Result<ports::HttpResponse>> SendStreamed(ports::HttpRequest request) {
  std::string body;
  while (true) {
    Result<std::string> piece = co_await request.body_source->Next(256 * 1024);
    if (!piece.ok()) {
      co_return Status(piece.status().code(), request.method + " " + request.url.substr(0, request.url.find('?')) +
                                                  ": request body: " + piece.status().message(),
                       piece.status().retryable());
    }
    if (piece->empty()) break;
    body += *piece;
  }
  co_return SendNow(request, body);
}

Task<void> Deliver(Task<Result<ports::HttpResponse>> task, Completion<Result<ports::HttpResponse>> done) {
  done.Complete(co_await std::move(task));
}

}  // namespace

Async<Result<ports::HttpResponse>> FetchHttpClient::Send(ports::HttpRequest request) {
  if (!request.body_source) return Async<Result<ports::HttpResponse>>::Ready(SendNow(request, request.body));
  Completion<Result<ports::HttpResponse>> done;
  Async<Result<ports::HttpResponse>> answer = done.async();
  Detach(Deliver(SendStreamed(std::move(request)), done));
  return answer;
}

}  // namespace cloudkit::web
