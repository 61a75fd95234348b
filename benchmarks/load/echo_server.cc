#include "load/echo_server.h"

#include <vector>

namespace cloudkit::bench {

RawEchoServer::RawEchoServer() : router_(context_, zmq::socket_type::router) {
  router_.set(zmq::sockopt::sndhwm, 0);
  router_.set(zmq::sockopt::rcvhwm, 100'000);
  router_.bind("tcp://127.0.0.1:0");
  endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  thread_ = std::thread(&RawEchoServer::Serve, this);
}

void RawEchoServer::Serve() {
  std::vector<zmq::message_t> parts;
  try {
    while (true) {
      parts.clear();
      do {
        parts.emplace_back();
        (void)router_.recv(parts.back());
      } while (parts.back().more());
      for (size_t i = 0; i < parts.size(); ++i) {
        router_.send(parts[i], i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
      }
    }
  } catch (const zmq::error_t&) {
    // ETERM: the context is shutting down.
  }
  router_.close();
}

RawEchoServer::~RawEchoServer() {
  context_.shutdown();
  thread_.join();
}

}  // namespace cloudkit::bench
