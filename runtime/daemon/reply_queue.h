// ReplyQueue: the path from actors back to the front door. Actors on any
// thread push their outbound frames; the front door thread, which alone owns
// the ZeroMQ socket, polls an eventfd beside the socket and drains the queue.
// The eventfd is written only when the queue turns non-empty, so a burst of
// replies costs one wake-up.
#pragma once

#include <deque>
#include <mutex>

#include "core/actor.h"

namespace cloudkit {

class ReplyQueue : public Outbox {
 public:
  ReplyQueue();
  ~ReplyQueue() override;
  ReplyQueue(const ReplyQueue&) = delete;
  ReplyQueue& operator=(const ReplyQueue&) = delete;

  // Thread-safe.
  void Send(Outbound&& frame) override;

  // The fd to poll for readability.
  int wake_fd() const { return wake_fd_; }
  // Takes every queued frame (and clears the wake-up). Front door thread only.
  void Drain(std::deque<Outbound>* out);

 private:
  int wake_fd_;
  std::mutex mutex_;
  std::deque<Outbound> frames_;
};

}  // namespace cloudkit
