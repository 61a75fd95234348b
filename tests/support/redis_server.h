// RedisServer: a throwaway redis-server for the tests of the Redis port and
// the `redis` provider: a child process on a free port of 127.0.0.1, with no
// persistence, in a temp dir of its own. Start waits until it accepts
// connections; destroying the object kills it (SIGKILL) and reaps it, and it
// also dies with the test process (PR_SET_PDEATHSIG), so no server outlives a
// test, whatever happens to it. Kill, Restart, Pause and Resume play a
// server's failures.
//
// Deliberately small, until the shared emulator harness replaces it.
// REQUIRES: REDIS_SERVER_PATH is defined (tests/CMakeLists.txt).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "unit/temp_dir.h"

namespace cloudkit::testing_util {

class RedisServer {
 public:
  static Result<std::unique_ptr<RedisServer>> Start() {
    std::unique_ptr<RedisServer> server(new RedisServer());
    Status started;
    for (int attempt = 0; attempt < 3; ++attempt) {  // another process may take the port first
      server->port_ = FreePort();
      started = server->Launch();
      if (started.ok()) return server;
    }
    return started;
  }

  ~RedisServer() { Kill(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // The server dies at once, as in a crash; what it held is gone.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGCONT);  // a paused process dies too, but be plain about it
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // A new server on the same port (empty: nothing was saved).
  Status Restart() {
    Kill();
    return Launch();
  }
  // Stops answering (SIGSTOP) while connections stay open, until Resume.
  // (Never kill(-1, ...): that would signal every process of the user.)
  void Pause() {
    if (pid_ > 0) kill(pid_, SIGSTOP);
  }
  void Resume() {
    if (pid_ > 0) kill(pid_, SIGCONT);
  }

 private:
  RedisServer() = default;

  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int port = 0;
    if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port = ntohs(address.sin_port);
    }
    if (fd >= 0) close(fd);
    return port;
  }

  bool Accepts() const {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port_));
    bool connected = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (fd >= 0) close(fd);
    return connected;
  }

  Status Launch() {
    std::vector<std::string> args = {REDIS_SERVER_PATH, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no", "--dir", dir_.path(),
                                     "--logfile", dir_ / "redis.log", "--daemonize", "no"};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec: the test has threads.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (pid_ < 0) return Status::Internal("fork failed");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Accepts()) return Status::Ok();
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {  // it exited: the port was taken, or worse
        pid_ = -1;
        std::ostringstream log;
        log << std::ifstream(dir_ / "redis.log").rdbuf();
        return Status::Unavailable("redis-server on port " + std::to_string(port_) + " exited:\n" + log.str());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Kill();
    return Status::Unavailable("redis-server on port " + std::to_string(port_) + " did not start within 10 s");
  }

  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace cloudkit::testing_util
