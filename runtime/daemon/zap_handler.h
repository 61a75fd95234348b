// ZapHandler: cloudkitd's ZeroMQ Authentication Protocol handler (RFC 27).
// ZeroMQ asks it, on inproc://zeromq.zap.01 (libzmq 4.3), about every CURVE
// handshake on the daemon's context; it answers from the AccessPolicy on a
// thread of its own (handshakes never wait behind requests): 200 with the
// key's name as the connection's User-Id for a configured key, 400 for any
// other. Refusals are logged with the public key (never a secret one), at
// most once per interval. The keys may be replaced while it serves (a reload).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include <zmq.hpp>

#include "core/status.h"
#include "daemon/access_policy.h"
#include "daemon/log_limiter.h"

namespace cloudkit {

class ZapHandler {
 public:
  // Binds the ZAP endpoint on `context` (before any CURVE socket binds: a
  // CURVE server without a handler would take every key) and starts serving.
  static Result<std::unique_ptr<ZapHandler>> Start(zmq::context_t& context,
                                                   std::shared_ptr<const AccessPolicy> policy);
  ~ZapHandler();

  // The keys the next handshakes are checked against.
  void Replace(std::shared_ptr<const AccessPolicy> policy);

  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

 private:
  ZapHandler(zmq::context_t& context, std::shared_ptr<const AccessPolicy> policy);
  void Run();
  void Answer(std::vector<zmq::message_t>& request);

  std::mutex policy_mutex_;  // the front door replaces policy_ while this thread reads it
  std::shared_ptr<const AccessPolicy> policy_;
  zmq::socket_t socket_;
  int stop_fd_ = -1;  // eventfd: the destructor's "stop"
  LogLimiter refusals_log_;
  std::thread thread_;
};

}  // namespace cloudkit
