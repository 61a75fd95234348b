// DaemonUnderTest: one cloudkitd child process started by cloudkit-bench with
// a given bindings config on a free loopback port. It measures the time from
// fork to the "cloudkitd ready on" log line, reads RSS and CPU figures from
// /proc, and always stops the daemon (SIGTERM, then SIGKILL) when destroyed;
// the child also dies with the bench (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"

namespace cloudkit::bench {

class DaemonUnderTest {
 public:
  // Starts `cloudkitd_path` with `bindings_yaml` (the `bindings:` list of a
  // config file) and a data dir under `work_dir`; waits for readiness.
  static Result<std::unique_ptr<DaemonUnderTest>> Start(const std::string& cloudkitd_path,
                                                        const std::string& work_dir, const std::string& name,
                                                        const std::string& bindings_yaml);
  ~DaemonUnderTest();
  DaemonUnderTest(const DaemonUnderTest&) = delete;
  DaemonUnderTest& operator=(const DaemonUnderTest&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }
  double start_to_ready_ms() const { return start_to_ready_ms_; }

  uint64_t ResidentBytes() const;      // VmRSS
  uint64_t PeakResidentBytes() const;  // VmHWM
  // utime + stime of the whole process, in seconds.
  double CpuSeconds() const;

  // SIGTERM, wait up to 15 s, then SIGKILL. Returns the exit code (-1 if killed).
  int Stop();

 private:
  DaemonUnderTest() = default;
  void ReadLog(int fd);

  pid_t pid_ = -1;
  std::string endpoint_;
  std::string data_dir_;
  double start_to_ready_ms_ = 0;
  std::thread log_reader_;
  std::mutex mutex_;
  std::condition_variable ready_cv_;
  bool ready_ = false;
  bool log_closed_ = false;
  std::string log_tail_;
};

}  // namespace cloudkit::bench
