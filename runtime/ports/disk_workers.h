// DiskWorkers: threads that run blocking disk work (SQLite, file writes,
// fsync, copies) for the native storage ports, so that no actor ever blocks.
// A job's answer goes back to the actor that asked as a message
// (Completion::PostTo its executor). A pool of several threads takes blob
// work, so one long fsync occupies one worker, not the binding; each SQLite
// store has a lane of its own (one thread), which keeps its calls in order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cloudkit {

class DiskWorkers {
 public:
  // Starts `threads` threads (at least one). `nice` above 0 lowers their
  // scheduling priority: bulk work (copies, large writes) then yields the
  // CPU to the latency-sensitive threads (front door, actors) when they
  // compete, and takes all of it when they do not.
  explicit DiskWorkers(size_t threads, int nice = 0);
  // Runs the jobs already queued, then stops the threads.
  ~DiskWorkers();
  DiskWorkers(const DiskWorkers&) = delete;
  DiskWorkers& operator=(const DiskWorkers&) = delete;

  // Thread-safe. With one thread, jobs run in the order they were queued.
  void Run(std::function<void()> job);

  size_t threads() const { return threads_.size(); }

 private:
  void Work(int nice);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cloudkit
