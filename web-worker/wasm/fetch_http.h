// The browser's HTTP port: fetch, from the worker. Asynchronous in JS,
// synchronous to the actor core through Asyncify, like the storage port.
// Response bodies stream from fetch's ReadableStream chunk by chunk.
#pragma once

#include "ports/http.h"

namespace cloudkit::web {

class FetchHttpClient : public ports::HttpClient {
 public:
  Result<ports::HttpResponse> Send(const ports::HttpRequest& request) override;
};

}  // namespace cloudkit::web
