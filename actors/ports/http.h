// HTTP port: how providers for remote services (S3, Azure, DynamoDB...) reach
// them. Each host implements it with its own client: fetch in the browser
// (web-worker/wasm/fetch_http), libcurl natively (with the cloud providers).
// Responses stream: a provider reads the body in chunks, so a large object
// never sits whole in memory. Request bodies are bounded by the caller
// (providers split large uploads into parts).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace cloudkit::ports {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
  uint32_t timeout_ms = 0;  // 0 = the host's default
};

// The body of a response, read front to back.
class HttpBodyReader {
 public:
  virtual ~HttpBodyReader() = default;
  // Up to max_bytes of the body; empty once it is all read.
  virtual Result<std::string> Read(size_t max_bytes) = 0;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names in lower case
  std::unique_ptr<HttpBodyReader> body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Any HTTP status is a response; UNAVAILABLE when no response came (network
  // error, refused connection), DEADLINE_EXCEEDED on the request's timeout.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace cloudkit::ports
