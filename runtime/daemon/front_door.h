// FrontDoor: the daemon's only ZeroMQ socket owner. One thread runs its poll
// loop over the ROUTER socket (every --listen endpoint), the ReplyQueue's
// eventfd and a signalfd. It decodes envelopes, keeps the table of calls in
// flight (who asked, with which request id, until when), hands frames to the
// binding's actors, turns actors' frames back into envelopes, answers
// deadline_exceeded when a call's deadline passes, and drains on SIGTERM.
// Runtime/Status is answered here directly: it touches no provider.
// With client keys configured, every endpoint speaks CURVE, a ZapHandler
// admits the configured keys only, and each request is checked against its
// key's rights on the binding before it reaches an actor.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "client/curve_keys.h"
#include "daemon/access_policy.h"
#include "daemon/binding_host.h"
#include "daemon/config.h"
#include "daemon/zap_handler.h"
#include "daemon/log_limiter.h"
#include "daemon/inline_executor.h"
#include "daemon/reply_queue.h"

namespace cloudkit {

class FrontDoor {
 public:
  FrontDoor(const DaemonConfig& config, BindingHost& bindings, ReplyQueue& replies,
            const ProviderRegistry& registry, const ServiceRegistry& services, ports::Clock& clock);

  // Before Bind: every endpoint then speaks CURVE with `server_key`, and
  // serves the keys of config.auth only, each within its rights.
  Status RequireClientKeys(const CurveKeyPair& server_key);
  // Binds every endpoint. INVALID_ARGUMENT / UNAVAILABLE naming the endpoint on failure.
  Status Bind();
  // The endpoints actually bound (with ephemeral ports resolved).
  const std::vector<std::string>& endpoints() const { return endpoints_; }

  // Where SIGHUP reloads the client keys from (the configuration, read again).
  void set_client_keys_source(std::function<Result<AuthConfig>()> source) { client_keys_source_ = std::move(source); }

  // Serves until `signal_fd` reads SIGTERM or SIGINT, then stops accepting
  // calls, lets in-flight calls finish within the drain timeout, and returns.
  // SIGHUP reloads the client keys (ReloadClientKeys).
  void Run(int signal_fd);

 private:
  struct Call {
    std::string peer;          // ROUTER routing id of the client
    uint64_t request_id = 0;   // the client's id for the call
    HostedBinding* binding = nullptr;
    HostedActor* actor = nullptr;  // owned by the binding, which outlives calls
    uint64_t incarnation = 0;      // of the actor, when the call was given to it
    int64_t deadline_ms = 0;
    uint32_t timeout_ms = 0;
    bool streaming = false;    // deadline restarts with each client frame
    bool waits_for_events = false;  // a long poll or subscription: ended at once by a drain
    int connection_fd = -1;    // the client's connection (ZMQ_SRCFD): its disconnect ends the call
    uint64_t connection_inode = 0;  // the socket behind connection_fd then (its fd may be reused)
    // With client keys: whose call it is, and what its method needs.
    std::string client_key;
    Rights rights_needed = 0;
  };
  using ClientKey = std::pair<std::string, uint64_t>;
  struct ClientKeyHash {
    size_t operator()(const ClientKey& key) const {
      return std::hash<std::string>{}(key.first) ^ (std::hash<uint64_t>{}(key.second) * 0x9E3779B97F4A7C15ull);
    }
  };

  // `status` with the server's data paths replaced by what they are ("<data dir>").
  Status WithoutServerPaths(const Status& status) const;
  // Logs a malformed client message, at most once per interval (a summary of the others).
  void LogMalformed(const std::string& what);
  // The id to answer an error about a message carrying `request_id` under.
  uint64_t AnswerIdFor(const std::string& peer, uint64_t request_id) const;
  // Receives and handles one client message; false when none was waiting.
  bool OnClientMessage();
  void HandleClientMessage(std::vector<zmq::message_t>& parts);
  void OnRequest(const std::string& peer, v1::RequestEnvelope& env, std::string&& body);
  // Answers the call `why` and cancels it in its actor.
  void EndCall(uint64_t call_id, const Status& why);
  // At the start of a drain: calls that wait on events end now, retryable.
  void EndCallsThatWait();
  void EndStreamOverLimit(const std::string& peer, uint64_t request_id, const Status& over);
  void OnStreamFrame(const std::string& peer, v1::RequestEnvelope& env, std::string&& body);
  void OnActorFrames(bool woken);
  // Ends with INTERNAL the calls given to actors that failed and were replaced.
  void FailCallsOfRestartedActors(const std::vector<ReplyQueue::Restart>& restarts);
  // Runs an inline actor on a new call; registers the call only if it is
  // still open when the actor returns.
  void DeliverInline(const std::string& peer, uint64_t request_id, HostedBinding* binding, HostedActor* actor,
                     Inbound&& in, uint32_t timeout_ms, bool streaming);
  // Delivers a frame; actors on other threads get it with the turn's others.
  void DeliverLater(HostedActor* actor, Inbound&& frame);
  // Ends a turn of the loop: flushes the frames held for actors on other
  // threads, sends what inline actors answered, and starts the deadlines of
  // the inline calls still open (streams).
  void FlushDeliveriesAndReplies();
  void ExpireDeadlines();
  // `client`: the caller's key, whose bindings alone are shown (null: all).
  void AnswerStatus(const std::string& peer, uint64_t request_id, const ClientAccess* client);
  void SendError(const std::string& peer, uint64_t request_id, const Status& status);
  void SendFrame(const std::string& peer, const v1::ResponseEnvelope& env, const std::string& body);
  // Sends a serialized reply, or holds it in the peer's backlog when ZeroMQ's
  // queue for the peer is full (or holds older ones).
  void SendOrHold(const std::string& peer, std::string_view envelope, std::string_view body);
  // Hands the backlogs to ZeroMQ as far as it takes them.
  void FlushBacklogs();
  // A client that does not read: its calls in flight end, unanswered.
  void CancelCallsOf(std::string peer);  // a copy: the caller's may live in a call it ends
  // Forgets the calls (no reply: nobody waits for one) and tells their actors.
  void CancelCalls(const std::vector<uint64_t>& call_ids);
  // Ends the calls of connections that closed (the monitor's DISCONNECTED events).
  void OnDisconnects();
  // Ends the calls on `fd` whose socket is no longer the one behind it
  // (`live_inode`; 0: none is), or with `same_socket`, those whose socket is.
  void EndCallsOfClosedSocket(int fd, uint64_t live_inode, bool same_socket);
  // Watches the sockets a DISCONNECTED event named while still open: their
  // calls end once they close (or, if the fd was a new connection's, never).
  void CheckClosingSockets();
  // Ends the calls of clients a reply found gone (TrySend), and drops their backlogs.
  void EndCallsOfDepartedPeers();
  // False when ZeroMQ would not take the message now (the peer's queue is full).
  bool TrySend(const std::string& peer, std::string_view envelope, std::string_view body);
  void ForgetCall(uint64_t call_id);
  // Enters a call that stays open after its first frame in the call tables.
  Call& RegisterCall(uint64_t call_id, const std::string& peer, uint64_t request_id, HostedBinding* binding,
                     HostedActor* actor, uint32_t timeout_ms, bool streaming);
  void SetDeadline(uint64_t call_id, Call& call);
  int PollTimeoutMs() const;
  // Reads the client keys again (SIGHUP): new handshakes and requests are
  // checked against them, and open calls they no longer allow end with
  // UNAUTHENTICATED or PERMISSION_DENIED. Keys cannot be turned on or off
  // this way (the endpoints' CURVE is set when they bind).
  void ReloadClientKeys();

  const DaemonConfig& config_;
  BindingHost& bindings_;
  ReplyQueue& replies_;
  const ProviderRegistry& registry_;
  const ServiceRegistry& services_;  // routes each method to its service's actor
  ports::Clock& clock_;
  zmq::context_t context_{1};
  // With client keys: who may do what, and the handler admitting the keys.
  // Before router_: the handler outlives the socket it answers for.
  std::shared_ptr<const AccessPolicy> access_;
  std::unique_ptr<ZapHandler> zap_;
  std::function<Result<AuthConfig>()> client_keys_source_;
  Rights request_rights_ = 0;  // what the request being handled needs (with client keys)
  bool request_waits_ = false;  // whether the request being handled waits on events (a long poll, a subscription)
  // The rights each method needs, by the service's index and the method's
  // position in its descriptor (services_).
  std::vector<std::vector<Rights>> method_rights_;
  const char* message_user_id_ = nullptr;  // the key name ZeroMQ attached to the message being handled
  zmq::socket_t router_;
  // The ROUTER's connection events (zmq_socket_monitor): which connection closed.
  zmq::socket_t disconnects_;
  int message_fd_ = -1;  // the connection of the client message being handled
  // A DISCONNECTED event may come after the fd was closed and handed to a new
  // connection, or before ZeroMQ closed it: calls are told apart by their
  // socket's inode, and a socket still open at its event is watched until
  // it closes, for up to a second (see OnDisconnects).
  struct ClosingSocket {
    int fd;
    uint64_t inode;
    int64_t watch_until_ms;
  };
  std::vector<ClosingSocket> closing_sockets_;
  std::vector<std::string> endpoints_;

  uint64_t next_call_id_ = 1;
  std::unordered_map<uint64_t, Call> calls_;
  std::unordered_map<ClientKey, uint64_t, ClientKeyHash> by_client_;
  std::unordered_map<std::string, uint32_t> client_calls_;  // peer -> its calls in calls_
  std::set<std::pair<int64_t, uint64_t>> deadlines_;  // (deadline_ms, call_id)
  std::vector<Outbound> outbound_;  // drained whole by OnActorFrames
  std::vector<uint64_t> inline_calls_;  // calls given to inline actors in this turn, still open
  // Calls an inline actor answered in full before Deliver returned: they never
  // enter calls_ / by_client_; their frames, in order, name them here.
  struct AnsweredInline {
    uint64_t call_id;
    std::string peer;
    uint64_t request_id;
    HostedBinding* binding;  // its call counts as in flight until the reply is handed on
  };
  std::vector<AnsweredInline> answered_inline_;
  size_t answered_head_ = 0;  // answered_inline_[answered_head_] is the next to go out
  v1::RequestEnvelope request_env_;     // reused: parsing into it keeps its strings' buffers
  v1::ResponseEnvelope response_env_;   // reused likewise
  std::string body_buffer_;             // reused for request bodies likewise
  std::vector<HostedActor*> actors_to_flush_;  // got frames in this turn
  // The executor of the actors inline on this thread (Run installs it).
  std::shared_ptr<InlineExecutor> inline_executor_ = std::make_shared<InlineExecutor>();
  // Replies for clients that do not read theirs, oldest first (see
  // DaemonLimits::max_client_backlog_bytes).
  struct Backlog {
    std::deque<std::pair<std::string, std::string>> replies;  // envelope, body
    uint64_t bytes = 0;
    uint64_t dropped = 0;           // replies dropped and requests ignored beyond the cap
    bool cancelled = false;         // its calls were cancelled when it went over the cap
    int64_t refused_logged_ms = 0;  // when that was last logged
  };
  std::unordered_map<std::string, Backlog> backlogs_;
  LogLimiter malformed_log_;
  std::vector<std::pair<std::string, std::string>> server_paths_;  // path, as shown to clients
  std::vector<std::string> departed_peers_;  // replies to them found them gone; see EndCallsOfDepartedPeers
  bool draining_ = false;
  int64_t started_ms_ = 0;
  uint64_t requests_served_ = 0;
  std::string envelope_buffer_;
  std::vector<zmq::message_t> received_parts_;  // reused by OnClientMessage
};

}  // namespace cloudkit
