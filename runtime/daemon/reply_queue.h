// ReplyQueue: the path from actors back to the front door. Actors on any
// thread push their outbound frames; the front door thread, which alone owns
// the ZeroMQ socket, polls an eventfd beside the socket and drains the queue.
// The eventfd is written only when the queue turns non-empty, so a burst of
// replies costs one wake-up. Actors that run inline on the front door thread
// use front_door_outbox(): a plain vector, no lock, no wake-up.
#pragma once

#include <mutex>
#include <vector>

#include "core/actor.h"

namespace cloudkit {

class HostedActor;

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
  // Takes every queued frame: those of the front door outbox, and, when
  // `woken` (wake_fd was readable), those of other threads (clearing the
  // wake-up), and the restarts reported since the last drain, taken in the
  // same step: a failed actor's last replies were queued before its restart
  // was reported, so they are always in `out` when the restart is in
  // `restarts` (the front door sends them first). Front door thread only.
  struct Restart {
    HostedActor* actor;
    uint64_t failed_incarnation;
  };
  void Drain(std::vector<Outbound>* out, bool woken, std::vector<Restart>* restarts);
  // Thread-safe: `actor` was replaced; calls given to `failed_incarnation` are lost.
  void ActorRestarted(HostedActor* actor, uint64_t failed_incarnation);

  // The outbox of actors running on the front door thread. Front door thread only.
  Outbox& front_door_outbox() { return front_door_outbox_; }
  bool has_front_door_frames() const { return !front_door_outbox_.frames.empty(); }
  // The frames inline actors have sent and the front door not drained yet.
  const std::vector<Outbound>& front_door_frames() const { return front_door_outbox_.frames; }

 private:
  struct FrontDoorOutbox : Outbox {
    void Send(Outbound&& frame) override { frames.push_back(std::move(frame)); }
    // A vector, not a deque: drained whole each turn, it keeps its capacity
    // and costs no allocation per frame.
    std::vector<Outbound> frames;
  };

  FrontDoorOutbox front_door_outbox_;
  int wake_fd_;
  std::mutex mutex_;
  std::vector<Outbound> frames_;
  std::vector<Restart> restarts_;  // guarded by mutex_
};

}  // namespace cloudkit
