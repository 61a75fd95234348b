// A real cloudkitd for one integration test: DaemonProcess picks a free
// loopback TCP port, makes a temporary data directory (with a config file
// holding a `local` binding named default and a `memory` binding named
// scratch), starts the daemon as a child process, and waits until it answers
// Runtime/Status. Destroying it stops the daemon (SIGTERM, then SIGKILL),
// reaps it and removes the directory, so no server outlives a test (a
// ChildProcess, support/child_process.h).
// DaemonTest is the gtest fixture giving each test a daemon and a Client.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/client.h"
#include "support/child_process.h"

namespace cloudkit::integration {

struct DaemonOptions {
  // YAML entries appended to the config's `bindings:` list, each starting
  // with "  - " (the defaults, `default` and `scratch`, stay).
  std::string extra_bindings;
  // Top-level YAML before `bindings:`, e.g. "limits: {max_timeout_ms: 1000}\n".
  std::string extra_config;
  std::map<std::string, std::string> env;  // added to the daemon's environment
  // How the fixture's own client, which waits for the daemon to serve,
  // connects (its keys, when extra_config configures auth).
  ClientOptions client;
};

class DaemonProcess {
 public:
  // Starts cloudkitd and waits until it serves. On failure, the status says
  // why and includes the daemon's log.
  static Result<std::unique_ptr<DaemonProcess>> Start(DaemonOptions options = {});
  ~DaemonProcess();

  const std::string& endpoint() const { return endpoint_; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  // What the daemon wrote to stdout and stderr so far.
  std::string Log() const;
  // Resident memory high-water mark of the daemon (VmHWM), in bytes.
  uint64_t PeakRssBytes() const;

  // SIGKILL and reap (e.g. to test a daemon that vanished).
  void Kill();
  // SIGTERM, wait for it to exit; returns its exit code (-1 if it had to be killed).
  int Stop();
  // Starts it again (after Kill or Stop) on the same endpoint and data, and
  // waits until it serves.
  Status Restart();

 private:
  DaemonProcess() = default;
  Status Launch(int port);
  Status WaitUntilServing();

  DaemonOptions options_;
  std::string dir_;
  std::string endpoint_;
  std::unique_ptr<testing_util::ChildProcess> process_;
};

// An endpoint on which nothing listens (a free port, not bound).
std::string UnusedEndpoint();
// Resident memory high-water mark of process `pid` (0 = this one), in bytes.
uint64_t PeakRssBytes(pid_t pid = 0);

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A further client of the same daemon.
  std::unique_ptr<Client> Connect(ClientOptions options = {});

  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<Client> client_;
};

}  // namespace cloudkit::integration
