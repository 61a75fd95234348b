// Transport: the client's connection to one cloudkitd endpoint. It owns the
// ZeroMQ DEALER socket; the ZeroMQ context (with ZeroMQ's own I/O thread) is
// shared by all transports of the process. Any thread starts calls and sends
// stream frames by queueing commands (a mutex-guarded queue plus an eventfd).
// One thread at a time runs the loop that touches the socket: it sends the
// commands, reads replies, routes each to its call by request_id, and
// enforces client-side deadlines and connection loss, so every call ends
// exactly once. That thread is the transport's own I/O thread, or a caller
// waiting for its call's reply (Drive): a blocking call then costs no
// hand-off between threads, which on a busy machine is most of a call's cost.
// While calls that no thread blocks on (async calls, streams) are in flight,
// the I/O thread keeps the loop, and blocking calls go through it.
// Internal to the client library; see client.h for the public API.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "cloudkit/v1/envelope.pb.h"
#include "core/status.h"

namespace cloudkit::client_internal {

// One frame of a call from the daemon, or a failure the transport produced
// for it (a RESPONSE with UNAVAILABLE or DEADLINE_EXCEEDED).
struct ReplyFrame {
  v1::FrameKind kind = v1::RESPONSE;
  Status status;
  std::string body;
  uint32_t credits = 0;
  bool end_of_stream = false;
};

struct TransportOptions {
  int64_t max_message_bytes = 16 << 20;
  std::chrono::milliseconds connect_timeout{3'000};
  // CURVE keys, Z85; empty: no encryption, no authentication.
  std::string public_key;
  std::string secret_key;
  std::string server_key;
};

class Transport {
 public:
  // Runs on the I/O thread for every frame of its call. Returns true when the
  // call is over (the transport then forgets it). Must not block.
  using FrameHandler = std::function<bool(ReplyFrame&&)>;

  // Connects a DEALER to `endpoint` (connection happens in the background) and
  // starts the I/O thread. INVALID_ARGUMENT when the endpoint is malformed.
  static Result<std::unique_ptr<Transport>> Open(const std::string& endpoint, TransportOptions options);
  // Ends every call still in flight with UNAVAILABLE and stops the I/O thread.
  ~Transport();

  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  uint64_t NewRequestId() { return next_request_id_.fetch_add(1, std::memory_order_relaxed); }

  // Sends the REQUEST `envelope` + `body` and feeds the call's frames to
  // `handler` until it returns true or End() is called. If the call fails
  // locally first (no connection, connection lost, no frame within `timeout`,
  // client closing), the handler gets one RESPONSE carrying that status and
  // the call is over. With `idle_timeout` the deadline restarts whenever a
  // frame of the call passes either way (streamed calls).
  // With `caller_drives`, the calling thread is about to Drive() the call:
  // the I/O thread is not woken for it.
  void Start(const v1::RequestEnvelope& envelope, std::string body, std::chrono::milliseconds timeout,
             bool idle_timeout, FrameHandler handler, bool caller_drives = false);
  // Runs the loop on the calling thread while `pending()` says true, if no
  // other thread runs it (otherwise returns at once: that thread serves the
  // call, and the caller waits for its result as usual). What is left in
  // flight when it returns goes back to the I/O thread.
  void Drive(const std::function<bool()>& pending);
  // True once the transport is being closed: a call started now fails at once.
  bool closing();
  // Sends a DATA or CREDIT frame of a call in flight; dropped if it has ended.
  void Send(const v1::RequestEnvelope& envelope, std::string body);
  // Forgets a call; with `cancel`, tells the daemon to abandon it.
  void End(uint64_t request_id, bool cancel);

 private:
  using Clock = std::chrono::steady_clock;

  struct Call {
    FrameHandler handler;
    std::string method;
    Clock::time_point started;
    Clock::time_point deadline;
    std::chrono::milliseconds timeout{0};
    bool idle_timeout = false;
  };
  struct Command {
    enum Kind { kStart, kSend, kEnd } kind = kStart;
    uint64_t request_id = 0;
    zmq::message_t envelope;  // serialized RequestEnvelope (kStart, kSend)
    std::string body;
    Call call;                // kStart
    bool cancel = false;      // kEnd
  };

  Transport(std::string endpoint, TransportOptions options);
  Status Connect();
  void Push(Command&& command, bool wake_io_thread);
  void WakeIoThread();
  void Run();  // the I/O thread

  // Whoever runs the loop holds it: taken and given back under mutex_.
  bool TryTakeLoop();
  // Gives the loop back when nothing is in flight or queued (or `always`);
  // true when it did.
  bool GiveLoopBack(bool always);

  // The rest runs only on the thread holding the loop.
  void CatchUpOnConnectionEvents();  // what happened to the connection while nobody held the loop
  bool Turn();          // one turn: waits for and handles what is ready; false once stopping
  bool TakeCommands();  // false once the transport is stopping
  void Execute(Command& command);
  void ReceiveReplies();
  void OnReply(std::vector<zmq::message_t>& parts);
  // True when it read until no event was left; false when an error stopped it.
  bool ReadMonitorEvents();
  void ExpireCalls();
  void Fail(uint64_t request_id, const Status& status);
  void FailAll(const Status& status);
  void SetDeadline(uint64_t request_id, Call& call, Clock::time_point deadline);
  void SendCancel(uint64_t request_id);
  // Sends `envelope` (ZeroMQ takes the message: no copy) and `body`.
  bool SendMessage(zmq::message_t& envelope, std::string_view body);
  int PollTimeoutMs() const;
  std::string UnreachableMessage() const;
  // Connects the DEALER to the endpoint again, after ZeroMQ gave it up.
  void Reconnect();
  // The failure a ZMQ_EVENT_HANDSHAKE_FAILED_* event (with its value) means.
  Status HandshakeFailure(uint16_t event, uint32_t value) const;

  const std::string endpoint_;
  const TransportOptions options_;
  // The process's context (transport.cc, SharedContext). Declared before the
  // sockets, which the destructor closes first: the last reference ends the
  // context, which would wait for a socket still open.
  std::shared_ptr<zmq::context_t> context_;
  zmq::socket_t dealer_;   // opened by Connect()
  zmq::socket_t monitor_;  // PAIR receiving the DEALER's connection events
  int dealer_fd_ = -1;     // their ZMQ_FDs
  int monitor_fd_ = -1;
  int wake_fd_ = -1;       // eventfd for the loop's holder: "commands_ turned non-empty" or "stopping"
  int io_wake_fd_ = -1;    // eventfd for the idle I/O thread: "take the loop" or "stopping"
  std::atomic<uint64_t> next_request_id_{1};  // 0 is the daemon's "no id could be read"

  std::mutex mutex_;
  std::condition_variable loop_given_back_;
  std::vector<Command> commands_;  // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_
  bool loop_taken_ = false;        // guarded by mutex_

  // State of the loop's holder.
  bool monitor_unread_ = true;  // events may be queued since the holder last looked
  std::vector<zmq::message_t> received_parts_;  // the reply being read, kept for its room
  // The commands being executed. Swapped with commands_, so that the two
  // vectors keep their capacity and queueing a command allocates nothing.
  std::vector<Command> taken_;
  std::unordered_map<uint64_t, Call> calls_;
  std::set<std::pair<Clock::time_point, uint64_t>> deadlines_;
  bool connected_ = false;  // a ZMTP handshake succeeded and no disconnect since
  bool ever_connected_ = false;
  // Why the last handshake failed (UNAUTHENTICATED), until one succeeds.
  Status handshake_failure_;
  bool refused_ = false;  // the daemon refused the handshake: ZeroMQ will not connect again by itself

  std::thread io_thread_;  // last: starts after everything above exists
};

}  // namespace cloudkit::client_internal
