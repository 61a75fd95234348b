#include "daemon/reply_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace cloudkit {

ReplyQueue::ReplyQueue() : wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (wake_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

ReplyQueue::~ReplyQueue() { close(wake_fd_); }

void ReplyQueue::Send(Outbound&& frame) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    was_empty = frames_.empty();
    frames_.push_back(std::move(frame));
  }
  if (was_empty) {
    uint64_t one = 1;
    // EAGAIN only when the counter is saturated, which still means "readable".
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
  }
}

void ReplyQueue::ActorRestarted(HostedActor* actor, uint64_t failed_incarnation) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    restarts_.push_back({actor, failed_incarnation});
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void ReplyQueue::Drain(std::vector<Outbound>* out, bool woken, std::vector<Restart>* restarts) {
  // Swapping hands over the frames and keeps both buffers' capacity.
  if (out->empty()) {
    out->swap(front_door_outbox_.frames);
  } else {
    for (auto& frame : front_door_outbox_.frames) out->push_back(std::move(frame));
    front_door_outbox_.frames.clear();
  }
  if (!woken) return;
  uint64_t count;
  [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof count);
  std::lock_guard<std::mutex> lock(mutex_);
  if (out->empty()) {
    out->swap(frames_);
  } else {
    for (auto& frame : frames_) out->push_back(std::move(frame));
    frames_.clear();
  }
  restarts->swap(restarts_);
}

}  // namespace cloudkit
