// ChildProcess: a program that a test runs as a child process, in a process
// group of its own, so that stopping it also stops anything it started. The
// child dies with the test (PR_SET_PDEATHSIG, tied to the thread that started
// it: start children from the test's main thread), and destroying the object
// stops the group (SIGTERM, then SIGKILL) and reaps it: no child outlives a
// test, even a failing one. Also: FreeLoopbackPort, for servers the tests
// start on 127.0.0.1.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace cloudkit::testing_util {

struct ChildProcessOptions {
  std::vector<std::string> argv;           // argv[0] is the program's path
  std::map<std::string, std::string> env;  // added to (or replacing in) the test's environment
  std::vector<std::string> unset_env;      // removed from it
  std::string working_dir;                 // empty: the test's
  std::string stdin_path;                  // empty: /dev/null
  // Where stdout and stderr go: a file, appended to (both may name the same
  // one); empty: /dev/null. stdout_to_pipe sends stdout to a pipe instead,
  // read through ChildProcess::stdout_fd().
  std::string stdout_path;
  std::string stderr_path;
  bool stdout_to_pipe = false;
  bool inherit_stderr = false;  // stderr goes where the test's goes (stderr_path is ignored)
};

class ChildProcess {
 public:
  static constexpr std::chrono::milliseconds kDefaultStopGrace{5'000};

  static Result<std::unique_ptr<ChildProcess>> Start(const ChildProcessOptions& options);
  ~ChildProcess();  // Stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The child's pid, which is also its process group's id; -1 once reaped.
  pid_t pid() const { return pid_; }
  // The read end of the stdout pipe (stdout_to_pipe), or -1.
  int stdout_fd() const { return stdout_fd_; }

  // Whether the child has exited (it is reaped then, and the rest of its
  // group killed). Does not wait.
  bool Exited();
  // Waits up to `limit` for the child to exit; false if it is still running.
  bool WaitForExit(std::chrono::milliseconds limit);
  // waitpid's status once Exited(); exit_code() is -1 when a signal ended it.
  int wait_status() const { return wait_status_; }
  int exit_code() const;
  int term_signal() const;
  // "exit code N" or "killed by signal N (name)".
  std::string DescribeExit() const;

  // Sends `signal` to the whole process group.
  void SignalGroup(int signal);
  // SIGKILL to the group, then reaps the child: a crash, as far as the child
  // can tell.
  void Kill();
  // SIGTERM to the group; after `grace`, Kill(). Reaps the child, and kills
  // whatever else is left in its group. Returns at once if already reaped.
  void Stop(std::chrono::milliseconds grace = kDefaultStopGrace);

 private:
  ChildProcess() = default;
  bool ReapIfExited(bool block);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int wait_status_ = 0;
};

// A port of 127.0.0.1 that nothing listens on: bound to port 0, read back and
// released. Another process may take it before the caller binds it; callers
// that start servers retry with another port when that happens. 0 on failure.
int FreeLoopbackPort();

// The whole content of a file ("" if it cannot be read).
std::string ReadWholeFile(const std::string& path);

}  // namespace cloudkit::testing_util
