// The browser's HTTP port: fetch, from the worker. Each call goes to JS as a
// port call (js_port_call.h) and its answer comes back to the asking actor as
// a message; many requests are in flight at once. Response bodies stream from
// fetch's ReadableStream chunk by chunk.
//
// Limitation: a streamed request body (body_source) is read to its end before
// the request is sent (fetch's streaming uploads need duplex: 'half' and
// HTTP/2, and the JS side takes one body); the whole body sits in memory.
#pragma once

#include "ports/http.h"

namespace cloudkit::web {

class FetchHttpClient : public ports::HttpClient {
 public:
  Async<Result<ports::HttpResponse>> Send(ports::HttpRequest request) override;
};

}  // namespace cloudkit::web
