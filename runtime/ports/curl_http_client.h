// CurlHttpClient: the native HTTP port over libcurl's multi interface.
//
// One I/O thread (the client's I/O actor) owns the CURLM and every transfer:
// Send, a body reader's Read and a streamed body's chunks reach it as
// commands in its mailbox (a mutex-protected queue plus curl_multi_wakeup),
// and it runs curl_multi_poll. Thousands of requests can be in flight with no
// thread per request; connections are kept in the multi handle's cache and
// reused.
//
// Answers go back as messages to the actor that asked (core/async.h): Send
// completes once the status line and headers are in; the response body is
// buffered up to `max_buffered_bytes` per transfer, after which the transfer
// is paused until the reader drains it, so a slow reader holds the server
// back instead of growing memory. A streamed request body (body_source) is
// pulled a piece at a time: its Next runs on the requesting actor's turn and
// the piece is handed to the I/O thread, which sends it.
//
// Failures: DEADLINE_EXCEEDED on the request's timeout (default from the
// options); UNAVAILABLE (retryable) when no response came (refused, DNS,
// reset, the client shut down); INVALID_ARGUMENT for a URL curl cannot use.
// Messages name the method and the URL without its query string or
// credentials.
//
// Destroying the client stops the thread and fails every outstanding request
// and pending Read with UNAVAILABLE. A reader destroyed before the end of its
// body aborts the transfer; a Read still pending then is abandoned (its Async
// never completes, as nothing can await it any more).
//
// REQUIRES: Send and Read are called on an actor's turn (CurrentExecutor set);
// a body source and a reader are used by the actor that sent the request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "ports/http.h"

namespace cloudkit {

struct CurlHttpClientOptions {
  uint32_t default_timeout_ms = 30'000;        // for requests with timeout_ms == 0
  size_t max_buffered_bytes = size_t{1} << 20;  // response bytes held per transfer before pausing it
  size_t upload_chunk_bytes = 256 * 1024;       // what a streamed request body is asked for at a time
  long max_connections_per_host = 0;            // 0: no limit (CURLMOPT_MAX_HOST_CONNECTIONS)
};

class CurlHttpClient : public ports::HttpClient {
 public:
  explicit CurlHttpClient(CurlHttpClientOptions options = {});
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Async<Result<ports::HttpResponse>> Send(ports::HttpRequest request) override;

  class IoActor;  // the I/O thread and its state (curl_http_client.cc)

 private:
  CurlHttpClientOptions options_;
  std::unique_ptr<IoActor> io_;
};

}  // namespace cloudkit
