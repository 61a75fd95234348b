#include "ports/hiredis_client.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cloudkit {

using ports::RedisReply;
using SteadyClock = std::chrono::steady_clock;

namespace hiredis_io {

// A command on its way: queued, waiting for a connection, or sent.
struct Pending {
  std::vector<std::string> argv;
  Completion<Result<RedisReply>> done;
  std::shared_ptr<Executor> executor;  // the asking actor's
  SteadyClock::time_point deadline;
  bool handshake = false;  // the connection's own AUTH or SELECT: no one awaits it
  bool expired = false;    // its deadline passed while it was in flight
};

// The I/O thread's mailbox: commands from the actors, and the stop request.
// The eventfd wakes the thread's poll() when the queue turns non-empty.
class Mailbox {
 public:
  Mailbox() : wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~Mailbox() {
    if (wake_fd_ >= 0) close(wake_fd_);
  }

  int wake_fd() const { return wake_fd_; }

  // Thread-safe. False when the client has shut down.
  bool Post(std::unique_ptr<Pending> pending) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    queue_.push_back(std::move(pending));
    // A non-empty queue has a wake-up pending already.
    if (queue_.size() == 1) Wake();
    return true;
  }

  void RequestStop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    Wake();
  }

  // What was queued so far, and whether the client is stopping. Clears the
  // wake-up first, so a command posted after it wakes the thread again.
  std::deque<std::unique_ptr<Pending>> Take(bool* stop) {
    uint64_t count;
    while (read(wake_fd_, &count, sizeof count) > 0) {
    }
    std::lock_guard<std::mutex> lock(mutex_);
    *stop = stop_;
    return std::exchange(queue_, {});
  }

  // Later posts fail; returns what was still queued.
  std::deque<std::unique_ptr<Pending>> Close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    return std::exchange(queue_, {});
  }

 private:
  void Wake() {
    const uint64_t one = 1;
    // Fails only when the counter is saturated: then it is readable anyway.
    [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof one);
  }

  const int wake_fd_;
  std::mutex mutex_;
  bool stop_ = false;
  bool closed_ = false;
  std::deque<std::unique_ptr<Pending>> queue_;
};

namespace {

RedisReply Convert(const redisReply& in) {
  RedisReply out;
  switch (in.type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.text.assign(in.str, in.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.text.assign(in.str, in.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.text.assign(in.str, in.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = in.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(in.elements);
      for (size_t i = 0; i < in.elements; ++i) out.elements.push_back(Convert(*in.element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      break;
  }
  return out;
}

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// Commands whose replies do not answer them one to one.
bool BreaksRequestReply(const std::string& command) {
  static const char* const kRefused[] = {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
                                         "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR"};
  const std::string name = Upper(command);
  return std::any_of(std::begin(kRefused), std::end(kRefused), [&](const char* r) { return name == r; });
}

}  // namespace

// The connection's state and its thread. Everything below Run is touched by
// the I/O thread only, hiredis's callbacks included (they run inside
// redisAsyncHandleRead/Write and redisAsyncFree, called from Run).
class IoThread {
 public:
  explicit IoThread(ports::RedisEndpoint endpoint)
      : endpoint_(std::move(endpoint)),
        what_("redis " + endpoint_.host + ":" + std::to_string(endpoint_.port) + "/" + std::to_string(endpoint_.db)) {
    if (mailbox_.wake_fd() >= 0) thread_ = std::thread([this] { Run(); });
  }

  ~IoThread() {
    if (!thread_.joinable()) return;
    mailbox_.RequestStop();
    thread_.join();
  }

  bool running() const { return thread_.joinable(); }
  const std::string& what() const { return what_; }
  const ports::RedisEndpoint& endpoint() const { return endpoint_; }
  Mailbox& mailbox() { return mailbox_; }

 private:
  enum class Link { kDown, kConnecting, kUp };

  void Run() {
    // Writes to a closed socket must not kill the process; SIGPIPE goes to the
    // writing thread, so blocking it here is enough.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    while (true) {
      pollfd fds[2] = {{mailbox_.wake_fd(), POLLIN, 0}, {-1, 0, 0}};
      if (context_ != nullptr && (want_read_ || want_write_)) {
        fds[1].fd = context_->c.fd;
        fds[1].events = static_cast<short>((want_read_ ? POLLIN : 0) | (want_write_ ? POLLOUT : 0));
      }
      poll(fds, 2, PollTimeoutMs());
      if (fds[1].fd >= 0 && fds[1].revents != 0) HandleSocket(fds[1].revents);
      bool stop = false;
      for (std::unique_ptr<Pending>& pending : mailbox_.Take(&stop)) Submit(std::move(pending));
      if (stop) break;
      ExpireOverdue(SteadyClock::now());
    }
    Shutdown();
  }

  void HandleSocket(short revents) {
    const bool failed = (revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
    // On an error, whichever handler is armed finds it (hiredis reads it from
    // the socket) and drops the connection.
    if (context_ != nullptr && want_read_ && (revents & POLLIN || failed)) redisAsyncHandleRead(context_);
    if (context_ != nullptr && want_write_ && (revents & POLLOUT || failed)) redisAsyncHandleWrite(context_);
    // Dropped here rather than in the callback that asked: hiredis is done with
    // the context only once its handler has returned.
    std::optional<Status> drop = std::exchange(drop_after_io_, std::nullopt);
    if (drop && context_ != nullptr) Drop(std::move(*drop));
  }

  // Until the earliest deadline: the connection's, or the oldest command's
  // (commands share one timeout, so the oldest is due first).
  int PollTimeoutMs() const {
    std::optional<SteadyClock::time_point> due;
    auto consider = [&due](SteadyClock::time_point at) {
      if (!due || at < *due) due = at;
    };
    if (link_ == Link::kConnecting) consider(connect_deadline_);
    if (!waiting_.empty()) consider(waiting_.front()->deadline);
    for (const auto& pending : in_flight_) {
      if (pending->handshake) continue;
      consider(pending->deadline);
      break;
    }
    if (!due) return -1;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*due - SteadyClock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(left, 0, 60'000));
  }

  void Submit(std::unique_ptr<Pending> pending) {
    if (link_ == Link::kUp) {
      Send(std::move(pending));
      return;
    }
    waiting_.push_back(std::move(pending));
    if (link_ == Link::kDown) Connect();
  }

  void Connect() {
    redisAsyncContext* context = redisAsyncConnect(endpoint_.host.c_str(), endpoint_.port);
    if (context == nullptr) {
      FailWaiting(Status::ResourceExhausted(what_ + ": cannot allocate a connection"));
      return;
    }
    if (context->err) {
      Status refused = Status::Unavailable(what_ + ": " + context->errstr);
      redisAsyncFree(context);
      FailWaiting(refused);
      return;
    }
    context_ = context;
    context->ev.data = this;
    context->ev.addRead = [](void* self) { static_cast<IoThread*>(self)->want_read_ = true; };
    context->ev.delRead = [](void* self) { static_cast<IoThread*>(self)->want_read_ = false; };
    context->ev.addWrite = [](void* self) { static_cast<IoThread*>(self)->want_write_ = true; };
    context->ev.delWrite = [](void* self) { static_cast<IoThread*>(self)->want_write_ = false; };
    // The context is being freed (by us, or by hiredis after an error).
    context->ev.cleanup = [](void* self) { static_cast<IoThread*>(self)->Detached(); };
    link_ = Link::kConnecting;
    connect_deadline_ = SteadyClock::now() + std::chrono::milliseconds(endpoint_.connect_timeout_ms);
    // Sent as soon as the socket connects; commands wait for their answers,
    // so none can go unauthenticated or reach the wrong database.
    handshakes_left_ = 0;
    if (!endpoint_.password.empty()) {
      std::vector<std::string> auth = {"AUTH"};
      if (!endpoint_.username.empty()) auth.push_back(endpoint_.username);
      auth.push_back(endpoint_.password);
      SendHandshake(std::move(auth));
    }
    SendHandshake({"SELECT", std::to_string(endpoint_.db)});
  }

  void SendHandshake(std::vector<std::string> argv) {
    auto step = std::make_unique<Pending>();
    step->handshake = true;
    step->argv = std::move(argv);
    ++handshakes_left_;
    Send(std::move(step));
  }

  void Send(std::unique_ptr<Pending> pending) {
    std::vector<const char*> args;
    std::vector<size_t> lengths;
    args.reserve(pending->argv.size());
    lengths.reserve(pending->argv.size());
    for (const std::string& arg : pending->argv) {
      args.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    const int sent = redisAsyncCommandArgv(context_, &IoThread::OnReply, this, static_cast<int>(args.size()),
                                           args.data(), lengths.data());
    if (sent != REDIS_OK) {  // the context is going away; its callbacks are not ours to count on
      Finish(std::move(pending), Status::Unavailable(what_ + ": the connection is closing"));
      return;
    }
    pending->argv.clear();  // hiredis holds the formatted command
    pending->argv.shrink_to_fit();
    in_flight_.push_back(std::move(pending));
  }

  // hiredis runs reply callbacks in the order the commands were sent, and
  // with a null reply for each one still pending when the connection goes.
  static void OnReply(redisAsyncContext* context, void* reply, void* self) {
    auto& io = *static_cast<IoThread*>(self);
    std::unique_ptr<Pending> pending = std::move(io.in_flight_.front());
    io.in_flight_.pop_front();
    const auto* parsed = static_cast<const redisReply*>(reply);
    if (pending->handshake) {
      io.Handshaken(context, parsed);
    } else if (parsed != nullptr) {
      io.Finish(std::move(pending), Convert(*parsed));
    } else if (pending->expired) {
      io.Finish(std::move(pending), Status::DeadlineExceeded(io.what_ + ": no reply within " +
                                                             std::to_string(io.endpoint_.timeout_ms) + " ms"));
    } else {
      io.Finish(std::move(pending), io.LostStatus(context));
    }
  }

  void Handshaken(const redisAsyncContext* context, const redisReply* reply) {
    if (reply == nullptr) {
      FailWaiting(LostStatus(context));
      return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      // Refused credentials or a database the server does not have: the
      // binding is wrong, and retrying will not help. Only the first refusal
      // counts: the steps after it fail for the same reason.
      if (drop_after_io_) return;
      const std::string error(reply->str, reply->len);
      Status refused = Status::FailedPrecondition(what_ + ": SELECT " + std::to_string(endpoint_.db) + ": " + error);
      if (error.starts_with("NOAUTH")) {
        refused = Status::Unauthenticated(what_ + " wants a password: give password (and username, for an ACL "
                                                  "user) under the binding's credentials, or set REDIS_PASSWORD");
      } else if (handshakes_left_ > 1) {  // AUTH comes before SELECT
        refused = Status::Unauthenticated(what_ + " refused the binding's credentials: " + error);
      }
      FailWaiting(refused);
      drop_after_io_ = refused;
      return;
    }
    if (--handshakes_left_ > 0) return;
    link_ = Link::kUp;
    std::deque<std::unique_ptr<Pending>> ready = std::exchange(waiting_, {});
    for (auto& pending : ready) Send(std::move(pending));
  }

  // Why commands pending on a connection that went fail.
  Status LostStatus(const redisAsyncContext* context) const {
    if (drop_status_) return *drop_status_;
    if (context->err) return Status::Unavailable(what_ + ": " + context->errstr);
    return Status::Unavailable(what_ + ": connection closed");
  }

  void Detached() {
    context_ = nullptr;
    want_read_ = want_write_ = false;
    link_ = Link::kDown;
  }

  // Frees the connection: its pending commands fail, `why` unless they
  // expired. REQUIRES: not inside a hiredis callback.
  void Drop(Status why) {
    drop_status_ = std::move(why);
    redisAsyncFree(context_);  // runs the callbacks and the cleanup hook
    drop_status_.reset();
  }

  void ExpireOverdue(SteadyClock::time_point now) {
    if (link_ == Link::kConnecting && now >= connect_deadline_) {
      Drop(Status::Unavailable(what_ + ": no connection within " + std::to_string(endpoint_.connect_timeout_ms) +
                               " ms"));
    }
    while (!waiting_.empty() && waiting_.front()->deadline <= now) {
      std::unique_ptr<Pending> pending = std::move(waiting_.front());
      waiting_.pop_front();
      Finish(std::move(pending), Status::DeadlineExceeded(what_ + ": no connection within " +
                                                          std::to_string(endpoint_.timeout_ms) + " ms"));
    }
    bool overdue = false;
    for (auto& pending : in_flight_) {
      if (pending->handshake) continue;
      if (pending->deadline > now) break;
      pending->expired = true;
      overdue = true;
    }
    if (overdue && context_ != nullptr) {
      Drop(Status::Unavailable(what_ + ": connection dropped: an earlier command got no reply within " +
                               std::to_string(endpoint_.timeout_ms) + " ms"));
    }
  }

  void FailWaiting(const Status& why) {
    std::deque<std::unique_ptr<Pending>> failed = std::exchange(waiting_, {});
    for (auto& pending : failed) Finish(std::move(pending), why);
  }

  void Finish(std::unique_ptr<Pending> pending, Result<RedisReply> result) {
    if (pending->executor) pending->done.PostTo(*pending->executor, std::move(result));
  }

  void Shutdown() {
    const Status closed = Status::Unavailable(what_ + ": the client shut down");
    for (auto& pending : mailbox_.Close()) Finish(std::move(pending), closed);
    if (context_ != nullptr) Drop(closed);
    FailWaiting(closed);
  }

  const ports::RedisEndpoint endpoint_;
  const std::string what_;  // "redis host:port/db", for messages
  Mailbox mailbox_;

  redisAsyncContext* context_ = nullptr;
  Link link_ = Link::kDown;
  bool want_read_ = false;
  bool want_write_ = false;
  SteadyClock::time_point connect_deadline_;
  int handshakes_left_ = 0;  // AUTH and SELECT of the connection being made, not yet answered
  std::deque<std::unique_ptr<Pending>> waiting_;    // for the connection, in arrival order
  std::deque<std::unique_ptr<Pending>> in_flight_;  // sent, in the order their replies come
  std::optional<Status> drop_status_;               // while Drop frees the connection
  std::optional<Status> drop_after_io_;             // a callback asked for the connection to go
  std::thread thread_;
};

}  // namespace hiredis_io

class HiredisClient::IoThread : public hiredis_io::IoThread {
 public:
  using hiredis_io::IoThread::IoThread;
};

HiredisClient::HiredisClient(ports::RedisEndpoint endpoint) : io_(std::make_unique<IoThread>(std::move(endpoint))) {}

HiredisClient::~HiredisClient() = default;

Async<Result<RedisReply>> HiredisClient::Command(std::vector<std::string> argv) {
  using Reply = Async<Result<RedisReply>>;
  if (argv.empty()) return Reply::Ready(Status::InvalidArgument(io_->what() + ": empty command"));
  if (hiredis_io::BreaksRequestReply(argv[0])) {
    return Reply::Ready(Status::InvalidArgument(io_->what() + ": " + argv[0] + " is not a request/reply command"));
  }
  const std::shared_ptr<Executor>& executor = CurrentExecutor();
  if (!executor) {
    return Reply::Ready(Status::FailedPrecondition(io_->what() + ": command sent outside an actor's turn"));
  }
  if (!io_->running()) return Reply::Ready(Status::Unavailable(io_->what() + ": the I/O thread could not start"));
  auto pending = std::make_unique<hiredis_io::Pending>();
  pending->argv = std::move(argv);
  pending->executor = executor;
  pending->deadline = SteadyClock::now() + std::chrono::milliseconds(io_->endpoint().timeout_ms);
  Reply answer = pending->done.async();
  if (!io_->mailbox().Post(std::move(pending))) {
    return Reply::Ready(Status::Unavailable(io_->what() + ": the client shut down"));
  }
  return answer;
}

}  // namespace cloudkit
