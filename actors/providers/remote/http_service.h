// HttpService: how a provider of a remote service (S3, Azure, DynamoDB) sends
// its requests: through the host's HTTP port, within the binding's
// resilience (providers/resilience): a concurrency limit, a circuit breaker,
// and tries with a per-try timeout, retried after a backoff while the
// failure is retryable, all within the call's deadline. The provider says
// how to build a request (again for each try: signatures carry the time)
// and what a refusal from its service means.
//
// REQUIRES: used from the turns of one actor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/task.h"
#include "ports/clock.h"
#include "ports/http.h"
#include "ports/sleep.h"
#include "providers/remote/remote_options.h"
#include "providers/resilience/backoff.h"
#include "providers/resilience/circuit_breaker.h"
#include "providers/resilience/concurrency_limit.h"

namespace cloudkit::remote {

// A response read whole (small answers: listings, errors, JSON items).
struct HttpAnswer {
  int status = 0;
  ports::HttpHeaders headers;
  std::string body;
};

class HttpService {
 public:
  // Builds the request of one try, given the time that try may take.
  using MakeRequest = std::function<Result<ports::HttpRequest>(uint32_t timeout_ms)>;
  // The status for an answer that is not a success (any but 2xx), given its
  // body (read up to a bound).
  using MapError = std::function<Status(int http_status, const ports::HttpHeaders& headers, std::string_view body)>;

  HttpService(std::string binding, ports::HttpClient* http, ports::Clock* clock, ports::SleepPort* sleep,
              const RemoteOptions& options);

  // The deadline of a call starting now: the client's, else the binding's
  // call_timeout_ms. Call it in the provider method's first step
  // (core/call_deadline.h).
  int64_t CallDeadline();

  // Sends with retries; a success comes back with its body unread (to be
  // streamed), anything else as `map_error`'s status. `streamed` requests
  // (large bodies) get transfer_timeout_ms per try rather than the
  // attempt timeout.
  Task<Result<ports::HttpResponse>> Send(int64_t deadline_ms, MakeRequest make, MapError map_error,
                                         bool streamed = false);
  // The same, with the body read whole (INTERNAL beyond `max_body` bytes).
  Task<Result<HttpAnswer>> Fetch(int64_t deadline_ms, MakeRequest make, MapError map_error,
                                 size_t max_body = size_t{64} << 20);

  const RemoteOptions& options() const { return options_; }
  ports::Clock* clock() const { return clock_; }
  resilience::CircuitBreaker& breaker() { return breaker_; }

 private:
  Task<Result<ports::HttpResponse>> TryOnce(const MakeRequest& make, const MapError& map_error, uint32_t timeout_ms);

  std::string binding_;
  ports::HttpClient* http_;
  ports::Clock* clock_;
  ports::SleepPort* sleep_;
  RemoteOptions options_;
  resilience::Backoff backoff_;
  resilience::CircuitBreaker breaker_;
  resilience::ConcurrencyLimit limit_;
};

// Reads all of `body` (INTERNAL naming `what` beyond `max` bytes).
Task<Result<std::string>> ReadWhole(ports::HttpBodyReader* body, size_t max, std::string what);

}  // namespace cloudkit::remote
