// DelayProxy: a TCP proxy on a free port of 127.0.0.1 that forwards each
// connection to a target host and port and holds every chunk it reads, in
// each direction, for a set latency before passing it on, in order: a slow
// link in front of one backend (a request/response round trip takes at least
// twice the latency), for fault tests. Bandwidth is not limited. Runs on a
// thread of its own (poll); Stop, or destroying it, closes every connection.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"

namespace cloudkit::testing_util {

class DelayProxy {
 public:
  // target_host: an IPv4 address, e.g. "127.0.0.1".
  static Result<std::unique_ptr<DelayProxy>> Start(const std::string& target_host, int target_port,
                                                   std::chrono::milliseconds latency);
  ~DelayProxy();
  DelayProxy(const DelayProxy&) = delete;
  DelayProxy& operator=(const DelayProxy&) = delete;

  std::string host() const { return "127.0.0.1"; }
  int port() const { return port_; }
  // "127.0.0.1:PORT".
  std::string address() const { return host() + ":" + std::to_string(port_); }

  // Applies to the chunks read from now on; those waiting keep their time.
  void set_latency(std::chrono::milliseconds latency) { latency_ms_ = latency.count(); }
  std::chrono::milliseconds latency() const { return std::chrono::milliseconds(latency_ms_.load()); }
  // Connections accepted so far.
  size_t connections_accepted() const { return connections_accepted_; }

  // Stops accepting, closes every connection and joins the thread.
  void Stop();

 private:
  DelayProxy() = default;
  void Run();

  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // a pipe: Stop writes to it to end Run's poll
  int port_ = 0;
  uint32_t target_address_ = 0;  // network byte order
  int target_port_ = 0;
  std::atomic<int64_t> latency_ms_{0};
  std::atomic<size_t> connections_accepted_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace cloudkit::testing_util
