#include "support/loopback_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cloudkit::testing_util {
namespace {

using Clock = std::chrono::steady_clock;

int MillisecondsLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on `fd` until `deadline`; false on timeout.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd entry{fd, events, 0};
    int ready = poll(&entry, 1, MillisecondsLeft(deadline));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return true;  // let the next call report the error
  }
}

}  // namespace

Result<std::unique_ptr<LoopbackConnection>> LoopbackConnection::Connect(int port, std::chrono::milliseconds timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::Internal(std::string("socket: ") + strerror(errno));
  std::unique_ptr<LoopbackConnection> connection(new LoopbackConnection(fd));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const std::string where = "127.0.0.1:" + std::to_string(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EINPROGRESS) return Status::Unavailable("connect " + where + ": " + strerror(errno));
    if (!WaitFor(fd, POLLOUT, Clock::now() + timeout)) return Status::Unavailable("connect " + where + ": timed out");
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return Status::Unavailable("connect " + where + ": " + strerror(error));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return connection;
}

LoopbackConnection::~LoopbackConnection() {
  if (fd_ >= 0) close(fd_);
}

Status LoopbackConnection::SendAll(const std::string& bytes, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd_, POLLOUT, deadline)) return Status::DeadlineExceeded("send: timed out");
      continue;
    }
    return Status::Unavailable(std::string("send: ") + strerror(errno));
  }
  return Status::Ok();
}

Result<bool> LoopbackConnection::ReceiveSome(std::string& received, Clock::time_point deadline) {
  while (true) {
    char buffer[64 * 1024];
    ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      received.append(buffer, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Status::Unavailable(std::string("recv: ") + strerror(errno));
    if (!WaitFor(fd_, POLLIN, deadline)) {
      return Status::DeadlineExceeded("recv: nothing more within the time limit (got " +
                                      std::to_string(received.size()) + " bytes)");
    }
  }
}

Result<std::string> LoopbackConnection::ReceiveUntil(const std::string& terminator, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string received;
  while (received.find(terminator) == std::string::npos) {
    Result<bool> more = ReceiveSome(received, deadline);
    if (!more.ok()) return more.status();
    if (!*more) return Status::Unavailable("the peer closed the connection before \"" + terminator + "\"");
  }
  return received;
}

Result<std::string> LoopbackConnection::ReceiveExactly(size_t size, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string received;
  while (received.size() < size) {
    Result<bool> more = ReceiveSome(received, deadline);
    if (!more.ok()) return more.status();
    if (!*more) {
      return Status::Unavailable("the peer closed the connection after " + std::to_string(received.size()) + " of " +
                                 std::to_string(size) + " bytes");
    }
  }
  return received;
}

Result<std::string> LoopbackConnection::ReceiveToEnd(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string received;
  while (true) {
    Result<bool> more = ReceiveSome(received, deadline);
    if (!more.ok()) return more.status();
    if (!*more) return received;
  }
}

void LoopbackConnection::ShutdownSending() { shutdown(fd_, SHUT_WR); }

Result<std::string> RedisCommand(int port, const std::string& inline_command, std::chrono::milliseconds timeout) {
  Result<std::unique_ptr<LoopbackConnection>> connection = LoopbackConnection::Connect(port, timeout);
  if (!connection.ok()) return connection.status();
  CK_RETURN_IF_ERROR((*connection)->SendAll(inline_command + "\r\n", timeout));
  Result<std::string> reply = (*connection)->ReceiveUntil("\r\n", timeout);
  if (!reply.ok()) return reply.status();
  return reply->substr(0, reply->find("\r\n"));
}

}  // namespace cloudkit::testing_util
