#include "daemon/front_door.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <string_view>

#include <spdlog/spdlog.h>

#include "cloudkit/v1/runtime.pb.h"
#include "core/protobuf_log.h"
#include "daemon/ipc_endpoint.h"
#include "providers/embedded/embedded_providers.h"
#include "providers/names.h"
#include "services/call_frames.h"

namespace cloudkit {
namespace {

constexpr char kRuntimeStatusMethod[] = "cloudkit.v1.Runtime/Status";

// Client messages handled between two flushes of deliveries and replies.
constexpr int kMessagesPerFlush = 32;

}  // namespace

FrontDoor::FrontDoor(const DaemonConfig& config, BindingHost& bindings, ReplyQueue& replies,
                     const ProviderRegistry& registry, const ServiceRegistry& services, ports::Clock& clock)
    : config_(config), bindings_(bindings), replies_(replies), registry_(registry), services_(services), clock_(clock),
      router_(context_, zmq::socket_type::router),
      disconnects_(context_, zmq::socket_type::pair) {
  // Where the daemon keeps data, as messages to clients show it: the
  // layout of the server's disk is none of their business. Bindings' own
  // paths first: they may lie inside the data dir.
  for (const BindingConfig& binding : config.bindings) {
    if (binding.options.count("path") == 0) continue;  // in the data dir
    const std::string path = embedded::LocalBindingPath(binding, config.data_dir);
    if (path.empty()) continue;
    server_paths_.emplace_back(std::filesystem::absolute(path).lexically_normal().string(),
                               "<binding " + binding.name + ">");
  }
  if (!config.data_dir.empty()) {
    server_paths_.emplace_back(std::filesystem::absolute(config.data_dir).lexically_normal().string(), "<data dir>");
  }
  router_.set(zmq::sockopt::linger, 1000);
  router_.set(zmq::sockopt::maxmsgsize, config.limits.max_message_bytes);
  // A client's queue holds client_send_queue replies. With router_mandatory a
  // full queue refuses the message (EAGAIN) instead of dropping it: the reply
  // then waits in the client's backlog (SendOrHold), which is bounded too.
  router_.set(zmq::sockopt::sndhwm, static_cast<int>(config.limits.client_send_queue));
  router_.set(zmq::sockopt::rcvhwm, 100'000);
  router_.set(zmq::sockopt::router_mandatory, 1);
  // A client that goes away leaves calls nobody waits for: its connection's
  // close ends them. Two front doors in one process (tests) need two names.
  const std::string monitor = "inproc://cloudkitd-disconnects-" + std::to_string(reinterpret_cast<uintptr_t>(this));
  if (zmq_socket_monitor(router_.handle(), monitor.c_str(), ZMQ_EVENT_DISCONNECTED) == 0) {
    disconnects_.connect(monitor);
  } else {
    spdlog::warn("no connection monitor ({}): calls of departed clients end at their deadline",
                 zmq_strerror(zmq_errno()));
  }
  // A client whose host vanished (no FIN) is dropped after missing its
  // PONGs: its connection goes, and so do its calls (departed_peers_).
  if (config.limits.heartbeat_interval_ms > 0) {
    router_.set(zmq::sockopt::heartbeat_ivl, static_cast<int>(config.limits.heartbeat_interval_ms));
    router_.set(zmq::sockopt::heartbeat_timeout, static_cast<int>(3 * config.limits.heartbeat_interval_ms));
  }
  started_ms_ = clock_.NowMs();
  calls_.reserve(1024);
  by_client_.reserve(1024);
}

Status FrontDoor::RequireClientKeys(const CurveKeyPair& server_key) {
  access_ = std::make_shared<const AccessPolicy>(config_.auth);
  for (const ServiceDescriptor& service : services_.all()) {
    std::vector<Rights>& rights = method_rights_.emplace_back();
    for (const MethodDescriptor& method : service.methods) {
      std::optional<Rights> needed = RightsNeededBy(service.proto_service + "/" + method.name);
      if (!needed) spdlog::warn("{}/{} has no rights in the table: only keys with every right may call it",
                                service.proto_service, method.name);
      rights.push_back(needed.value_or(kAllRights));
    }
  }
  Result<std::unique_ptr<ZapHandler>> zap = ZapHandler::Start(context_, access_);
  if (!zap.ok()) return zap.status();
  zap_ = std::move(*zap);
  try {
    router_.set(zmq::sockopt::curve_server, 1);
    router_.set(zmq::sockopt::curve_secretkey, server_key.secret_key);
    router_.set(zmq::sockopt::zap_domain, "cloudkit");
  } catch (const zmq::error_t& e) {
    return Status::Unimplemented(std::string("CURVE: ") + e.what());
  }
  return Status::Ok();
}

Status FrontDoor::Bind() {
  // ZeroMQ binds IPv6 addresses only when told to, and reads "localhost" as
  // an interface name; both are loopback endpoints the daemon accepts.
  for (const auto& endpoint : config_.listen) {
    if (endpoint.rfind("tcp://[", 0) == 0) router_.set(zmq::sockopt::ipv6, 1);
  }
  for (const auto& configured : config_.listen) {
    std::string endpoint = configured;
    if (endpoint.rfind("tcp://localhost:", 0) == 0) endpoint.replace(6, 9, "127.0.0.1");
    const std::string ipc_path = IpcPath(endpoint);
    if (!ipc_path.empty()) CK_RETURN_IF_ERROR(CheckIpcPathFree(endpoint, ipc_path));
    // The socket is created by ZeroMQ's I/O thread with the process's umask:
    // private from the start, opened to the configured mode after.
    const mode_t umask_before = ipc_path.empty() ? 0 : umask(0177);
    try {
      router_.bind(endpoint);
    } catch (const zmq::error_t& e) {
      if (!ipc_path.empty()) umask(umask_before);
      return Status::Unavailable("cannot listen on '" + configured + "': " + e.what());
    }
    if (!ipc_path.empty()) {
      umask(umask_before);
      CK_RETURN_IF_ERROR(SecureIpcSocket(ipc_path, config_.ipc.mode, config_.ipc.group));
    }
    endpoints_.push_back(router_.get(zmq::sockopt::last_endpoint));
  }
  return Status::Ok();
}

void FrontDoor::Run(int signal_fd) {
  ExecutorScope inline_actors(inline_executor_);
  int64_t drain_deadline = 0;
  // Plain poll(2) over the ROUTER's ZMQ_FD: zmq_poll would build and tear
  // down a poller on every call, which showed in the profile (RESULTS.md).
  const int router_fd = router_.get(zmq::sockopt::fd);
  const int disconnects_fd = disconnects_.get(zmq::sockopt::fd);
  while (true) {
    pollfd items[] = {
        {router_fd, POLLIN, 0},
        {replies_.wake_fd(), POLLIN, 0},
        {signal_fd, POLLIN, 0},
        {disconnects_fd, POLLIN, 0},
    };
    int timeout = PollTimeoutMs();
    if (draining_) timeout = std::min<int64_t>(timeout < 0 ? INT_MAX : timeout, 50);
    // ZMQ_FD signals changes only, not "messages are waiting": check first,
    // and never sleep on messages already queued (e.g. past the batch cap, or
    // noticed while sending).
    if (router_.get(zmq::sockopt::events) & ZMQ_POLLIN) timeout = 0;
    if (disconnects_.get(zmq::sockopt::events) & ZMQ_POLLIN) timeout = 0;
    if (inline_executor_->has_pending()) timeout = 0;  // the next steps of inline actors' walks
    if (poll(items, 4, timeout) < 0 && errno != EINTR) {
      spdlog::error("poll failed: {}", std::strerror(errno));
      break;
    }

    // Before the client messages: a closed connection's fd may be reused by
    // a new one, whose messages must not be taken for the old one's.
    OnDisconnects();
    if (!closing_sockets_.empty()) CheckClosingSockets();
    if (items[1].revents & POLLIN) OnActorFrames(true);
    // Take a bounded batch of client messages per turn so replies keep flowing.
    // Frames for actors on other threads, and replies of inline actors, go
    // out every few requests: together they cost one wake-up (of the actor's
    // thread, of ZeroMQ's I/O thread), yet the client is never left idle
    // while the whole batch is handled. 32 measured best (RESULTS.md).
    for (int i = 1; i <= 256 && OnClientMessage(); ++i) {
      if (i % kMessagesPerFlush == 0) FlushDeliveriesAndReplies();
    }
    FlushDeliveriesAndReplies();
    signalfd_siginfo info{};
    if (items[2].revents & POLLIN && read(signal_fd, &info, sizeof info) == sizeof info) {
      if (info.ssi_signo == SIGHUP) {
        ReloadClientKeys();
        FlushDeliveriesAndReplies();  // the ends of calls the keys no longer allow
      } else if (!draining_) {
        draining_ = true;
        drain_deadline = clock_.NowMs() + config_.limits.drain_timeout_ms;
        EndCallsThatWait();
        spdlog::info("signal {}: draining {} call(s) in flight (up to {} ms)", info.ssi_signo,
                     calls_.size(), config_.limits.drain_timeout_ms);
        FlushDeliveriesAndReplies();  // the cancels
      }
    }
    ExpireDeadlines();
    bindings_.front_door_timers().FireDue();
    if (!backlogs_.empty()) FlushBacklogs();
    FlushDeliveriesAndReplies();
    if (!departed_peers_.empty()) {
      EndCallsOfDepartedPeers();
      FlushDeliveriesAndReplies();  // the cancels
    }
    if (draining_ && (calls_.empty() || clock_.NowMs() >= drain_deadline)) break;
  }
  for (auto& [call_id, call] : calls_) {
    SendError(call.peer, call.request_id, Status::Unavailable("cloudkitd shut down before the call completed"));
  }
  spdlog::info("stopped: {} call(s) abandoned after the drain timeout", calls_.size());
}

int FrontDoor::PollTimeoutMs() const {
  // ZeroMQ does not say when a client's queue has room again: look often.
  constexpr int kBacklogRetryMs = 5;
  int timers = bindings_.front_door_timers().WaitMs();
  if (!backlogs_.empty()) timers = timers < 0 ? kBacklogRetryMs : std::min(timers, kBacklogRetryMs);
  // A socket ZeroMQ is closing is closed within a turn or two: look again soon.
  constexpr int kClosingSocketRetryMs = 2;
  if (!closing_sockets_.empty()) timers = timers < 0 ? kClosingSocketRetryMs : std::min(timers, kClosingSocketRetryMs);
  if (deadlines_.empty()) return timers;
  int64_t wait = std::clamp<int64_t>(deadlines_.begin()->first - clock_.NowMs(), 0, 60'000);
  return timers < 0 ? static_cast<int>(wait) : std::min(timers, static_cast<int>(wait));
}

bool FrontDoor::OnClientMessage() {
  std::vector<zmq::message_t>& parts = received_parts_;
  parts.clear();
  try {
    do {
      parts.emplace_back();
      if (!router_.recv(parts.back(), zmq::recv_flags::dontwait)) return false;
    } while (parts.back().more());
  } catch (const zmq::error_t& e) {
    spdlog::warn("receive failed: {}", e.what());
    return false;
  }
  // The frames read off the connection carry its fd (the routing id, made
  // by the ROUTER, may not); -1 when ZeroMQ cannot say.
  message_fd_ = zmq_msg_get(parts.back().handle(), ZMQ_SRCFD);
  // The key's name, as the ZAP handler gave it for the connection.
  if (access_) message_user_id_ = zmq_msg_gets(parts.back().handle(), "User-Id");
  HandleClientMessage(parts);
  return true;
}

namespace {

// The inode of the socket behind `fd`, unique among open sockets; 0 when
// `fd` is closed.
uint64_t SocketInode(int fd) {
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace

void FrontDoor::EndCallsOfClosedSocket(int fd, uint64_t live_inode, bool same_socket) {
  std::vector<uint64_t> orphaned;
  for (const auto& [call_id, call] : calls_) {
    if (call.connection_fd != fd) continue;
    if ((call.connection_inode == live_inode) == same_socket) orphaned.push_back(call_id);
  }
  if (!orphaned.empty()) spdlog::debug("a client went away: ending its {} call(s)", orphaned.size());
  CancelCalls(orphaned);
}

void FrontDoor::CheckClosingSockets() {
  const int64_t now = clock_.NowMs();
  for (size_t i = 0; i < closing_sockets_.size();) {
    const ClosingSocket closing = closing_sockets_[i];
    const bool closed = SocketInode(closing.fd) != closing.inode;
    if (closed) EndCallsOfClosedSocket(closing.fd, closing.inode, /*same_socket=*/true);
    if (closed || now >= closing.watch_until_ms) {
      closing_sockets_[i] = closing_sockets_.back();
      closing_sockets_.pop_back();
    } else {
      ++i;
    }
  }
}

void FrontDoor::OnDisconnects() {
  while (true) {
    zmq::message_t event;
    zmq::message_t address;
    try {
      if (!disconnects_.recv(event, zmq::recv_flags::dontwait)) return;
      if (event.more()) (void)disconnects_.recv(address, zmq::recv_flags::dontwait);
    } catch (const zmq::error_t&) {
      return;
    }
    // 2 bytes of event, 4 of value (the fd), native byte order.
    if (event.size() < 6) continue;
    uint16_t kind = 0;
    int32_t fd = -1;
    std::memcpy(&kind, event.data(), sizeof kind);
    std::memcpy(&fd, static_cast<const char*>(event.data()) + 2, sizeof fd);
    if (kind != ZMQ_EVENT_DISCONNECTED || fd < 0) continue;
    // The event may come after ZeroMQ closed the fd, and after a new client's
    // connection got the same fd: only calls on another socket than the one
    // now behind the fd are surely the departed client's. The socket behind
    // it is either that client's, about to close, or a new client's: watched
    // until it closes (then its calls end) or for a second.
    const uint64_t live = SocketInode(fd);
    EndCallsOfClosedSocket(fd, live, /*same_socket=*/false);
    if (live == 0) continue;
    for (const auto& [call_id, call] : calls_) {
      if (call.connection_fd == fd && call.connection_inode == live) {
        closing_sockets_.push_back({fd, live, clock_.NowMs() + 1000});
        break;
      }
    }
  }
}

Status FrontDoor::WithoutServerPaths(const Status& status) const {
  std::string message = status.message();
  bool changed = false;
  for (const auto& [path, shown] : server_paths_) {
    for (size_t at = message.find(path); at != std::string::npos; at = message.find(path, at + shown.size())) {
      message.replace(at, path.size(), shown);
      changed = true;
    }
  }
  if (!changed) return status;
  return Status(status.code(), std::move(message), status.retryable(), status.retry_after_ms());
}

void FrontDoor::LogMalformed(const std::string& what) {
  uint64_t suppressed = 0;
  if (!malformed_log_.Allow(clock_.NowMs(), &suppressed)) return;
  if (suppressed == 0) {
    spdlog::warn("malformed message: {}", what);
  } else {
    spdlog::warn("malformed message: {} ({} more since the last such line)", what, suppressed);
  }
}

uint64_t FrontDoor::AnswerIdFor(const std::string& peer, uint64_t request_id) const {
  // An id in flight belongs to its call: an answer under it would end that
  // call for the client. Such errors come under 0, as for unreadable envelopes.
  if (request_id == 0 || (!by_client_.empty() && by_client_.count({peer, request_id}))) return 0;
  return request_id;
}

void FrontDoor::HandleClientMessage(std::vector<zmq::message_t>& parts) {
  std::string peer = parts[0].to_string();
  v1::RequestEnvelope& env = request_env_;
  if (parts.size() != 3) {
    LogMalformed(std::to_string(parts.size() - 1) + " frame(s) instead of envelope + body");
    // Its id, when its envelope can be read.
    const bool readable =
        parts.size() >= 2 && env.ParseFromArray(parts[1].data(), static_cast<int>(parts[1].size()));
    return SendError(peer, readable ? AnswerIdFor(peer, env.request_id()) : 0,
                     Status::InvalidArgument("a message must have exactly 2 frames (envelope, body), got " +
                                             std::to_string(parts.size() - 1)));
  }
  ClearProtobufComplaint();
  if (!env.ParseFromArray(parts[1].data(), static_cast<int>(parts[1].size()))) {
    LogMalformed("envelope does not parse (" + std::to_string(parts[1].size()) + " bytes)");
    return SendError(peer, 0, NotAValid("the first frame", "cloudkit.v1.RequestEnvelope"));
  }
  if (env.kind() != v1::REQUEST && env.kind() != v1::DATA && env.kind() != v1::CREDIT &&
      env.kind() != v1::CANCEL) {
    LogMalformed("frame kind " + std::to_string(static_cast<int>(env.kind())) + " from a client");
    return SendError(peer, AnswerIdFor(peer, env.request_id()),
                     Status::InvalidArgument("frame kind " + std::to_string(env.kind()) +
                                             " is not one a client sends (REQUEST, DATA, CREDIT, CANCEL)"));
  }
  if (env.kind() == v1::REQUEST && !backlogs_.empty()) {
    auto backlog = backlogs_.find(peer);
    if (backlog != backlogs_.end() && backlog->second.bytes > config_.limits.max_client_backlog_bytes) {
      // It does not read its replies: a refusal would only join them.
      backlog->second.dropped++;
      return;
    }
  }
  if (parts[2].size() > config_.limits.max_body_bytes) {
    const Status over = Status::OverLimit("body of " + std::to_string(parts[2].size()) +
                                          " bytes exceeds the limit of " +
                                          std::to_string(config_.limits.max_body_bytes));
    if (env.kind() == v1::REQUEST) return SendError(peer, AnswerIdFor(peer, env.request_id()), over);
    return EndStreamOverLimit(peer, env.request_id(), over);
  }
  // Into a kept buffer: an inline actor gives it back (see DeliverInline).
  std::string body = std::move(body_buffer_);
  body.assign(static_cast<const char*>(parts[2].data()), parts[2].size());
  if (env.kind() == v1::REQUEST) return OnRequest(peer, env, std::move(body));
  OnStreamFrame(peer, env, std::move(body));
}

void FrontDoor::EndCallsThatWait() {
  std::vector<uint64_t> waiting;
  for (const auto& [call_id, call] : calls_) {
    if (call.waits_for_events) waiting.push_back(call_id);
  }
  for (uint64_t call_id : waiting) EndCall(call_id, Status::Unavailable("cloudkitd is shutting down", 1000));
}

// A stream frame too big to take ends its call, on both sides; one for no
// call in flight is ignored, as late stream frames are.
void FrontDoor::EndStreamOverLimit(const std::string& peer, uint64_t request_id, const Status& over) {
  auto key = by_client_.find({peer, request_id});
  if (key != by_client_.end()) EndCall(key->second, over);
}

void FrontDoor::OnRequest(const std::string& peer, v1::RequestEnvelope& env, std::string&& body) {
  uint64_t request_id = env.request_id();
  if (request_id == 0) {
    // Errors that belong to no request come under 0: a call there could not be told from them.
    LogMalformed("a request with id 0");
    return SendError(peer, 0, Status::InvalidArgument("request id 0 is reserved for errors that belong to no "
                                                      "request: number requests from 1"));
  }
  if (draining_) return SendError(peer, request_id, Status::Unavailable("cloudkitd is shutting down", 1000));
  if (!by_client_.empty() && by_client_.count({peer, request_id})) {
    // Under 0: under its own id the client would take it for the first call's answer.
    LogMalformed("a request reuses an id in flight");
    return SendError(peer, 0,
                     Status::InvalidArgument("request id " + std::to_string(request_id) + " is already in flight"));
  }
  const std::string& method = env.method();
  const ClientAccess* client = nullptr;
  if (access_) {
    client = message_user_id_ ? access_->ByName(message_user_id_) : nullptr;
    if (!client) {
      // A key withdrawn by a reload still names the connections made with it.
      return SendError(peer, request_id,
                       Status::Unauthenticated(message_user_id_ && *message_user_id_
                                                   ? "client key " + names::Quote(message_user_id_) +
                                                         " is no longer accepted"
                                                   : "the connection carries no client key"));
    }
  }
  if (method == kRuntimeStatusMethod) {
    ClearProtobufComplaint();
    v1::StatusRequest request;
    if (!request.ParseFromString(body)) {
      return SendError(peer, request_id, NotAValid("the body", "cloudkit.v1.StatusRequest"));
    }
    return AnswerStatus(peer, request_id, client);
  }

  static const std::string kDefaultBinding = "default";
  const std::string& binding_name = env.binding().empty() ? kDefaultBinding : env.binding();
  auto [service, rpc] = services_.Route(method);
  if (client) {
    // Before the binding is looked up: a key learns nothing of bindings it may not use.
    if (!service || !rpc) return SendError(peer, request_id, Status::Unimplemented("method " + names::Quote(method)));
    const Rights needed = method_rights_[services_.IndexOf(*service)][rpc - service->methods.data()];
    Status allowed = AccessPolicy::Authorize(*client, binding_name, needed, method);
    if (!allowed.ok()) return SendError(peer, request_id, allowed);
    request_rights_ = needed;
  }
  HostedBinding* binding = bindings_.Find(binding_name);
  if (!binding) return SendError(peer, request_id, Status::NotFound("binding " + names::Quote(binding_name)));

  if (!service || !rpc) return SendError(peer, request_id, Status::Unimplemented("method " + names::Quote(method)));
  HostedActor* actor = binding->actors[services_.IndexOf(*service)].get();
  if (!actor) {
    return SendError(peer, request_id,
                     Status::Unimplemented("binding '" + binding_name + "' (provider " +
                                           binding->config.provider + ") does not serve " + service->name));
  }
  if (!client_calls_.empty()) {
    auto open = client_calls_.find(peer);
    if (open != client_calls_.end() && open->second >= config_.limits.max_in_flight_per_client) {
      return SendError(peer, request_id,
                       Status::ResourceExhausted("this client has " + std::to_string(open->second) +
                                                 " calls in flight"));
    }
  }
  if (binding->in_flight >= config_.limits.max_in_flight_per_binding) {
    return SendError(peer, request_id,
                     Status::ResourceExhausted("binding '" + binding_name + "' has " +
                                               std::to_string(binding->in_flight) + " calls in flight"));
  }

  // Capped: a call no client waits for any more must end (a stream's
  // timeout is its longest pause between frames).
  const uint32_t timeout_ms = std::min(env.timeout_ms() ? env.timeout_ms() : config_.limits.default_timeout_ms,
                                       config_.limits.max_timeout_ms);
  const bool streaming = rpc->streams;
  request_waits_ = rpc->waits_for_events;
  uint64_t call_id = next_call_id_++;
  Inbound in;
  in.call_id = call_id;
  // The connection's routing id names the client; its hash is enough to keep
  // each client's order (a collision only orders two clients together).
  in.client = std::hash<std::string>{}(peer);
  in.kind = v1::REQUEST;
  in.method.swap(*env.mutable_method());
  in.body = std::move(body);
  in.credits = env.credits();
  if (!env.idempotency_key().empty()) in.idempotency_key.swap(*env.mutable_idempotency_key());
  if (actor->runs_inline()) {
    // As the call's deadline will be (FlushDeliveriesAndReplies): a long
    // poll answers before it.
    in.deadline_ms = clock_.NowMs() + timeout_ms;
    return DeliverInline(peer, request_id, binding, actor, std::move(in), timeout_ms, streaming);
  }
  Call& call = RegisterCall(call_id, peer, request_id, binding, actor, timeout_ms, streaming);
  SetDeadline(call_id, call);
  in.deadline_ms = call.deadline_ms;
  DeliverLater(actor, std::move(in));
}

void FrontDoor::DeliverInline(const std::string& peer, uint64_t request_id, HostedBinding* binding,
                              HostedActor* actor, Inbound&& in, uint32_t timeout_ms, bool streaming) {
  uint64_t call_id = in.call_id;
  const std::vector<Outbound>& sent = replies_.front_door_frames();
  size_t first = sent.size();
  actor->Deliver(std::move(in));
  // The actor is done with the frame; what it left of its strings (KeyValue
  // actors only read them) serves the next message without an allocation.
  request_env_.mutable_method()->swap(in.method);
  body_buffer_.swap(in.body);
  // A unary call is answered before Deliver returns: it needs no entry in the
  // call tables (two hash-map nodes and their lookups per call), only its
  // address until its reply goes out with the batch.
  for (size_t i = first; i < sent.size(); ++i) {
    if (sent[i].call_id == call_id && sent[i].ends_call) {
      binding->in_flight++;  // until its reply is handed on
      answered_inline_.push_back({call_id, peer, request_id, binding});
      return;
    }
  }
  RegisterCall(call_id, peer, request_id, binding, actor, timeout_ms, streaming);
  // Still open: it gets a deadline when the batch ends (FlushDeliveriesAndReplies).
  inline_calls_.push_back(call_id);
}

FrontDoor::Call& FrontDoor::RegisterCall(uint64_t call_id, const std::string& peer, uint64_t request_id,
                                         HostedBinding* binding, HostedActor* actor, uint32_t timeout_ms,
                                         bool streaming) {
  Call& call = calls_[call_id];
  call.peer = peer;
  call.request_id = request_id;
  call.binding = binding;
  call.actor = actor;
  call.incarnation = actor->incarnation();
  call.timeout_ms = timeout_ms;
  call.streaming = streaming;
  call.waits_for_events = request_waits_;
  call.connection_fd = message_fd_;
  call.connection_inode = SocketInode(message_fd_);
  if (access_) {
    call.client_key = message_user_id_ ? message_user_id_ : "";
    call.rights_needed = request_rights_;
  }
  binding->in_flight++;
  client_calls_[peer]++;
  by_client_[{peer, request_id}] = call_id;
  return call;
}

void FrontDoor::OnStreamFrame(const std::string& peer, v1::RequestEnvelope& env, std::string&& body) {
  auto key = by_client_.find({peer, env.request_id()});
  if (key == by_client_.end()) return;  // the call ended already; late stream frames are expected
  uint64_t call_id = key->second;
  Call& call = calls_.at(call_id);
  Inbound in;
  in.call_id = call_id;
  in.kind = env.kind();
  in.body = std::move(body);
  in.credits = env.credits();
  in.end_of_stream = env.end_of_stream();
  HostedActor* actor = call.actor;
  if (env.kind() == v1::CANCEL) {
    ForgetCall(call_id);
  } else if (call.streaming) {
    SetDeadline(call_id, call);
  }
  DeliverLater(actor, std::move(in));
}

void FrontDoor::OnActorFrames(bool woken) {
  std::vector<ReplyQueue::Restart> restarts;
  replies_.Drain(&outbound_, woken, &restarts);
  v1::ResponseEnvelope& env = response_env_;
  for (Outbound& frame : outbound_) {
    // Frames of calls answered inline come in the order of answered_inline_.
    bool answered_inline =
        answered_head_ < answered_inline_.size() && answered_inline_[answered_head_].call_id == frame.call_id;
    const std::string* peer;
    uint64_t request_id;
    if (answered_inline) {
      peer = &answered_inline_[answered_head_].peer;
      request_id = answered_inline_[answered_head_].request_id;
    } else {
      auto it = calls_.find(frame.call_id);
      if (it == calls_.end()) continue;  // answered already (deadline) or cancelled
      peer = &it->second.peer;
      request_id = it->second.request_id;
      // A stream in progress is alive on the daemon's side too: a client
      // waiting for credit or data is not idle.
      if (it->second.streaming && !frame.ends_call) SetDeadline(frame.call_id, it->second);
    }
    if (!frame.status.ok()) frame.status = WithoutServerPaths(frame.status);
    frames::ToResponseEnvelope(frame, request_id, &env);
    SendFrame(*peer, env, frame.body);
    if (frame.ends_call) {
      requests_served_++;
      if (answered_inline) {
        answered_inline_[answered_head_].binding->in_flight--;
        if (++answered_head_ == answered_inline_.size()) {
          answered_inline_.clear();  // keeps its capacity
          answered_head_ = 0;
        }
      } else {
        ForgetCall(frame.call_id);
      }
    }
  }
  outbound_.clear();
  // After the frames: a failed actor's own last answers (the INTERNAL of the
  // call that made it fail) go out as sent, not replaced by this one.
  if (!restarts.empty()) FailCallsOfRestartedActors(restarts);
}

void FrontDoor::FailCallsOfRestartedActors(const std::vector<ReplyQueue::Restart>& restarts) {
  for (const ReplyQueue::Restart& restart : restarts) {
    std::vector<uint64_t> lost;
    for (const auto& [call_id, call] : calls_) {
      if (call.actor == restart.actor && call.incarnation == restart.failed_incarnation &&
          !call.actor->HandedToSuccessor(call_id)) {
        lost.push_back(call_id);
      }
    }
    for (uint64_t call_id : lost) {
      Call& call = calls_.at(call_id);
      SendError(call.peer, call.request_id,
                Status::Internal("the " + call.binding->config.name +
                                 " binding's actor failed during the call and was restarted"));
      ForgetCall(call_id);
    }
  }
}

void FrontDoor::DeliverLater(HostedActor* actor, Inbound&& frame) {
  actor->Deliver(std::move(frame));
  if (actor->runs_inline()) return;
  if (std::find(actors_to_flush_.begin(), actors_to_flush_.end(), actor) == actors_to_flush_.end()) {
    actors_to_flush_.push_back(actor);
  }
}

void FrontDoor::FlushDeliveriesAndReplies() {
  if (inline_executor_->has_pending()) inline_executor_->RunPending();
  for (HostedActor* actor : actors_to_flush_) actor->Flush();
  actors_to_flush_.clear();
  if (replies_.has_front_door_frames()) OnActorFrames(false);
  for (uint64_t call_id : inline_calls_) {
    auto open = calls_.find(call_id);
    if (open != calls_.end() && open->second.deadline_ms == 0) SetDeadline(call_id, open->second);
  }
  inline_calls_.clear();
}

void FrontDoor::ExpireDeadlines() {
  int64_t now = clock_.NowMs();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    uint64_t call_id = deadlines_.begin()->second;
    Call& call = calls_.at(call_id);
    // A stream's deadline restarts with every frame either way: when it
    // passes, the client may as well be the one that went quiet.
    const std::string& binding = call.binding->config.name;
    const std::string waited = std::to_string(call.timeout_ms) + " ms";
    EndCall(call_id, Status::DeadlineExceeded(call.streaming ? "the stream on binding '" + binding +
                                                                   "' was idle for " + waited +
                                                                   ": no frame from the client nor from the binding"
                                                             : "no reply from binding '" + binding + "' within " +
                                                                   waited));
  }
}

void FrontDoor::EndCall(uint64_t call_id, const Status& why) {
  Call& call = calls_.at(call_id);
  SendError(call.peer, call.request_id, why);
  HostedActor* actor = call.actor;
  ForgetCall(call_id);
  Inbound cancel;
  cancel.call_id = call_id;
  cancel.kind = v1::CANCEL;
  DeliverLater(actor, std::move(cancel));
}

void FrontDoor::SetDeadline(uint64_t call_id, Call& call) {
  if (call.deadline_ms) deadlines_.erase({call.deadline_ms, call_id});
  call.deadline_ms = clock_.NowMs() + call.timeout_ms;
  deadlines_.insert({call.deadline_ms, call_id});
}

void FrontDoor::ForgetCall(uint64_t call_id) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  deadlines_.erase({it->second.deadline_ms, call_id});
  by_client_.erase({it->second.peer, it->second.request_id});
  if (auto open = client_calls_.find(it->second.peer); open != client_calls_.end() && --open->second == 0) {
    client_calls_.erase(open);
  }
  it->second.binding->in_flight--;
  calls_.erase(it);
}

void FrontDoor::AnswerStatus(const std::string& peer, uint64_t request_id, const ClientAccess* client) {
  v1::StatusResponse status;
  status.set_version(CLOUDKIT_VERSION);
  status.set_uptime_ms(static_cast<uint64_t>(clock_.NowMs() - started_ms_));
  for (const auto& binding : bindings_.bindings()) {
    if (client && client->On(binding->config.name) == 0) continue;
    v1::BindingInfo* info = status.add_bindings();
    info->set_name(binding->config.name);
    info->set_provider(binding->config.provider);
    for (const ServiceDescriptor& service : services_.all()) {
      if (binding->actors[services_.IndexOf(service)]) info->add_services(service.name);
    }
    // Fixed when the provider was created: safe to read beside its actors.
    for (const auto& [service, provider] : binding->instance.providers) {
      for (const std::string& promise : provider->Unsupported()) info->add_unsupported(service + ": " + promise);
      v1::StorageUpkeep upkeep;
      if (provider->ReportUpkeep(&upkeep)) *info->mutable_upkeep() = upkeep;
    }
    info->set_calls_in_flight(binding->in_flight);
    for (const auto& actor : binding->actors) {
      if (!actor) continue;
      const HostedLoad load = actor->load();
      info->set_operations_open(info->operations_open() + load.open_calls);
      info->set_calls_parked(info->calls_parked() + load.parked_calls);
      info->set_timers_armed(info->timers_armed() + load.timers_armed);
    }
  }
  for (const ProviderFactory* factory : registry_.All()) {
    v1::ProviderInfo* info = status.add_providers();
    info->set_name(factory->name);
    info->set_description(factory->description);
    for (const auto& service : factory->services) info->add_services(service);
  }
  for (const auto& endpoint : endpoints_) status.add_endpoints(endpoint);
  status.set_requests_served(requests_served_);
  status.set_requests_in_flight(static_cast<uint32_t>(calls_.size()));
  requests_served_++;

  v1::ResponseEnvelope env;
  env.set_request_id(request_id);
  env.set_kind(v1::RESPONSE);
  SendFrame(peer, env, status.SerializeAsString());
}

void FrontDoor::SendError(const std::string& peer, uint64_t request_id, const Status& status) {
  v1::ResponseEnvelope env;
  env.set_request_id(request_id);
  env.set_kind(v1::RESPONSE);
  status.ToProto(env.mutable_status());
  SendFrame(peer, env, std::string());
}

void FrontDoor::SendFrame(const std::string& peer, const v1::ResponseEnvelope& env, const std::string& body) {
  env.SerializeToString(&envelope_buffer_);
  SendOrHold(peer, envelope_buffer_, body);
}

bool FrontDoor::TrySend(const std::string& peer, std::string_view envelope, std::string_view body) {
  try {
    // Only the first part can be refused: ZeroMQ takes a message whole or not at all.
    if (!router_.send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return false;
    router_.send(zmq::buffer(envelope), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    router_.send(zmq::buffer(body), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    // EHOSTUNREACH: the client went away. Its other calls are ended once the
    // turn is over (EndCallsOfDepartedPeers): the caller may be iterating them.
    spdlog::debug("reply to a departed client dropped: {}", e.what());
    if (e.num() == EHOSTUNREACH) departed_peers_.push_back(std::string(peer));
  }
  return true;
}

void FrontDoor::EndCallsOfDepartedPeers() {
  std::vector<std::string> departed = std::move(departed_peers_);
  departed_peers_.clear();
  for (const std::string& peer : departed) {
    backlogs_.erase(peer);
    CancelCallsOf(peer);
  }
}

void FrontDoor::SendOrHold(const std::string& peer, std::string_view envelope, std::string_view body) {
  if (!backlogs_.empty()) {
    auto held = backlogs_.find(peer);
    if (held != backlogs_.end()) {  // older replies wait: this one goes after them
      Backlog& backlog = held->second;
      if (backlog.bytes > config_.limits.max_client_backlog_bytes) {
        // The client reads nothing: what it was sent already is all it gets,
        // and the work it still asked for is not done. Nothing acknowledged
        // is lost: the client never sees the reply, as after a broken
        // connection, and its call times out.
        backlog.dropped++;
        if (!backlog.cancelled) {
          backlog.cancelled = true;
          CancelCallsOf(peer);
        }
        const int64_t now = clock_.NowMs();
        if (now - backlog.refused_logged_ms > 10'000) {
          spdlog::warn("a client holds {} bytes of unread replies: {} more reply(ies) dropped, its new requests "
                       "are ignored until it reads", backlog.bytes, backlog.dropped);
          backlog.refused_logged_ms = now;
        }
        return;
      }
      backlog.replies.emplace_back(envelope, body);
      backlog.bytes += envelope.size() + body.size();
      return;
    }
  }
  if (TrySend(peer, envelope, body)) return;
  Backlog& backlog = backlogs_[peer];
  backlog.replies.emplace_back(envelope, body);
  backlog.bytes += envelope.size() + body.size();
}

void FrontDoor::ReloadClientKeys() {
  if (!client_keys_source_) {
    spdlog::warn("SIGHUP: no configuration file to reload client keys from");
    return;
  }
  Result<AuthConfig> auth = client_keys_source_();
  if (!auth.ok()) {
    spdlog::error("SIGHUP: client keys unchanged: {}", auth.status().message());
    return;
  }
  if (auth->enabled() != (access_ != nullptr)) {
    spdlog::error("SIGHUP: client keys unchanged: turning client keys {} takes a restart", access_ ? "off" : "on");
    return;
  }
  if (!access_) {
    spdlog::info("SIGHUP: no client keys configured, none to reload");
    return;
  }
  if (auth->server_key_file != config_.auth.server_key_file) {
    spdlog::warn("SIGHUP: a new server_key_file takes a restart; the server key stays");
  }
  access_ = std::make_shared<const AccessPolicy>(*auth);
  zap_->Replace(access_);
  std::vector<uint64_t> ended;
  for (const auto& [call_id, call] : calls_) {
    const ClientAccess* client = access_->ByName(call.client_key);
    const std::string& binding = call.binding->config.name;
    if (!client) {
      SendError(call.peer, call.request_id,
                Status::Unauthenticated("client key " + names::Quote(call.client_key) + " is no longer accepted"));
    } else if ((client->On(binding) & call.rights_needed) != call.rights_needed) {
      SendError(call.peer, call.request_id,
                Status::PermissionDenied("client key " + names::Quote(call.client_key) +
                                         " no longer has the rights of this call on binding " +
                                         names::Quote(binding)));
    } else {
      continue;
    }
    ended.push_back(call_id);
  }
  CancelCalls(ended);
  spdlog::info("SIGHUP: client keys reloaded: {} key(s) accepted; {} open call(s) ended", auth->clients.size(),
               ended.size());
}

void FrontDoor::CancelCallsOf(std::string peer) {
  std::vector<uint64_t> cancelled;
  for (const auto& [call_id, call] : calls_) {
    if (call.peer == peer) cancelled.push_back(call_id);
  }
  CancelCalls(cancelled);
}

void FrontDoor::CancelCalls(const std::vector<uint64_t>& call_ids) {
  for (uint64_t call_id : call_ids) {
    HostedActor* actor = calls_.at(call_id).actor;
    ForgetCall(call_id);
    Inbound cancel;
    cancel.call_id = call_id;
    cancel.kind = v1::CANCEL;
    DeliverLater(actor, std::move(cancel));
  }
}

void FrontDoor::FlushBacklogs() {
  for (auto it = backlogs_.begin(); it != backlogs_.end();) {
    Backlog& backlog = it->second;
    while (!backlog.replies.empty()) {
      auto& [envelope, body] = backlog.replies.front();
      if (!TrySend(it->first, envelope, body)) break;
      backlog.bytes -= envelope.size() + body.size();
      backlog.replies.pop_front();
    }
    it = backlog.replies.empty() ? backlogs_.erase(it) : std::next(it);
  }
}

}  // namespace cloudkit
