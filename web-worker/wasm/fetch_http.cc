#include "fetch_http.h"

#include <algorithm>
#include <cstdint>
#include <memory>

#include "cloudkit/web/v1/worker.pb.h"
#include "core/task.h"
#include "js_port_call.h"

namespace cloudkit::web {
namespace {

Task<Result<v1::HttpReply>> Call(v1::HttpCall call) {
  Result<std::string> bytes = co_await CallJsPort("ckHttp", call.op(), call.SerializeAsString());
  if (!bytes.ok()) co_return bytes.status();
  v1::HttpReply reply;
  if (!reply.ParseFromString(*bytes)) co_return Status::Internal("fetch " + call.op() + ": reply does not parse");
  if (reply.code() != 0) {
    co_return Status(static_cast<StatusCode>(reply.code()), reply.message(),
                     reply.code() == ::cloudkit::v1::UNAVAILABLE);
  }
  co_return reply;
}

// Hands a task's result to an Async: the port's methods answer through it.
template <typename T>
Async<T> Answer(Task<T> task) {
  Completion<T> done;
  Async<T> answer = done.async();
  Detach([](Task<T> t, Completion<T> completion) -> Task<void> {
    completion.Complete(co_await std::move(t));
  }(std::move(task), done));
  return answer;
}

// What a body reader shares with its reads in flight: a reader may be
// destroyed before the reply to its last read arrives.
struct BodyState {
  uint32_t handle = 0;
  bool done = false;
};

Task<Result<std::string>> ReadBody(std::shared_ptr<BodyState> state, size_t max_bytes) {
  if (state->done || max_bytes == 0) co_return std::string();
  v1::HttpCall call;
  call.set_op("read");
  call.set_handle(state->handle);
  call.set_max_bytes(static_cast<uint32_t>(std::min<size_t>(max_bytes, UINT32_MAX)));
  Result<v1::HttpReply> reply = co_await Call(std::move(call));
  if (!reply.ok()) {
    state->done = true;
    co_return reply.status();
  }
  if (reply->chunk().empty()) state->done = true;
  co_return std::move(*reply->mutable_chunk());
}

class FetchBodyReader : public ports::HttpBodyReader {
 public:
  explicit FetchBodyReader(uint32_t handle) : state_(std::make_shared<BodyState>()) { state_->handle = handle; }
  ~FetchBodyReader() override {
    if (state_->done) return;
    v1::HttpCall call;
    call.set_op("close");
    call.set_handle(state_->handle);
    CallJsPortAndForget("ckHttp", call.op(), call.SerializeAsString());
  }

  Async<Result<std::string>> Read(size_t max_bytes) override { return Answer(ReadBody(state_, max_bytes)); }

 private:
  std::shared_ptr<BodyState> state_;
};

// Reads a streamed body to its end (see the limitation in fetch_http.h), then
// sends it with the request.
Task<Result<ports::HttpResponse>> Send(ports::HttpRequest request) {
  std::string body = std::move(request.body);
  if (request.body_source) {
    while (true) {
      Result<std::string> piece = co_await request.body_source->Next(256 * 1024);
      if (!piece.ok()) {
        co_return Status(piece.status().code(),
                         request.method + " " + request.url.substr(0, request.url.find('?')) +
                             ": request body: " + piece.status().message(),
                         piece.status().retryable());
      }
      if (piece->empty()) break;
      body += *piece;
    }
  }
  v1::HttpCall call;
  call.set_op("send");
  call.set_method(request.method);
  call.set_url(request.url);
  for (const auto& [name, value] : request.headers) {
    v1::HttpHeader* header = call.add_headers();
    header->set_name(name);
    header->set_value(value);
  }
  call.set_body(std::move(body));
  call.set_timeout_ms(request.timeout_ms);
  Result<v1::HttpReply> reply = co_await Call(std::move(call));
  if (!reply.ok()) co_return reply.status();
  ports::HttpResponse response;
  response.status = reply->status();
  for (const auto& header : reply->headers()) response.headers.emplace_back(header.name(), header.value());
  response.body = std::make_unique<FetchBodyReader>(reply->handle());
  co_return response;
}

}  // namespace

Async<Result<ports::HttpResponse>> FetchHttpClient::Send(ports::HttpRequest request) {
  return Answer(web::Send(std::move(request)));
}

}  // namespace cloudkit::web
