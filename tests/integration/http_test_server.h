// HttpTestServer: the loopback HTTP server of the HTTP port's tests
// (http_test_server.mjs, run by Node) as a child process on a free port of
// 127.0.0.1. Start waits until it listens; destroying it stops it (SIGTERM,
// then SIGKILL) and reaps it; it also dies with the test (a ChildProcess,
// support/child_process.h).
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "support/child_process.h"

namespace cloudkit::integration {

class HttpTestServer {
 public:
  static Result<std::unique_ptr<HttpTestServer>> Start();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path (path starts with '/').
  std::string Url(const std::string& path) const;

 private:
  HttpTestServer() = default;
  std::unique_ptr<testing_util::ChildProcess> process_;
  int port_ = 0;
};

}  // namespace cloudkit::integration
