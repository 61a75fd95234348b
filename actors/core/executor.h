// Executor: how a port's answer comes back to the actor that asked. Each host
// gives every actor one; Post(fn) queues fn as a message in that actor's
// mailbox, and the host runs it on one of the actor's turns, never during
// another of its handlers. The host names the executor of the turn it is
// running (ExecutorScope), so that a port called from an operation knows
// where to send its completion (CurrentExecutor).
#pragma once

#include <functional>
#include <memory>
#include <utility>

namespace cloudkit {

class Executor {
 public:
  virtual ~Executor() = default;
  // Thread-safe. Runs fn on a later turn of the owning actor; dropped when
  // the actor has stopped.
  virtual void Post(std::function<void()> fn) = 0;
};

// The executor of the actor whose turn runs on this thread; null outside turns.
const std::shared_ptr<Executor>& CurrentExecutor();

// Names the executor for the turn it spans (hosts only).
class ExecutorScope {
 public:
  explicit ExecutorScope(std::shared_ptr<Executor> executor);
  ~ExecutorScope();
  ExecutorScope(const ExecutorScope&) = delete;
  ExecutorScope& operator=(const ExecutorScope&) = delete;

 private:
  std::shared_ptr<Executor> previous_;
};

}  // namespace cloudkit
