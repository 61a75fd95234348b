#include "daemon/zap_handler.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

namespace cloudkit {
namespace {

constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<ZapHandler>> ZapHandler::Start(zmq::context_t& context,
                                                      std::shared_ptr<const AccessPolicy> policy) {
  std::unique_ptr<ZapHandler> handler(new ZapHandler(context, std::move(policy)));
  handler->stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (handler->stop_fd_ < 0) return Status::Internal(std::string("eventfd: ") + std::strerror(errno));
  try {
    handler->socket_.set(zmq::sockopt::linger, 0);
    handler->socket_.bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    return Status::Internal(std::string("cannot bind the ZAP handler: ") + e.what());
  }
  handler->thread_ = std::thread([h = handler.get()] { h->Run(); });
  return handler;
}

ZapHandler::ZapHandler(zmq::context_t& context, std::shared_ptr<const AccessPolicy> policy)
    : policy_(std::move(policy)), socket_(context, zmq::socket_type::rep) {}

void ZapHandler::Replace(std::shared_ptr<const AccessPolicy> policy) {
  std::lock_guard<std::mutex> lock(policy_mutex_);
  policy_ = std::move(policy);
}

ZapHandler::~ZapHandler() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (stop_fd_ >= 0) close(stop_fd_);
}

void ZapHandler::Run() {
  std::vector<zmq::message_t> request;
  while (true) {
    zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, stop_fd_, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(-1));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      spdlog::error("ZAP handler stopped: {}", e.what());
      return;
    }
    if (items[1].revents & ZMQ_POLLIN) return;
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    request.clear();
    try {
      request.emplace_back();
      if (!socket_.recv(request.back(), zmq::recv_flags::dontwait)) continue;
      while (request.back().more()) {
        request.emplace_back();
        (void)socket_.recv(request.back(), zmq::recv_flags::none);  // a message arrives whole
      }
    } catch (const zmq::error_t& e) {
      spdlog::warn("ZAP request not received: {}", e.what());
      continue;
    }
    Answer(request);
  }
}

void ZapHandler::Answer(std::vector<zmq::message_t>& request) {
  // version, request id, domain, address, routing id, mechanism, credentials...
  const bool well_formed = request.size() >= 6 && request[0].to_string_view() == "1.0";
  std::shared_ptr<const AccessPolicy> policy;  // kept while `client` points into it
  {
    std::lock_guard<std::mutex> lock(policy_mutex_);
    policy = policy_;
  }
  const std::string request_id = request.size() > 1 ? request[1].to_string() : std::string();
  const ClientAccess* client = nullptr;
  std::string address = request.size() > 3 ? request[3].to_string() : std::string();
  std::string refusal;
  if (!well_formed) {
    refusal = "a malformed ZAP request";
  } else if (request[5].to_string_view() != "CURVE" || request.size() != 7 || request[6].size() != 32) {
    refusal = "a " + request[5].to_string() + " handshake (only CURVE keys are accepted)";
  } else if (!(client = policy->ByPublicKey(request[6].to_string_view()))) {
    char z85[41];
    zmq_z85_encode(z85, static_cast<const uint8_t*>(request[6].data()), 32);
    refusal = std::string("unknown client key ") + z85;
  }
  const std::string status = client ? "200" : "400";
  const std::string text = client ? "OK" : "key not accepted";
  const std::string user_id = client ? client->name : std::string();
  try {
    socket_.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(status), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(text), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
    socket_.send(zmq::str_buffer(""), zmq::send_flags::none);
  } catch (const zmq::error_t& e) {
    spdlog::warn("ZAP reply not sent: {}", e.what());
  }
  if (client) {
    spdlog::debug("client key '{}' connected from {}", client->name, address);
    return;
  }
  // Anyone who reaches the port can cause these: a bounded log.
  uint64_t suppressed = 0;
  if (!refusals_log_.Allow(NowMs(), &suppressed)) return;
  if (suppressed == 0) {
    spdlog::warn("refused a connection from {}: {}", address, refusal);
  } else {
    spdlog::warn("refused a connection from {}: {} ({} more refused since the last such line)", address, refusal,
                 suppressed);
  }
}

}  // namespace cloudkit
