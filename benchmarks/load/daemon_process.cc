#include "load/daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace cloudkit::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kReadyMarker[] = "cloudkitd ready on ";

uint64_t StatusFieldBytes(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;  // "... kB"
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<DaemonUnderTest>> DaemonUnderTest::Start(const std::string& cloudkitd_path,
                                                                const std::string& work_dir,
                                                                const std::string& name,
                                                                const std::string& bindings_yaml) {
  std::unique_ptr<DaemonUnderTest> daemon(new DaemonUnderTest());
  daemon->data_dir_ = work_dir + "/" + name + "-data";
  std::string config_path = work_dir + "/" + name + ".yaml";
  std::ofstream(config_path) << "bindings:\n" << bindings_yaml;

  std::vector<std::string> args = {cloudkitd_path, "--listen", "tcp://127.0.0.1:0", "--data-dir",
                                   daemon->data_dir_, "--config", config_path, "--log-level", "info"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int log_pipe[2];
  if (pipe2(log_pipe, O_CLOEXEC) != 0) return Status::Internal("pipe failed");
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

  Clock::time_point started = Clock::now();
  daemon->pid_ = fork();
  if (daemon->pid_ == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(null_fd, STDIN_FILENO);
    dup2(null_fd, STDOUT_FILENO);
    dup2(log_pipe[1], STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_pipe[1]);
  close(null_fd);
  if (daemon->pid_ < 0) {
    close(log_pipe[0]);
    return Status::Internal("fork failed");
  }
  daemon->log_reader_ = std::thread(&DaemonUnderTest::ReadLog, daemon.get(), log_pipe[0]);

  std::unique_lock<std::mutex> lock(daemon->mutex_);
  bool ready = daemon->ready_cv_.wait_for(lock, std::chrono::seconds(30),
                                          [&] { return daemon->ready_ || daemon->log_closed_; });
  if (!ready || !daemon->ready_) {
    std::string log = daemon->log_tail_;
    lock.unlock();
    daemon->Stop();
    return Status::Unavailable("cloudkitd '" + name + "' did not become ready:\n" + log);
  }
  daemon->start_to_ready_ms_ =
      std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  return daemon;
}

void DaemonUnderTest::ReadLog(int fd) {
  std::string pending;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n < 0) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    pending.append(buf, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (log_tail_.size() < 16384) log_tail_ += line + "\n";
      size_t marker = line.find(kReadyMarker);
      if (!ready_ && marker != std::string::npos) {
        std::istringstream endpoints(line.substr(marker + sizeof kReadyMarker - 1));
        endpoints >> endpoint_;
        ready_ = true;
        ready_cv_.notify_all();
      }
    }
  }
  close(fd);
  std::lock_guard<std::mutex> lock(mutex_);
  log_closed_ = true;
  ready_cv_.notify_all();
}

uint64_t DaemonUnderTest::ResidentBytes() const { return StatusFieldBytes(pid_, "VmRSS"); }
uint64_t DaemonUnderTest::PeakResidentBytes() const { return StatusFieldBytes(pid_, "VmHWM"); }

double DaemonUnderTest::CpuSeconds() const {
  std::ifstream stat_file("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after ")".
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int DaemonUnderTest::Stop() {
  int exit_code = -1;
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    Clock::time_point deadline = Clock::now() + std::chrono::seconds(15);
    int status = 0;
    while (true) {
      pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        break;
      }
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
  }
  if (log_reader_.joinable()) log_reader_.join();
  return exit_code;
}

DaemonUnderTest::~DaemonUnderTest() { Stop(); }

}  // namespace cloudkit::bench
