// HTTP port: how providers for remote services (S3, Azure, DynamoDB...) reach
// them. Each host implements it with its own client: libcurl's multi
// interface natively (runtime/ports/curl_http_client), fetch in the browser
// (web-worker/wasm/fetch_http). Every call is asynchronous (core/async.h):
// thousands of requests may be in flight from one actor, none blocks it.
// Bodies stream both ways, so a large object never sits whole in memory.
//
// REQUIRES: called from an actor's turn (the answer goes to its executor).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/async.h"
#include "core/status.h"

namespace cloudkit::ports {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// A request body supplied piece by piece, for uploads larger than memory.
// The client asks for the next piece when it has sent the last one.
class HttpBodySource {
 public:
  virtual ~HttpBodySource() = default;
  // Up to max_bytes of the body; empty once all of it was given.
  virtual Async<Result<std::string>> Next(size_t max_bytes) = 0;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  // The body: `body` when it is in memory; else `body_source`, streamed
  // (give content_length when known, else it is sent chunked).
  std::string body;
  std::unique_ptr<HttpBodySource> body_source;
  int64_t content_length = -1;
  uint32_t timeout_ms = 0;  // the whole exchange, body included; 0 = the host's default
};

// The body of a response, read front to back.
class HttpBodyReader {
 public:
  virtual ~HttpBodyReader() = default;
  // Up to max_bytes of the body; empty once it is all read. Reading slowly
  // holds the transfer back (flow control) rather than buffering the body.
  virtual Async<Result<std::string>> Read(size_t max_bytes) = 0;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names in lower case
  std::unique_ptr<HttpBodyReader> body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Completes when the status line and headers arrived. Any HTTP status is a
  // response; UNAVAILABLE when no response came (network error, refused
  // connection), DEADLINE_EXCEEDED on the request's timeout.
  virtual Async<Result<HttpResponse>> Send(HttpRequest request) = 0;
};

}  // namespace cloudkit::ports
