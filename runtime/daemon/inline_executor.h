// InlineExecutor: the Executor of the actors that run inline on the front
// door thread (BindingHost). Their ports answer at once (memory), so little
// lands here: a call waiting on a key an earlier call holds, resumed by that
// call's completion, and the next step of a long walk (core/next_turn.h).
// What is posted runs at the end of the front door's turn; what that posts
// in turn waits for the next turn, so a long walk never keeps the front door
// from its clients.
//
// REQUIRES: Post and RunPending on the front door thread only.
#pragma once

#include <functional>
#include <vector>

#include "core/executor.h"

namespace cloudkit {

class InlineExecutor : public Executor {
 public:
  void Post(std::function<void()> fn) override { pending_.push_back(std::move(fn)); }
  bool has_pending() const { return !pending_.empty(); }
  // Runs what was posted before the call; what that posts stays pending.
  void RunPending() {
    running_.swap(pending_);
    for (auto& fn : running_) fn();
    running_.clear();
  }

 private:
  std::vector<std::function<void()>> pending_;
  std::vector<std::function<void()>> running_;  // kept for its capacity
};

}  // namespace cloudkit
