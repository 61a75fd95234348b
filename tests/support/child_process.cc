#include "support/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace cloudkit::testing_util {
namespace {

std::vector<std::string> ChildEnvironment(const ChildProcessOptions& options) {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    std::string text = *entry;
    size_t equals = text.find('=');
    if (equals != std::string::npos) env[text.substr(0, equals)] = text.substr(equals + 1);
  }
  for (const auto& name : options.unset_env) env.erase(name);
  for (const auto& [name, value] : options.env) env[name] = value;
  std::vector<std::string> list;
  for (const auto& [name, value] : env) list.push_back(name + "=" + value);
  return list;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Closes the descriptors it holds when it goes away.
class Descriptors {
 public:
  ~Descriptors() {
    for (int fd : fds_) close(fd);
  }
  int Keep(int fd) {
    if (fd >= 0) fds_.push_back(fd);
    return fd;
  }

 private:
  std::vector<int> fds_;
};

int OpenForOutput(const std::string& path) {
  if (path.empty()) return open("/dev/null", O_WRONLY | O_CLOEXEC);
  return open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const ChildProcessOptions& options) {
  if (options.argv.empty()) return Status::InvalidArgument("ChildProcess: no program");
  const std::string& program = options.argv[0];

  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls (the test process has threads).
  std::vector<std::string> argv = options.argv;
  std::vector<std::string> env = ChildEnvironment(options);
  std::vector<char*> argv_pointers = Pointers(argv);
  std::vector<char*> env_pointers = Pointers(env);
  const char* working_dir = options.working_dir.empty() ? nullptr : options.working_dir.c_str();

  Descriptors parent_closes;
  int in_fd = parent_closes.Keep(
      open(options.stdin_path.empty() ? "/dev/null" : options.stdin_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in_fd < 0) return Status::Internal("ChildProcess: cannot open stdin " + options.stdin_path);
  int pipe_fds[2] = {-1, -1};
  int out_fd = -1;
  if (options.stdout_to_pipe) {
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Status::Internal("ChildProcess: pipe failed");
    out_fd = parent_closes.Keep(pipe_fds[1]);
  } else {
    out_fd = parent_closes.Keep(OpenForOutput(options.stdout_path));
  }
  int err_fd = options.inherit_stderr ? STDERR_FILENO : parent_closes.Keep(OpenForOutput(options.stderr_path));
  if (out_fd < 0 || err_fd < 0) {
    if (pipe_fds[0] >= 0) close(pipe_fds[0]);
    return Status::Internal("ChildProcess: cannot open " + options.stdout_path + " or " + options.stderr_path);
  }

  const pid_t parent = getpid();
  sigset_t no_signals;
  sigemptyset(&no_signals);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);     // never outlive the test
    if (getppid() != parent) _exit(127);  // the test died before prctl
    sigprocmask(SIG_SETMASK, &no_signals, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (working_dir != nullptr && chdir(working_dir) != 0) _exit(127);
    dup2(in_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    execve(argv_pointers[0], argv_pointers.data(), env_pointers.data());
    _exit(127);
  }
  if (pid < 0) {
    if (pipe_fds[0] >= 0) close(pipe_fds[0]);
    return Status::Internal("ChildProcess: fork failed for " + program + ": " + strerror(errno));
  }
  setpgid(pid, pid);  // also here, so that the group exists before we signal it
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->pid_ = pid;
  child->stdout_fd_ = pipe_fds[0];
  return child;
}

ChildProcess::~ChildProcess() {
  Stop();
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

bool ChildProcess::ReapIfExited(bool block) {
  if (pid_ <= 0) return true;
  // Look without reaping first: while the leader is a zombie its pid (the
  // group's id) cannot be reused, so the group can still be killed safely.
  siginfo_t info{};
  int flags = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, flags) != 0) {
    if (errno == EINTR) return false;
    pid_ = -1;  // not our child any more (reaped elsewhere)
    return true;
  }
  if (info.si_pid == 0) return false;  // still running
  kill(-pid_, SIGKILL);                // whatever it started, if still there
  waitpid(pid_, &wait_status_, 0);
  pid_ = -1;
  return true;
}

bool ChildProcess::Exited() { return ReapIfExited(false); }

bool ChildProcess::WaitForExit(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ReapIfExited(false)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

int ChildProcess::exit_code() const { return WIFEXITED(wait_status_) ? WEXITSTATUS(wait_status_) : -1; }

int ChildProcess::term_signal() const { return WIFSIGNALED(wait_status_) ? WTERMSIG(wait_status_) : 0; }

std::string ChildProcess::DescribeExit() const {
  if (pid_ > 0) return "still running";
  if (WIFSIGNALED(wait_status_)) {
    return "killed by signal " + std::to_string(WTERMSIG(wait_status_)) + " (" + strsignal(WTERMSIG(wait_status_)) +
           ")";
  }
  return "exit code " + std::to_string(exit_code());
}

void ChildProcess::SignalGroup(int signal) {
  if (pid_ > 0) kill(-pid_, signal);
}

void ChildProcess::Kill() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  while (!ReapIfExited(true)) {
  }
}

void ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  kill(-pid_, SIGTERM);
  if (!WaitForExit(grace)) Kill();
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace cloudkit::testing_util
