#include "load/http_fanout.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "core/executor.h"
#include "core/task.h"
#include "ports/curl_http_client.h"
#include "support/run_task.h"

namespace cloudkit::bench {
namespace {

// The server: every request is answered with "ok" after DELAY ms. Prints its
// port once listening.
constexpr char kServerScript[] = R"JS(
const http = require("node:http");
const delay = Number(process.argv[1]);
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => setTimeout(() => res.end("ok"), delay));
});
server.keepAliveTimeout = 60000;
server.listen({ port: 0, host: "127.0.0.1", backlog: 2048 }, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
)JS";

class ServerProcess {
 public:
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          kill(pid_, SIGKILL);
          waitpid(pid_, &status, 0);
          break;
        }
        usleep(5000);
      }
    }
    if (out_fd_ >= 0) close(out_fd_);
  }

  Status Start(const std::string& node, int delay_ms) {
    std::vector<std::string> args = {node, "-e", kServerScript, std::to_string(delay_ms)};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return Status::Internal("http_fanout: pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(fds[1], STDOUT_FILENO);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_fd_ = fds[0];
    if (pid_ < 0) return Status::Internal("http_fanout: fork failed");
    std::string line;
    while (line.find('\n') == std::string::npos) {
      pollfd wait{out_fd_, POLLIN, 0};
      char buf[128];
      ssize_t n = poll(&wait, 1, 20'000) > 0 ? read(out_fd_, buf, sizeof buf) : -1;
      if (n <= 0) return Status::Unavailable("http_fanout: the loopback server (" + node + ") did not start");
      line.append(buf, static_cast<size_t>(n));
    }
    if (line.rfind("listening ", 0) != 0) return Status::Internal("http_fanout: the server said: " + line);
    port_ = std::stoi(line.substr(10));
    return Status::Ok();
  }

  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
};

// The bench thread as one actor: its mailbox, run until the round is done
// (the same thread-as-actor mailbox the tests use).
using LoopExecutor = testing_util::TestExecutor;

struct Round {
  int remaining = 0;
  int failed = 0;
  std::string first_failure;
};

Task<void> OneRequest(ports::HttpClient& http, std::string url, Round* round) {
  ports::HttpRequest request;
  request.url = std::move(url);
  Result<ports::HttpResponse> response = co_await http.Send(std::move(request));
  bool ok = response.ok() && response->status == 200;
  if (ok) {
    while (true) {  // read the body to its end, as a provider would
      Result<std::string> piece = co_await response->body->Read(4096);
      if (!piece.ok()) ok = false;
      if (!piece.ok() || piece->empty()) break;
    }
  }
  if (!ok && round->failed++ == 0) {
    round->first_failure = response.ok() ? "status " + std::to_string(response->status) : response.status().message();
  }
  --round->remaining;
}

Result<double> RunRound(ports::HttpClient& http, LoopExecutor& executor, const std::string& url, int requests) {
  Round round;
  round.remaining = requests;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < requests; ++i) Detach(OneRequest(http, url, &round));
  while (round.remaining > 0) {
    if (!executor.RunOne(std::chrono::seconds(30))) {
      return Status::DeadlineExceeded("http_fanout: no answer within 30 s (" + std::to_string(round.remaining) +
                                      " requests outstanding)");
    }
  }
  double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (round.failed) {
    return Status::Unavailable("http_fanout: " + std::to_string(round.failed) + " request(s) failed: " +
                               round.first_failure);
  }
  return elapsed;
}

}  // namespace

Result<HttpFanoutFigures> MeasureHttpFanout(const HttpFanoutOptions& options) {
  ServerProcess server;
  CK_RETURN_IF_ERROR(server.Start(options.node, options.delay_ms));
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto executor = std::make_shared<LoopExecutor>();
  ExecutorScope scope(executor);
  std::vector<double> times;
  HttpFanoutFigures figures;
  {
    CurlHttpClient http;
    Result<double> cold = RunRound(http, *executor, url, options.requests);
    if (!cold.ok()) return cold.status();
    figures.cold_ms = *cold;
    for (int round = 0; round < options.rounds; ++round) {
      Result<double> elapsed = RunRound(http, *executor, url, options.requests);
      if (!elapsed.ok()) return elapsed.status();
      times.push_back(*elapsed);
    }
  }
  // Completions posted while the client shut down (none expected).
  while (executor->RunOne(std::chrono::milliseconds(0))) {
  }
  if (times.empty()) times.push_back(figures.cold_ms);
  std::sort(times.begin(), times.end());
  figures.median_ms = times[times.size() / 2];
  figures.best_ms = times.front();
  figures.worst_ms = times.back();
  return figures;
}

}  // namespace cloudkit::bench
