// FrontDoor: the daemon's only ZeroMQ socket owner. One thread runs its poll
// loop over the ROUTER socket (every --listen endpoint), the ReplyQueue's
// eventfd and a signalfd. It decodes envelopes, keeps the table of calls in
// flight (who asked, with which request id, until when), hands frames to the
// binding's actors, turns actors' frames back into envelopes, answers
// deadline_exceeded when a call's deadline passes, and drains on SIGTERM.
// Runtime/Status is answered here directly: it touches no provider.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "daemon/binding_host.h"
#include "daemon/config.h"
#include "daemon/reply_queue.h"

namespace cloudkit {

class FrontDoor {
 public:
  FrontDoor(const DaemonConfig& config, BindingHost& bindings, ReplyQueue& replies,
            const ProviderRegistry& registry, ports::Clock& clock);

  // Binds every endpoint. INVALID_ARGUMENT / UNAVAILABLE naming the endpoint on failure.
  Status Bind();
  // The endpoints actually bound (with ephemeral ports resolved).
  const std::vector<std::string>& endpoints() const { return endpoints_; }

  // Serves until `signal_fd` becomes readable (SIGTERM/SIGINT), then stops
  // accepting calls, lets in-flight calls finish within the drain timeout,
  // and returns.
  void Run(int signal_fd);

 private:
  struct Call {
    std::string peer;          // ROUTER routing id of the client
    uint64_t request_id = 0;   // the client's id for the call
    HostedBinding* binding = nullptr;
    caf::actor actor;
    int64_t deadline_ms = 0;
    uint32_t timeout_ms = 0;
    bool streaming = false;    // deadline restarts with each client frame
  };
  using ClientKey = std::pair<std::string, uint64_t>;

  void OnClientMessage();
  void OnRequest(const std::string& peer, v1::RequestEnvelope& env, std::string&& body);
  void OnStreamFrame(const std::string& peer, v1::RequestEnvelope& env, std::string&& body);
  void OnActorFrames();
  void ExpireDeadlines();
  void AnswerStatus(const std::string& peer, uint64_t request_id);
  void SendError(const std::string& peer, uint64_t request_id, const Status& status);
  void SendFrame(const std::string& peer, const v1::ResponseEnvelope& env, const std::string& body);
  void ForgetCall(uint64_t call_id);
  void SetDeadline(uint64_t call_id, Call& call);
  int PollTimeoutMs() const;

  const DaemonConfig& config_;
  BindingHost& bindings_;
  ReplyQueue& replies_;
  const ProviderRegistry& registry_;
  ports::Clock& clock_;
  zmq::context_t context_{1};
  zmq::socket_t router_;
  std::vector<std::string> endpoints_;

  uint64_t next_call_id_ = 1;
  std::unordered_map<uint64_t, Call> calls_;
  std::map<ClientKey, uint64_t> by_client_;
  std::set<std::pair<int64_t, uint64_t>> deadlines_;  // (deadline_ms, call_id)
  std::deque<Outbound> outbound_;
  bool draining_ = false;
  int64_t started_ms_ = 0;
  uint64_t requests_served_ = 0;
  std::string envelope_buffer_;
};

}  // namespace cloudkit
