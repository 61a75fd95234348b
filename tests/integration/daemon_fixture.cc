#include "integration/daemon_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace cloudkit::integration {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kStartupLimit{30'000};
constexpr milliseconds kStopLimit{15'000};
// The daemon exits 3 when a binding or endpoint could not be set up: then
// another process took the port between our probe and its bind; try another.
constexpr int kExitStartup = 3;
constexpr int kLaunchAttempts = 3;

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) close(fd);
    return 0;
  }
  close(fd);
  return ntohs(address.sin_port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

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

Result<std::unique_ptr<DaemonProcess>> DaemonProcess::Start() {
  std::unique_ptr<DaemonProcess> daemon(new DaemonProcess());
  char dir_template[] = "/tmp/cloudkit-it-XXXXXX";
  if (!mkdtemp(dir_template)) return Status::Internal("mkdtemp failed");
  daemon->dir_ = dir_template;
  std::ofstream(daemon->dir_ + "/cloudkitd.yaml") << "bindings:\n"
                                                     "  - {name: default, provider: local}\n"
                                                     "  - {name: scratch, provider: memory}\n";
  Status started;
  for (int attempt = 0; attempt < kLaunchAttempts; ++attempt) {
    started = daemon->Launch(FreeLoopbackPort());
    if (!started.ok()) return started;
    started = daemon->WaitUntilServing();
    if (started.ok()) return daemon;
    bool port_taken = daemon->pid_ < 0 && WIFEXITED(daemon->exit_status_) &&
                      WEXITSTATUS(daemon->exit_status_) == kExitStartup;
    if (!port_taken) break;
  }
  return Status(started.code(), started.message() + "\n--- cloudkitd log ---\n" + daemon->Log());
}

Status DaemonProcess::Restart() {
  if (pid_ > 0) Stop();
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
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::string log_path = dir_ + "/cloudkitd.log";
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) return Status::Internal("cannot open " + log_path);

  pid_ = fork();
  if (pid_ == 0) {
    // Only async-signal-safe calls between fork and exec: the test has threads.
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed test never leaves a daemon behind
    dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  if (pid_ < 0) return Status::Internal("fork failed");
  return Status::Ok();
}

bool DaemonProcess::Exited() {
  if (pid_ < 0) return true;
  if (waitpid(pid_, &exit_status_, WNOHANG) == pid_) {
    pid_ = -1;
    return true;
  }
  return false;
}

Status DaemonProcess::WaitUntilServing() {
  ClientOptions options;
  options.connect_timeout = milliseconds(200);
  options.timeout = milliseconds(1'000);
  Result<std::unique_ptr<Client>> client = Client::Connect(endpoint_, options);
  if (!client.ok()) return client.status();
  auto deadline = std::chrono::steady_clock::now() + kStartupLimit;
  Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Exited()) {
      return Status::Unavailable("cloudkitd exited during start-up (status " + std::to_string(exit_status_) + ")");
    }
    Result<v1::StatusResponse> status = (*client)->runtime().GetStatus();
    if (status.ok()) return Status::Ok();
    last = status.status();
    std::this_thread::sleep_for(milliseconds(50));
  }
  return Status::Unavailable("cloudkitd did not answer Runtime/Status within 30 s: " + last.message());
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) Stop();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string DaemonProcess::Log() const { return ReadFile(dir_ + "/cloudkitd.log"); }

uint64_t DaemonProcess::PeakRssBytes() const { return pid_ > 0 ? integration::PeakRssBytes(pid_) : 0; }

void DaemonProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, &exit_status_, 0);
  pid_ = -1;
}

int DaemonProcess::Stop() {
  if (pid_ <= 0) return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + kStopLimit;
  while (!Exited()) {
    if (std::chrono::steady_clock::now() > deadline) {
      Kill();
      return -1;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
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
