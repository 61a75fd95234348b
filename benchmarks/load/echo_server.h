// RawEchoServer: the baseline of cloudkit-bench. A ZeroMQ ROUTER on a free
// loopback port, served by one thread of its own with its own ZeroMQ context,
// that sends every message straight back to its sender, frames unchanged. It
// is the floor under cloudkitd's front door: same transport, no decoding, no
// actors, no provider.
#pragma once

#include <string>
#include <thread>

#include <zmq.hpp>

namespace cloudkit::bench {

class RawEchoServer {
 public:
  RawEchoServer();   // binds and starts serving
  ~RawEchoServer();  // stops the thread
  RawEchoServer(const RawEchoServer&) = delete;
  RawEchoServer& operator=(const RawEchoServer&) = delete;

  const std::string& endpoint() const { return endpoint_; }

 private:
  void Serve();

  zmq::context_t context_{1};
  zmq::socket_t router_;
  std::string endpoint_;
  std::thread thread_;
};

}  // namespace cloudkit::bench
