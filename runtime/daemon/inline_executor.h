// InlineExecutor: the Executor of the actors that run inline on the front
// door thread (BindingHost). Their ports answer at once (memory), so nothing
// normally lands here; whatever does (a call waiting on a key an earlier call
// holds, resumed by that call's completion) runs at the end of the front
// door's turn.
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
  // Runs what was posted, including what that posts in turn.
  void RunPending() {
    while (!pending_.empty()) {
      std::vector<std::function<void()>> batch;
      batch.swap(pending_);
      for (auto& fn : batch) fn();
    }
  }

 private:
  std::vector<std::function<void()>> pending_;
};

}  // namespace cloudkit
