#include "client/caller.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>

namespace cloudkit::client_internal {

v1::RequestEnvelope Caller::Envelope(const char* method, const CallOptions& call_options, uint32_t credits) {
  v1::RequestEnvelope envelope;
  envelope.set_request_id(transport_->NewRequestId());
  envelope.set_kind(v1::REQUEST);
  envelope.set_method(method);
  envelope.set_binding(call_options.binding ? *call_options.binding : options_.binding);
  // timeout_ms 0 would mean "the daemon's default": never send it by accident.
  int64_t timeout_ms = std::clamp<int64_t>(Timeout(call_options).count(), 1, std::numeric_limits<uint32_t>::max());
  envelope.set_timeout_ms(static_cast<uint32_t>(timeout_ms));
  if (credits) envelope.set_credits(credits);
  if (call_options.idempotency_key) envelope.set_idempotency_key(*call_options.idempotency_key);
  return envelope;
}

namespace {

// 128 random bits as hex: unique among a client's keys without coordination.
std::string DrawIdempotencyKey() {
  static thread_local std::mt19937_64 bits{std::random_device{}() ^
                                           (static_cast<uint64_t>(std::random_device{}()) << 32)};
  char key[33];
  std::snprintf(key, sizeof key, "%016llx%016llx", static_cast<unsigned long long>(bits()),
                static_cast<unsigned long long>(bits()));
  return key;
}

bool WorthRetrying(const Status& status) {
  return status.code() == v1::DEADLINE_EXCEEDED || (!status.ok() && status.retryable());
}

// One unary call and what remains of its attempts; sends itself again from
// the thread running the transport's loop when an attempt fails in a way a
// retry may mend.
struct UnaryAttempts : std::enable_shared_from_this<UnaryAttempts> {
  Transport* transport;
  v1::RequestEnvelope envelope;
  std::string body;
  std::chrono::milliseconds timeout;
  uint32_t attempts_left;
  bool caller_drives;
  std::function<void(ReplyFrame&&)> done;

  void Send() {
    envelope.set_request_id(transport->NewRequestId());
    // The last attempt hands the body over; the others keep it for the next.
    std::string attempt_body = attempts_left > 1 ? std::string(body) : std::move(body);
    auto on_frame = [self = shared_from_this()](ReplyFrame&& frame) {
      if (frame.kind != v1::RESPONSE) return false;  // not for a unary call: ignore
      if (--self->attempts_left > 0 && WorthRetrying(frame.status) && !self->transport->closing()) {
        self->Send();
      } else {
        self->done(std::move(frame));
      }
      return true;
    };
    transport->Start(envelope, std::move(attempt_body), timeout, /*idle_timeout=*/false, std::move(on_frame),
                     caller_drives);
  }
};

}  // namespace

void Caller::StartUnary(const char* method, const CallOptions& call_options, std::string body, bool caller_drives,
                        std::function<void(ReplyFrame&&)> done) {
  auto call = std::make_shared<UnaryAttempts>();
  call->transport = transport_.get();
  call->envelope = Envelope(method, call_options, 0);
  call->attempts_left = std::max<uint32_t>(1, call_options.attempts.value_or(options_.attempts));
  // A retry must name the same request as the attempt that may have landed.
  if (call->attempts_left > 1 && call->envelope.idempotency_key().empty()) {
    call->envelope.set_idempotency_key(DrawIdempotencyKey());
  }
  call->body = std::move(body);
  call->timeout = Timeout(call_options);
  call->caller_drives = caller_drives;
  call->done = std::move(done);
  call->Send();
}

}  // namespace cloudkit::client_internal
