#include "integration/daemon_fixture.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace cloudkit::integration {
namespace {

using testing_util::FreeLoopbackPort;

using std::chrono::milliseconds;

constexpr milliseconds kStartupLimit{30'000};
constexpr milliseconds kStopLimit{15'000};
// The daemon exits 3 when a binding or endpoint could not be set up: then
// another process took the port between our probe and its bind; try another.
constexpr int kExitStartup = 3;
constexpr int kLaunchAttempts = 3;

}  // namespace

std::string UnusedEndpoint() { return "tcp://127.0.0.1:" + std::to_string(FreeLoopbackPort()); }

uint64_t PeakRssBytes(pid_t pid) {
  std::string path = pid ? "/proc/" + std::to_string(pid) + "/status" : "/proc/self/status";
  std::ifstream status(path);
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmHWM:  1234 kB"
  }
  return 0;
}

Result<std::unique_ptr<DaemonProcess>> DaemonProcess::Start(DaemonOptions options) {
  std::unique_ptr<DaemonProcess> daemon(new DaemonProcess());
  daemon->options_ = std::move(options);
  char dir_template[] = "/tmp/cloudkit-it-XXXXXX";
  if (!mkdtemp(dir_template)) return Status::Internal("mkdtemp failed");
  daemon->dir_ = dir_template;
  std::ofstream(daemon->dir_ + "/cloudkitd.yaml") << daemon->options_.extra_config << "bindings:\n"
                                                     "  - {name: default, provider: local}\n"
                                                     "  - {name: scratch, provider: memory}\n"
                                                  << daemon->options_.extra_bindings;
  Status started;
  for (int attempt = 0; attempt < kLaunchAttempts; ++attempt) {
    started = daemon->Launch(FreeLoopbackPort());
    if (!started.ok()) return started;
    started = daemon->WaitUntilServing();
    if (started.ok()) return daemon;
    bool port_taken = daemon->process_->Exited() && daemon->process_->exit_code() == kExitStartup;
    if (!port_taken) break;
  }
  return Status(started.code(), started.message() + "\n--- cloudkitd log ---\n" + daemon->Log());
}

Status DaemonProcess::Restart() {
  Stop();
  int port = std::stoi(endpoint_.substr(endpoint_.rfind(':') + 1));
  CK_RETURN_IF_ERROR(Launch(port));
  Status serving = WaitUntilServing();
  if (!serving.ok()) return Status(serving.code(), serving.message() + "\n--- cloudkitd log ---\n" + Log());
  return serving;
}

Status DaemonProcess::Launch(int port) {
  endpoint_ = "tcp://127.0.0.1:" + std::to_string(port);
  std::vector<std::string> args = {CLOUDKITD_PATH, "--listen", endpoint_, "--data-dir", dir_ + "/data",
                                   "--config", dir_ + "/cloudkitd.yaml", "--log-level", "debug"};
  testing_util::ChildProcessOptions options;
  options.argv = std::move(args);
  options.env = options_.env;
  options.stdout_path = dir_ + "/cloudkitd.log";
  options.stderr_path = options.stdout_path;
  Result<std::unique_ptr<testing_util::ChildProcess>> process = testing_util::ChildProcess::Start(options);
  if (!process.ok()) return process.status();
  process_ = std::move(*process);
  return Status::Ok();
}

Status DaemonProcess::WaitUntilServing() {
  ClientOptions options = options_.client;
  options.connect_timeout = milliseconds(200);
  options.timeout = milliseconds(1'000);
  Result<std::unique_ptr<Client>> client = Client::Connect(endpoint_, options);
  if (!client.ok()) return client.status();
  auto deadline = std::chrono::steady_clock::now() + kStartupLimit;
  Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (process_->Exited()) {
      return Status::Unavailable("cloudkitd exited during start-up (" + process_->DescribeExit() + ")");
    }
    Result<v1::StatusResponse> status = (*client)->runtime().GetStatus();
    if (status.ok()) return Status::Ok();
    last = status.status();
    std::this_thread::sleep_for(milliseconds(50));
  }
  return Status::Unavailable("cloudkitd did not answer Runtime/Status within 30 s: " + last.message());
}

DaemonProcess::~DaemonProcess() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string DaemonProcess::Log() const { return testing_util::ReadWholeFile(dir_ + "/cloudkitd.log"); }

uint64_t DaemonProcess::PeakRssBytes() const { return pid() > 0 ? integration::PeakRssBytes(pid()) : 0; }

void DaemonProcess::Kill() {
  if (process_) process_->Kill();
}

int DaemonProcess::Stop() {
  if (!process_) return -1;
  process_->Stop(kStopLimit);
  return process_->exit_code();
}

void DaemonTest::SetUp() {
  Result<std::unique_ptr<DaemonProcess>> daemon = DaemonProcess::Start();
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  daemon_ = std::move(*daemon);
  client_ = Connect();
  ASSERT_NE(client_, nullptr);
}

void DaemonTest::TearDown() {
  client_.reset();
  if (daemon_ && HasFailure()) std::cerr << "--- cloudkitd log ---\n" << daemon_->Log();
  daemon_.reset();
}

std::unique_ptr<Client> DaemonTest::Connect(ClientOptions options) {
  if (options.timeout == ClientOptions().timeout) options.timeout = milliseconds(20'000);
  Result<std::unique_ptr<Client>> client = Client::Connect(daemon_->endpoint(), options);
  EXPECT_TRUE(client.ok()) << client.status().message();
  return client.ok() ? std::move(*client) : nullptr;
}

}  // namespace cloudkit::integration
