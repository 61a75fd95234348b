#include "support/delay_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <list>
#include <vector>

namespace cloudkit::testing_util {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadSize = 64 * 1024;
// Per direction: beyond this much waiting, the proxy stops reading from the
// sender until the receiver catches up.
constexpr size_t kMaxQueuedBytes = 8 * 1024 * 1024;

// Bytes read from one side, due at the other at `due`; an empty chunk with
// `end` set passes on the sender's end of file.
struct Chunk {
  Clock::time_point due;
  std::string bytes;
  size_t sent = 0;
  bool end = false;
};

// One direction of a connection: from one socket to the other.
struct Direction {
  std::deque<Chunk> queue;
  size_t queued_bytes = 0;
  bool read_ended = false;  // the sender's end of file has been read
  bool done = false;        // its end of file was passed on, or the receiver is gone

  bool HasDueChunk(Clock::time_point now) const { return !done && !queue.empty() && queue.front().due <= now; }
};

struct Connection {
  int client_fd = -1;
  int server_fd = -1;
  bool server_connected = false;
  bool client_hung_up = false;  // the peer closed both ways: nothing more can go to it
  bool server_hung_up = false;
  Direction upstream;    // client to server
  Direction downstream;  // server to client
  bool failed = false;

  bool Finished() const { return failed || (upstream.done && downstream.done); }
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (client_fd >= 0) close(client_fd);
    if (server_fd >= 0) close(server_fd);
  }
};

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

void SetNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Reads what `from` has into `direction`; false when the connection failed.
bool ReadInto(int from, Direction& direction, std::chrono::milliseconds latency) {
  char buffer[kReadSize];
  ssize_t n = recv(from, buffer, sizeof buffer, 0);
  if (n > 0 && direction.done) return true;  // the receiver is gone: dropped
  if (n > 0) {
    direction.queue.push_back({Clock::now() + latency, std::string(buffer, static_cast<size_t>(n))});
    direction.queued_bytes += static_cast<size_t>(n);
    return true;
  }
  if (n == 0) {
    direction.read_ended = true;
    direction.queue.push_back({Clock::now() + latency, std::string(), 0, true});
    return true;
  }
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

// Sends the chunks of `direction` that are due to `to`; false when the
// connection failed.
bool Flush(int to, Direction& direction) {
  Clock::time_point now = Clock::now();
  while (direction.HasDueChunk(now)) {
    Chunk& chunk = direction.queue.front();
    if (chunk.end) {
      shutdown(to, SHUT_WR);
      direction.queue.clear();
      direction.done = true;
      return true;
    }
    ssize_t n = send(to, chunk.bytes.data() + chunk.sent, chunk.bytes.size() - chunk.sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    chunk.sent += static_cast<size_t>(n);
    direction.queued_bytes -= static_cast<size_t>(n);
    if (chunk.sent == chunk.bytes.size()) direction.queue.pop_front();
  }
  return true;
}

short Events(bool can_read, bool wants_write) {
  return static_cast<short>((can_read ? POLLIN : 0) | (wants_write ? POLLOUT : 0));
}

}  // namespace

Result<std::unique_ptr<DelayProxy>> DelayProxy::Start(const std::string& target_host, int target_port,
                                                      std::chrono::milliseconds latency) {
  std::unique_ptr<DelayProxy> proxy(new DelayProxy());
  in_addr target{};
  if (inet_pton(AF_INET, target_host.c_str(), &target) != 1) {
    return Status::InvalidArgument("DelayProxy: not an IPv4 address: " + target_host);
  }
  proxy->target_address_ = target.s_addr;
  proxy->target_port_ = target_port;
  proxy->latency_ms_ = latency.count();

  proxy->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (proxy->listen_fd_ < 0 || bind(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(proxy->listen_fd_, 64) != 0 ||
      getsockname(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return Status::Internal(std::string("DelayProxy: cannot listen on 127.0.0.1: ") + strerror(errno));
  }
  proxy->port_ = ntohs(address.sin_port);
  if (pipe2(proxy->wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) return Status::Internal("DelayProxy: pipe failed");
  proxy->thread_ = std::thread([p = proxy.get()] { p->Run(); });
  return proxy;
}

DelayProxy::~DelayProxy() {
  Stop();
  if (listen_fd_ >= 0) close(listen_fd_);
  for (int fd : wake_fds_) {
    if (fd >= 0) close(fd);
  }
}

void DelayProxy::Stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  char byte = 0;
  (void)!write(wake_fds_[1], &byte, 1);
  thread_.join();
}

void DelayProxy::Run() {
  std::list<Connection> connections;
  std::vector<pollfd> fds;
  while (!stopping_) {
    Clock::time_point now = Clock::now();
    // What to wait for: the wake-up pipe, new connections, and per
    // connection its two sockets (a hung-up one is left out, as poll would
    // report it at once, every time).
    fds.clear();
    fds.push_back({wake_fds_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    Clock::time_point next_due = Clock::time_point::max();
    for (Connection& c : connections) {
      bool client_can_read = !c.upstream.read_ended && c.upstream.queued_bytes < kMaxQueuedBytes;
      bool server_can_read =
          c.server_connected && !c.downstream.read_ended && c.downstream.queued_bytes < kMaxQueuedBytes;
      bool client_wants_write = c.downstream.HasDueChunk(now);
      bool server_wants_write = !c.server_connected || c.upstream.HasDueChunk(now);
      fds.push_back({c.client_hung_up ? -1 : c.client_fd, Events(client_can_read, client_wants_write), 0});
      fds.push_back({c.server_hung_up ? -1 : c.server_fd, Events(server_can_read, server_wants_write), 0});
      for (const Direction* d : {&c.upstream, &c.downstream}) {
        if (!d->done && !d->queue.empty() && d->queue.front().due > now) {
          next_due = std::min(next_due, d->queue.front().due);
        }
      }
    }
    int timeout_ms = -1;
    if (next_due != Clock::time_point::max()) {
      // Rounded up, so that the chunk is due when poll returns.
      auto wait = std::chrono::duration_cast<std::chrono::microseconds>(next_due - now).count();
      timeout_ms = static_cast<int>((wait + 999) / 1000);
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;
    if (stopping_) break;
    std::chrono::milliseconds latency(latency_ms_.load());

    if (fds[1].revents & POLLIN) {
      while (true) {
        int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client < 0) break;
        ++connections_accepted_;
        Connection& c = connections.emplace_back();
        c.client_fd = client;
        SetNoDelay(client);
        c.server_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_in target{};
        target.sin_family = AF_INET;
        target.sin_addr.s_addr = target_address_;
        target.sin_port = htons(static_cast<uint16_t>(target_port_));
        if (c.server_fd < 0 ||
            (connect(c.server_fd, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0 && errno != EINPROGRESS)) {
          c.failed = true;  // the target refuses: so does the proxy (closing the client)
        }
      }
    }

    // The connections polled this time are the first fds.size() / 2 - 1 of
    // the list, in order; those accepted just now come after them.
    size_t index = 2;
    for (Connection& c : connections) {
      if (index >= fds.size()) break;
      const short client_events = fds[index++].revents;
      const short server_events = fds[index++].revents;
      if (c.failed) continue;

      if (!c.server_connected && (server_events & (POLLOUT | POLLERR | POLLHUP))) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(c.server_fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
          c.failed = true;
          continue;
        }
        c.server_connected = true;
        SetNoDelay(c.server_fd);
      }
      if ((client_events & POLLERR) || (server_events & POLLERR)) {
        c.failed = true;
        continue;
      }
      if ((client_events & (POLLIN | POLLHUP)) && !c.upstream.read_ended &&
          !ReadInto(c.client_fd, c.upstream, latency)) {
        c.failed = true;
        continue;
      }
      if (c.server_connected && (server_events & (POLLIN | POLLHUP)) && !c.downstream.read_ended &&
          !ReadInto(c.server_fd, c.downstream, latency)) {
        c.failed = true;
        continue;
      }
      // A side that hung up after its last bytes were read takes nothing more.
      if ((client_events & POLLHUP) && c.upstream.read_ended) {
        c.client_hung_up = true;
        c.downstream.done = true;
        c.downstream.queue.clear();
      }
      if ((server_events & POLLHUP) && c.downstream.read_ended) {
        c.server_hung_up = true;
        c.upstream.done = true;
        c.upstream.queue.clear();
      }
    }

    for (Connection& c : connections) {
      if (c.failed) continue;
      if (c.server_connected && !Flush(c.server_fd, c.upstream)) c.failed = true;
      if (!c.failed && !Flush(c.client_fd, c.downstream)) c.failed = true;
    }
    connections.remove_if([](const Connection& c) { return c.Finished(); });
  }
}

}  // namespace cloudkit::testing_util
