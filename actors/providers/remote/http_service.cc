#include "providers/remote/http_service.h"

#include <algorithm>
#include <utility>

#include "core/call_deadline.h"
#include "providers/names.h"
#include "providers/resilience/retry.h"

namespace cloudkit::remote {

namespace {
constexpr size_t kErrorBodyBytes = 64 * 1024;  // enough for any service's error document
constexpr size_t kReadPiece = 256 * 1024;
}  // namespace

Task<Result<std::string>> ReadWhole(ports::HttpBodyReader* body, size_t max, std::string what) {
  std::string all;
  if (body == nullptr) co_return all;
  while (true) {
    Result<std::string> piece = co_await body->Read(kReadPiece);
    if (!piece.ok()) co_return piece.status();
    if (piece->empty()) co_return all;
    if (all.size() + piece->size() > max) {
      co_return Status::Internal("the answer for " + what + " is over " + std::to_string(max) + " bytes");
    }
    all += *piece;
  }
}

HttpService::HttpService(std::string binding, ports::HttpClient* http, ports::Clock* clock,
                         ports::SleepPort* sleep, const RemoteOptions& options)
    : binding_(std::move(binding)),
      http_(http),
      clock_(clock),
      sleep_(sleep),
      options_(options),
      backoff_(options.backoff, static_cast<uint64_t>(clock->NowMs())),
      breaker_(options.breaker, "binding " + names::Quote(binding_)),
      limit_(options.max_concurrency) {}

int64_t HttpService::CallDeadline() {
  const int64_t client = CurrentCallDeadlineMs();
  return client != 0 ? client : clock_->NowMs() + options_.call_timeout_ms;
}

Task<Result<ports::HttpResponse>> HttpService::TryOnce(const MakeRequest& make, const MapError& map_error,
                                                       uint32_t timeout_ms) {
  Result<ports::HttpRequest> request = make(timeout_ms);
  if (!request.ok()) co_return request.status();
  request->timeout_ms = timeout_ms;
  Result<ports::HttpResponse> response = co_await http_->Send(std::move(*request));
  if (!response.ok()) {
    // No answer (refused, reset, timed out): say which binding's service.
    const Status& failed = response.status();
    co_return Status(failed.code(), failed.message() + " (binding " + names::Quote(binding_) + ")",
                     failed.retryable(), failed.retry_after_ms());
  }
  if (response->status >= 200 && response->status < 300) co_return response;
  // A refusal: its body says why (bounded: a broken server cannot make it big).
  Result<std::string> body = co_await ReadWhole(response->body.get(), kErrorBodyBytes, "an error answer");
  co_return map_error(response->status, response->headers, body.ok() ? std::string_view(*body) : std::string_view());
}

Task<Result<ports::HttpResponse>> HttpService::Send(int64_t deadline_ms, MakeRequest make, MapError map_error,
                                                    bool streamed) {
  resilience::Resilience r{&backoff_, &breaker_, &limit_, clock_,
                           streamed ? options_.transfer_timeout_ms : options_.attempt_timeout_ms,
                           [this](int64_t ms) { return sleep_->Sleep(ms); }};
  std::function<Task<Result<ports::HttpResponse>>(int64_t)> attempt =
      [this, &make, &map_error](int64_t timeout_ms) {
        return TryOnce(make, map_error, static_cast<uint32_t>(std::clamp<int64_t>(timeout_ms, 1, UINT32_MAX)));
      };
  // A streamed try may outlive the call's deadline as the client's stream
  // deadline restarts with each frame: give it its own timeout.
  co_return co_await resilience::WithRetries<ports::HttpResponse>(r, streamed ? 0 : deadline_ms, std::move(attempt));
}

Task<Result<HttpAnswer>> HttpService::Fetch(int64_t deadline_ms, MakeRequest make, MapError map_error,
                                            size_t max_body) {
  Result<ports::HttpResponse> response = co_await Send(deadline_ms, std::move(make), std::move(map_error));
  if (!response.ok()) co_return response.status();
  HttpAnswer answer{response->status, std::move(response->headers), {}};
  Result<std::string> body = co_await ReadWhole(response->body.get(), max_body, "a request to " + binding_);
  if (!body.ok()) co_return body.status();
  answer.body = std::move(*body);
  co_return answer;
}

}  // namespace cloudkit::remote
