// HttpTestServer: the loopback HTTP server of the HTTP port's tests
// (http_test_server.mjs, run by Node) as a child process on a free port of
// 127.0.0.1. Start waits until it listens; destroying it stops it (SIGTERM,
// then SIGKILL) and reaps it; it also dies with the test (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "core/status.h"

namespace cloudkit::integration {

class HttpTestServer {
 public:
  static Result<std::unique_ptr<HttpTestServer>> Start();
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path (path starts with '/').
  std::string Url(const std::string& path) const;

 private:
  HttpTestServer() = default;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
};

// A loopback port nothing listens on (bound, then released).
int UnusedLoopbackPort();

}  // namespace cloudkit::integration
