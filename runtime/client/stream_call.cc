#include "client/stream_call.h"

namespace cloudkit::client_internal {

std::unique_ptr<StreamCall> StreamCall::Start(Transport& transport, const v1::RequestEnvelope& envelope,
                                              std::string body, std::chrono::milliseconds idle_timeout) {
  std::unique_ptr<StreamCall> call(new StreamCall(transport, envelope.request_id()));
  std::shared_ptr<Inbox> inbox = call->inbox_;
  transport.Start(envelope, std::move(body), idle_timeout, /*idle_timeout=*/true,
                  [inbox](ReplyFrame&& frame) {
                    const bool failed = !frame.status.ok();
                    {
                      std::lock_guard<std::mutex> lock(inbox->mutex);
                      if (failed) {
                        inbox->failure = frame;
                      } else {
                        inbox->frames.push_back(std::move(frame));
                      }
                    }
                    inbox->arrived.notify_one();
                    // An error ends the call; a success ends when the driver says so (Finish).
                    return failed;
                  });
  return call;
}

StreamCall::~StreamCall() {
  if (!ended_) Cancel();
}

std::optional<ReplyFrame> StreamCall::TakeLocked() {
  // Frames that arrived before a failure are still delivered first, in order.
  if (!inbox_->frames.empty()) {
    ReplyFrame frame = std::move(inbox_->frames.front());
    inbox_->frames.pop_front();
    return frame;
  }
  if (inbox_->failure) return *inbox_->failure;
  return std::nullopt;
}

ReplyFrame StreamCall::Next() {
  std::unique_lock<std::mutex> lock(inbox_->mutex);
  // The transport guarantees a frame: the call's idle deadline ends it otherwise.
  inbox_->arrived.wait(lock, [&] { return !inbox_->frames.empty() || inbox_->failure.has_value(); });
  return *TakeLocked();
}

std::optional<ReplyFrame> StreamCall::NextUntil(std::chrono::steady_clock::time_point until) {
  std::unique_lock<std::mutex> lock(inbox_->mutex);
  inbox_->arrived.wait_until(lock, until, [&] { return !inbox_->frames.empty() || inbox_->failure.has_value(); });
  return TakeLocked();
}

std::optional<ReplyFrame> StreamCall::Poll() {
  std::lock_guard<std::mutex> lock(inbox_->mutex);
  return TakeLocked();
}

void StreamCall::SendData(std::string chunk, bool end_of_stream) {
  v1::RequestEnvelope envelope;
  envelope.set_request_id(request_id_);
  envelope.set_kind(v1::DATA);
  envelope.set_end_of_stream(end_of_stream);
  transport_.Send(envelope, std::move(chunk));
}

void StreamCall::GrantCredits(uint32_t credits) {
  v1::RequestEnvelope envelope;
  envelope.set_request_id(request_id_);
  envelope.set_kind(v1::CREDIT);
  envelope.set_credits(credits);
  transport_.Send(envelope, std::string());
}

void StreamCall::Finish() {
  if (ended_) return;
  ended_ = true;
  transport_.End(request_id_, /*cancel=*/false);
}

void StreamCall::Cancel() {
  if (ended_) return;
  ended_ = true;
  bool failed;
  {
    std::lock_guard<std::mutex> lock(inbox_->mutex);
    failed = inbox_->failure.has_value();
  }
  // A call that failed is over on the daemon's side already.
  transport_.End(request_id_, /*cancel=*/!failed);
}

}  // namespace cloudkit::client_internal
