#include "client/transport.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "client/endpoint_port.h"

namespace cloudkit::client_internal {
namespace {

// The client's own deadline trails the one it sends, so that the daemon's
// DEADLINE_EXCEEDED (which names the binding) normally arrives first; the
// client's only fires when the daemon cannot answer at all.
constexpr std::chrono::milliseconds kDeadlineGrace{500};
// While calls wait for a connection, the I/O thread wakes this often to check
// their connect timeouts.
constexpr std::chrono::milliseconds kConnectCheckInterval{50};
// Replies read per turn of the loop, so queued commands keep flowing.
constexpr int kRepliesPerTurn = 1024;
// Commands the queue keeps room for after a larger batch.
constexpr size_t kCommandsKept = 1024;

// `envelope` serialized straight into the message the DEALER will take.
zmq::message_t EnvelopeMessage(const v1::RequestEnvelope& envelope) {
  zmq::message_t message(envelope.ByteSizeLong());
  envelope.SerializeWithCachedSizesToArray(static_cast<uint8_t*>(message.data()));
  return message;
}

// Each transport's connection events go to an inproc endpoint of the shared
// context. Named by a counter, not by the transport's address: a closed
// transport's endpoint stays bound until ZeroMQ's reaper has destroyed its
// DEALER, and a new transport may be allocated where the old one was.
std::string NewMonitorAddress() {
  static std::atomic<uint64_t> next{0};
  return "inproc://cloudkit-client-monitor-" + std::to_string(next.fetch_add(1, std::memory_order_relaxed));
}

// The ZeroMQ context of every transport in the process. A context per
// transport cost each Client a ZeroMQ I/O thread and a reaper thread besides
// its own I/O thread; one ZeroMQ I/O thread carries all the connections, as
// one carries all of the daemon's.
//
// It lives as long as some transport holds it, and no longer: each closes its
// sockets (linger 0) before letting go, so the last one's zmq_ctx_term finds
// no socket open and cannot block, at exit or before. A Client never
// destroyed keeps it, and then nothing waits for it at exit. After the last
// transport, the next one makes a new context, as every one did before.
//
// A context does not survive fork(): a child process must neither use the
// Clients its parent made nor, while any of them is alive, make new ones
// (they would get the parent's context, whose threads the child lacks).
std::shared_ptr<zmq::context_t> SharedContext() {
  struct Shared {
    std::mutex mutex;
    std::weak_ptr<zmq::context_t> context;
  };
  // Never destroyed, so that a Client made during static destruction still
  // finds it.
  static Shared* const shared = new Shared;
  std::lock_guard<std::mutex> lock(shared->mutex);
  std::shared_ptr<zmq::context_t> context = shared->context.lock();
  if (context) return context;
  context = std::make_shared<zmq::context_t>();
  context->set(zmq::ctxopt::io_threads, 1);
  // Each transport holds three sockets (the DEALER, the monitor PAIR and the
  // PAIR zmq_socket_monitor binds); the default 1023 would stop a process at
  // 341 Clients. ZeroMQ keeps a few bytes per possible socket.
  context->set(zmq::ctxopt::max_sockets, 4096);
  // Sockets start with linger 0 (the transport sets it too): ending the
  // context never waits for messages the daemon did not take.
  context->set(zmq::ctxopt::blocky, 0);
  shared->context = context;
  return context;
}

}  // namespace

Result<std::unique_ptr<Transport>> Transport::Open(const std::string& endpoint, TransportOptions options) {
  std::unique_ptr<Transport> transport(new Transport(endpoint, options));
  Status connected = transport->Connect();
  if (!connected.ok()) return connected;
  transport->io_thread_ = std::thread([t = transport.get()] { t->Run(); });
  return transport;
}

Transport::Transport(std::string endpoint, TransportOptions options)
    : endpoint_(std::move(endpoint)), options_(options) {}

Status Transport::Connect() {
  CK_RETURN_IF_ERROR(CheckEndpointPort(endpoint_, AnyPort::kRefused));
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  io_wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0 || io_wake_fd_ < 0) return Status::Internal(std::string("eventfd: ") + std::strerror(errno));
  try {
    context_ = SharedContext();
    dealer_ = zmq::socket_t(*context_, zmq::socket_type::dealer);
    monitor_ = zmq::socket_t(*context_, zmq::socket_type::pair);
  } catch (const zmq::error_t& e) {
    // EMFILE: the process ran out of file descriptors or of ZeroMQ sockets.
    return Status::ResourceExhausted(std::string("cannot open a ZeroMQ socket: ") + e.what());
  }
  try {
    dealer_.set(zmq::sockopt::linger, 0);  // closing the client never waits for the daemon
    dealer_.set(zmq::sockopt::maxmsgsize, options_.max_message_bytes);
    // Never drop or block: what is queued is bounded by the calls in flight
    // and, for streams, by their credits.
    dealer_.set(zmq::sockopt::sndhwm, 0);
    dealer_.set(zmq::sockopt::rcvhwm, 0);
    if (!options_.server_key.empty()) {
      dealer_.set(zmq::sockopt::curve_serverkey, options_.server_key);
      dealer_.set(zmq::sockopt::curve_publickey, options_.public_key);
      dealer_.set(zmq::sockopt::curve_secretkey, options_.secret_key);
    }
    monitor_.set(zmq::sockopt::linger, 0);
    const std::string monitor_address = NewMonitorAddress();
    if (zmq_socket_monitor(dealer_.handle(), monitor_address.c_str(),
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
      return Status::Internal(std::string("zmq_socket_monitor: ") + zmq_strerror(zmq_errno()));
    }
    monitor_.connect(monitor_address);
    dealer_.connect(endpoint_);
    dealer_fd_ = dealer_.get(zmq::sockopt::fd);
    monitor_fd_ = monitor_.get(zmq::sockopt::fd);
  } catch (const zmq::error_t& e) {
    return Status::InvalidArgument("endpoint '" + endpoint_ + "' (" + e.what() +
                                   "); expected e.g. tcp://127.0.0.1:7420 or ipc:///path");
  }
  return Status::Ok();
}

Transport::~Transport() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  if (io_thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
    WakeIoThread();
    io_thread_.join();
  }
  if (wake_fd_ >= 0) close(wake_fd_);
  if (io_wake_fd_ >= 0) close(io_wake_fd_);
  // Before context_ is released (see transport.h).
  monitor_.close();
  dealer_.close();
}

void Transport::Start(const v1::RequestEnvelope& envelope, std::string body, std::chrono::milliseconds timeout,
                      bool idle_timeout, FrameHandler handler, bool caller_drives) {
  Command command;
  command.kind = Command::kStart;
  command.request_id = envelope.request_id();
  command.envelope = EnvelopeMessage(envelope);
  command.body = std::move(body);
  command.call.handler = std::move(handler);
  command.call.method = envelope.method();
  command.call.timeout = timeout;
  command.call.idle_timeout = idle_timeout;
  Push(std::move(command), !caller_drives);
}

bool Transport::closing() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

void Transport::Send(const v1::RequestEnvelope& envelope, std::string body) {
  Command command;
  command.kind = Command::kSend;
  command.request_id = envelope.request_id();
  command.envelope = EnvelopeMessage(envelope);
  command.body = std::move(body);
  Push(std::move(command), true);
}

void Transport::End(uint64_t request_id, bool cancel) {
  Command command;
  command.kind = Command::kEnd;
  command.request_id = request_id;
  command.cancel = cancel;
  Push(std::move(command), true);
}

void Transport::Push(Command&& command, bool wake_io_thread) {
  bool was_empty;
  bool loop_taken;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    was_empty = commands_.empty();
    commands_.push_back(std::move(command));
    loop_taken = loop_taken_;
  }
  if (loop_taken) {
    // One wake-up per batch: the loop's holder reads the eventfd before it
    // takes the queue (and takes it when it takes the loop), so a push onto
    // an empty queue always finds it listening.
    if (was_empty) {
      uint64_t one = 1;
      [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
    }
  } else if (wake_io_thread) {
    WakeIoThread();
  }
}

void Transport::WakeIoThread() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(io_wake_fd_, &one, sizeof one);
}

bool Transport::TryTakeLoop() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (loop_taken_) return false;
  loop_taken_ = true;
  return true;
}

bool Transport::GiveLoopBack(bool always) {
  bool hand_over;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Checked under the lock a Push takes: a command queued after this sees
    // the loop free and wakes the I/O thread itself.
    hand_over = !calls_.empty() || !commands_.empty() || stopping_;
    if (hand_over && !always) return false;
    loop_taken_ = false;
  }
  loop_given_back_.notify_all();
  // Calls in flight need someone to read their replies and time them.
  if (hand_over) WakeIoThread();
  return true;
}

void Transport::Drive(const std::function<bool()>& pending) {
  if (!TryTakeLoop()) return;
  CatchUpOnConnectionEvents();
  bool going = TakeCommands();
  while (going && pending()) going = Turn();
  if (!going) FailAll(Status::Unavailable("the client connected to cloudkitd at " + endpoint_ + " was closed"));
  GiveLoopBack(/*always=*/true);
}

namespace {

// True when `socket` has a message to read, or when ZeroMQ cannot say (the
// caller then reads and finds out). Reading ZMQ_EVENTS also processes the
// socket's pending commands, which resets its ZMQ_FD.
bool HasInput(zmq::socket_t& socket) {
  int events = 0;
  size_t size = sizeof events;
  if (zmq_getsockopt(socket.handle(), ZMQ_EVENTS, &events, &size) != 0) return true;
  return (events & ZMQ_POLLIN) != 0;
}

}  // namespace

void Transport::Run() {
  // Idle, the I/O thread sleeps on its own eventfd, away from the sockets: a
  // caller may be running the loop. It takes the loop when woken, if free,
  // and keeps it while calls are in flight or commands queued.
  while (true) {
    pollfd idle{io_wake_fd_, POLLIN, 0};
    if (poll(&idle, 1, -1) < 0 && errno != EINTR) break;
    uint64_t count;
    [[maybe_unused]] ssize_t n = read(io_wake_fd_, &count, sizeof count);
    if (!TryTakeLoop()) {
      // A caller runs the loop and hands it over when it is done. When
      // stopping, wait for that, then end what is left.
      std::unique_lock<std::mutex> lock(mutex_);
      if (!stopping_) continue;
      loop_given_back_.wait(lock, [this] { return !loop_taken_; });
      loop_taken_ = true;
    }
    CatchUpOnConnectionEvents();
    bool going = TakeCommands();
    while (going && !GiveLoopBack(/*always=*/false)) going = Turn();
    if (!going) break;
  }
  // Holding the loop (or, after a failed poll, nobody else can: the client is going).
  FailAll(Status::Unavailable("the client connected to cloudkitd at " + endpoint_ + " was closed"));
}

void Transport::CatchUpOnConnectionEvents() {
  // Before any command: a disconnection that happened while nobody held the
  // loop must not fail the calls about to be sent on the new connection.
  monitor_unread_ = !ReadMonitorEvents();
}

bool Transport::Turn() {
  // Plain poll(2) over the sockets' ZMQ_FDs, as in the daemon's front door:
  // zmq_poll builds and tears down a poller on every call. A ZMQ_FD only
  // signals that the socket's state changed, and any send, receive or
  // ZMQ_EVENTS on the socket may take that signal. So the DEALER's ZMQ_EVENTS
  // is read after the turn's last use of the socket, right before sleeping,
  // and the loop does not sleep while it says POLLIN; the monitor PAIR's the
  // same way.
  const bool replies_waiting = HasInput(dealer_);
  // As for the DEALER: a signal taken by a read that still found an event
  // must not leave a later event unread while the loop sleeps.
  monitor_unread_ = monitor_unread_ || HasInput(monitor_);
  const int timeout = replies_waiting || monitor_unread_ ? 0 : PollTimeoutMs();
  pollfd items[] = {
      {dealer_fd_, POLLIN, 0},
      {monitor_fd_, POLLIN, 0},
      {wake_fd_, POLLIN, 0},
  };
  if (poll(items, 3, timeout) < 0 && errno != EINTR) return false;
  if (items[2].revents & POLLIN) {
    uint64_t count;
    [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof count);
  }
  if (!TakeCommands()) return false;
  if (monitor_unread_ || items[1].revents != 0) monitor_unread_ = !ReadMonitorEvents();
  if (replies_waiting || items[0].revents != 0) ReceiveReplies();
  ExpireCalls();
  return true;
}

bool Transport::TakeCommands() {
  bool stopping;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    taken_.swap(commands_);
    stopping = stopping_;
  }
  // Handlers run below may queue commands: they go to commands_, not taken_.
  for (Command& command : taken_) {
    if (stopping && command.kind == Command::kStart) {
      // Still answer it, so that no caller waits forever.
      command.call.handler(ReplyFrame{v1::RESPONSE, Status::Unavailable("the client was closed"), {}, 0, false});
      continue;
    }
    Execute(command);
  }
  taken_.clear();
  // A burst's worth of capacity would stay with the client for good.
  if (taken_.capacity() > kCommandsKept) taken_ = std::vector<Command>();
  return !stopping;
}

void Transport::Execute(Command& command) {
  const uint64_t id = command.request_id;
  switch (command.kind) {
    case Command::kStart: {
      auto [it, inserted] = calls_.emplace(id, std::move(command.call));
      if (!inserted) return;  // request ids come from one counter: cannot happen
      Call& call = it->second;
      call.started = Clock::now();
      SetDeadline(id, call, call.started + call.timeout + kDeadlineGrace);
      if (refused_) Reconnect();
      if (!SendMessage(command.envelope, command.body)) {
        Fail(id, Status::Unavailable("cannot queue a request for cloudkitd at " + endpoint_));
      }
      return;
    }
    case Command::kSend: {
      auto it = calls_.find(id);
      if (it == calls_.end()) return;  // the call ended: nobody wants this frame
      if (it->second.idle_timeout) SetDeadline(id, it->second, Clock::now() + it->second.timeout + kDeadlineGrace);
      if (!SendMessage(command.envelope, command.body)) {
        Fail(id, Status::Unavailable("cannot queue a frame for cloudkitd at " + endpoint_));
      }
      return;
    }
    case Command::kEnd: {
      auto it = calls_.find(id);
      if (it == calls_.end()) return;
      deadlines_.erase({it->second.deadline, id});
      calls_.erase(it);
      if (command.cancel) SendCancel(id);
      return;
    }
  }
}

void Transport::ReceiveReplies() {
  std::vector<zmq::message_t>& parts = received_parts_;
  for (int i = 0; i < kRepliesPerTurn; ++i) {
    try {
      zmq::message_t part;
      if (!dealer_.recv(part, zmq::recv_flags::dontwait)) return;
      parts.push_back(std::move(part));
      while (parts.back().more()) {
        // The rest of a multipart message is already here: ZeroMQ delivers it whole.
        if (!dealer_.recv(part, zmq::recv_flags::none)) break;
        parts.push_back(std::move(part));
      }
    } catch (const zmq::error_t&) {
      parts.clear();
      return;
    }
    OnReply(parts);
    parts.clear();  // frees the frames now, keeps the room
  }
}

void Transport::OnReply(std::vector<zmq::message_t>& parts) {
  // A reply that breaks the protocol cannot be matched to a call; its call
  // then ends by its deadline.
  if (parts.size() != 2) return;
  v1::ResponseEnvelope envelope;
  if (!envelope.ParseFromArray(parts[0].data(), static_cast<int>(parts[0].size()))) return;
  auto it = calls_.find(envelope.request_id());
  if (it == calls_.end()) return;  // late frames of a call that ended: expected
  Call& call = it->second;
  if (call.idle_timeout) SetDeadline(it->first, call, Clock::now() + call.timeout + kDeadlineGrace);

  ReplyFrame frame;
  frame.kind = envelope.kind();
  if (envelope.has_status()) frame.status = Status::FromProto(envelope.status());
  frame.body = parts[1].to_string();
  frame.credits = envelope.credits();
  frame.end_of_stream = envelope.end_of_stream();
  if (call.handler(std::move(frame))) {
    deadlines_.erase({call.deadline, it->first});
    calls_.erase(it);
  }
}

bool Transport::ReadMonitorEvents() {
  while (true) {
    zmq::message_t event_frame;
    zmq::message_t address_frame;
    try {
      if (!monitor_.recv(event_frame, zmq::recv_flags::dontwait)) return true;
      if (event_frame.more()) (void)monitor_.recv(address_frame, zmq::recv_flags::none);
    } catch (const zmq::error_t&) {
      return false;
    }
    if (event_frame.size() < sizeof(uint16_t) + sizeof(uint32_t)) continue;
    uint16_t event;
    uint32_t value;  // 2 bytes of event, 4 of value, native byte order
    std::memcpy(&event, event_frame.data(), sizeof event);
    std::memcpy(&value, static_cast<const char*>(event_frame.data()) + sizeof event, sizeof value);
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      connected_ = true;
      ever_connected_ = true;
      handshake_failure_ = Status::Ok();
    } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
               event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
      // ZeroMQ tries again and again; the calls waiting would only time out.
      handshake_failure_ = HandshakeFailure(event, value);
      // ZeroMQ gives up on an endpoint that refused the key or the mechanism
      // (it retries only after a lost connection): the next call tries anew.
      refused_ = event != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
      if (!connected_) FailAll(handshake_failure_);
    } else if (event == ZMQ_EVENT_DISCONNECTED && connected_) {
      connected_ = false;
      // The daemon keys calls by connection: after a reconnect it would never
      // answer the calls sent before, so end them now.
      FailAll(Status::Unavailable("lost the connection to cloudkitd at " + endpoint_));
    }
  }
}

void Transport::ExpireCalls() {
  const Clock::time_point now = Clock::now();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const uint64_t id = deadlines_.begin()->second;
    Call& call = calls_.at(id);
    if (!connected_) {
      Fail(id, handshake_failure_.ok() ? Status::Unavailable(UnreachableMessage()) : handshake_failure_);
    } else {
      Fail(id, Status::DeadlineExceeded("no reply from cloudkitd at " + endpoint_ + " to " + call.method +
                                        " within " + std::to_string(call.timeout.count()) + " ms"));
    }
  }
  if (connected_) return;
  // Not connected: end calls that waited connect_timeout for a connection.
  std::vector<uint64_t> unreachable;
  for (const auto& [id, call] : calls_) {
    if (now - call.started >= options_.connect_timeout) unreachable.push_back(id);
  }
  for (uint64_t id : unreachable) {
    Fail(id, handshake_failure_.ok() ? Status::Unavailable(UnreachableMessage()) : handshake_failure_);
  }
}

void Transport::Reconnect() {
  refused_ = false;
  try {
    dealer_.disconnect(endpoint_);
  } catch (const zmq::error_t&) {
    // ENOENT: ZeroMQ forgot the endpoint already.
  }
  try {
    dealer_.connect(endpoint_);
  } catch (const zmq::error_t&) {
    // Connected once with this endpoint: cannot fail for its form; the call then fails below.
  }
}

Status Transport::HandshakeFailure(uint16_t event, uint32_t value) const {
  const bool curve = !options_.server_key.empty();
  const std::string daemon = "cloudkitd at " + endpoint_;
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
    return Status::Unauthenticated(daemon + " refused this client's key (ZAP status " + std::to_string(value) +
                                   "): the daemon's auth.clients must list its public key");
  }
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
    return Status::Unauthenticated(curve ? daemon + " does not use CURVE keys: connect without a key"
                                         : daemon + " requires a CURVE key: give a key file and the server key "
                                                    "(docs/protocol.md, Authentication)");
  }
  return Status::Unauthenticated(
      curve ? "the CURVE handshake with " + daemon + " failed: is the server key the daemon's, and this "
                                                     "client's key in its auth.clients?"
            : "the handshake with " + daemon + " failed: does it require a CURVE key? (docs/protocol.md, "
                                               "Authentication)");
}

std::string Transport::UnreachableMessage() const {
  if (ever_connected_) return "lost the connection to cloudkitd at " + endpoint_ + " and could not reconnect";
  return "cannot connect to cloudkitd at " + endpoint_ + " (is it running?)";
}

void Transport::Fail(uint64_t request_id, const Status& status) {
  auto it = calls_.find(request_id);
  if (it == calls_.end()) return;
  FrameHandler handler = std::move(it->second.handler);
  deadlines_.erase({it->second.deadline, request_id});
  calls_.erase(it);
  // Let the daemon drop its side of the call (it may still be working on it).
  if (connected_) SendCancel(request_id);
  handler(ReplyFrame{v1::RESPONSE, status, {}, 0, false});
}

void Transport::FailAll(const Status& status) {
  std::vector<uint64_t> ids;
  ids.reserve(calls_.size());
  for (const auto& entry : calls_) ids.push_back(entry.first);
  for (uint64_t id : ids) Fail(id, status);
}

void Transport::SetDeadline(uint64_t request_id, Call& call, Clock::time_point deadline) {
  deadlines_.erase({call.deadline, request_id});
  call.deadline = deadline;
  deadlines_.insert({deadline, request_id});
}

void Transport::SendCancel(uint64_t request_id) {
  v1::RequestEnvelope envelope;
  envelope.set_request_id(request_id);
  envelope.set_kind(v1::CANCEL);
  zmq::message_t message = EnvelopeMessage(envelope);
  SendMessage(message, {});
}

bool Transport::SendMessage(zmq::message_t& envelope, std::string_view body) {
  try {
    if (!dealer_.send(envelope, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return false;
    return dealer_.send(zmq::buffer(body), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

int Transport::PollTimeoutMs() const {
  int64_t timeout = -1;  // nothing to time: sleep until a frame or a command arrives
  const Clock::time_point now = Clock::now();
  if (!deadlines_.empty()) {
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadlines_.begin()->first - now);
    timeout = std::max<int64_t>(0, wait.count());
  }
  if (!connected_ && !calls_.empty()) {
    timeout = timeout < 0 ? kConnectCheckInterval.count() : std::min<int64_t>(timeout, kConnectCheckInterval.count());
  }
  return static_cast<int>(std::min<int64_t>(timeout, INT_MAX));
}

}  // namespace cloudkit::client_internal
