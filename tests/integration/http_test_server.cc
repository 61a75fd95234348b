#include "integration/http_test_server.h"

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace cloudkit::integration {
namespace {

constexpr auto kStartLimit = std::chrono::seconds(20);

}  // namespace

Result<std::unique_ptr<HttpTestServer>> HttpTestServer::Start() {
  std::unique_ptr<HttpTestServer> server(new HttpTestServer());
  testing_util::ChildProcessOptions options;
  options.argv = {NODE_EXECUTABLE, CLOUDKIT_SOURCE_DIR "/tests/integration/http_test_server.mjs"};
  options.stdout_to_pipe = true;
  options.inherit_stderr = true;  // its errors show in the test's output
  const std::string command = options.argv[0] + " " + options.argv[1];
  Result<std::unique_ptr<testing_util::ChildProcess>> process = testing_util::ChildProcess::Start(options);
  if (!process.ok()) return process.status();
  server->process_ = std::move(*process);

  // Its first line: "listening PORT".
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + kStartLimit;
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd wait{server->process_->stdout_fd(), POLLIN, 0};
    if (left.count() <= 0 || poll(&wait, 1, static_cast<int>(left.count())) <= 0) {
      return Status::Unavailable("http test server (" + command + ") did not start within 20 s");
    }
    char buf[256];
    ssize_t n = read(server->process_->stdout_fd(), buf, sizeof buf);
    if (n <= 0) return Status::Unavailable("http test server (" + command + ") exited at start-up");
    line.append(buf, static_cast<size_t>(n));
  }
  if (line.rfind("listening ", 0) != 0) return Status::Internal("http test server said: " + line);
  server->port_ = std::stoi(line.substr(10));
  return server;
}

std::string HttpTestServer::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

}  // namespace cloudkit::integration
