// LoopbackConnection: a blocking TCP connection to a port of 127.0.0.1, with
// deadlines, for tests that speak a protocol by hand (Redis's PING) or check
// bytes end to end (the delay proxy).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"

namespace cloudkit::testing_util {

class LoopbackConnection {
 public:
  static Result<std::unique_ptr<LoopbackConnection>> Connect(
      int port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~LoopbackConnection();
  LoopbackConnection(const LoopbackConnection&) = delete;
  LoopbackConnection& operator=(const LoopbackConnection&) = delete;

  Status SendAll(const std::string& bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads until `terminator` has arrived (the result ends with it), or, with
  // an empty terminator, until `size` bytes have. Fails when the peer closes
  // first or the time runs out.
  Result<std::string> ReceiveUntil(const std::string& terminator,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
  Result<std::string> ReceiveExactly(size_t size, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads until the peer closes its side.
  Result<std::string> ReceiveToEnd(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Closes the sending side (the peer reads end of file).
  void ShutdownSending();

  int fd() const { return fd_; }

 private:
  explicit LoopbackConnection(int fd) : fd_(fd) {}
  // Appends what arrives within `deadline` to `received`; false at end of file.
  Result<bool> ReceiveSome(std::string& received, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
};

// Sends a Redis command in inline form ("PING") and returns the first line of
// the reply, without its CRLF ("+PONG").
Result<std::string> RedisCommand(int port, const std::string& inline_command,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace cloudkit::testing_util
