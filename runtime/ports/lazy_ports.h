// The host's ports for remote services, made on first use: a daemon serving
// only `memory` and `local` bindings never starts libcurl's I/O thread or the
// timer thread (its idle footprint stays small).
#pragma once

#include <memory>
#include <mutex>

#include "ports/curl_http_client.h"
#include "ports/thread_sleep_port.h"

namespace cloudkit {

class LazyHttpClient : public ports::HttpClient {
 public:
  explicit LazyHttpClient(CurlHttpClientOptions options = {}) : options_(options) {}
  Async<Result<ports::HttpResponse>> Send(ports::HttpRequest request) override {
    std::call_once(made_, [this] { client_ = std::make_unique<CurlHttpClient>(options_); });
    return client_->Send(std::move(request));
  }

 private:
  CurlHttpClientOptions options_;
  std::once_flag made_;
  std::unique_ptr<CurlHttpClient> client_;
};

class LazySleepPort : public ports::SleepPort {
 public:
  Async<bool> Sleep(int64_t ms) override {
    std::call_once(made_, [this] { port_ = std::make_unique<ThreadSleepPort>(); });
    return port_->Sleep(ms);
  }

 private:
  std::once_flag made_;
  std::unique_ptr<ThreadSleepPort> port_;
};

}  // namespace cloudkit
