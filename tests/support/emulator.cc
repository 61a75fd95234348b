#include "support/emulator.h"

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/http_request.h"
#include "support/loopback_connection.h"

namespace cloudkit::testing_util {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

constexpr const char* kLoopback = "127.0.0.1";
constexpr const char* kAzuriteAccount = "devstoreaccount1";
// Azurite's documented key for devstoreaccount1.
constexpr const char* kAzuriteKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
constexpr int kLaunchAttempts = 3;
constexpr milliseconds kProbeTimeout{2'000};
constexpr milliseconds kProbeInterval{50};
constexpr size_t kLogTailBytes = 8 * 1024;

// s3rver's CORS configuration for cors_allow_all: every origin, method and
// request header, and the response headers the `s3` provider reads exposed
// to the page (S3 has no wildcard for those; user metadata names are listed
// one by one: those the tests use).
std::string S3CorsAllowAllFile() { return EmulatorsPackageDir() + "/s3rver-cors-allow-all.xml"; }

std::string NodeModule(const std::string& relative) { return EmulatorsPackageDir() + "/node_modules/" + relative; }

// The script each Node emulator runs, and the package it comes from.
struct NodeEmulator {
  const char* package;
  const char* script;
};

NodeEmulator NodeEmulatorFor(EmulatorKind kind) {
  switch (kind) {
    case EmulatorKind::kS3rver: return {"s3rver", "s3rver/bin/s3rver.js"};
    case EmulatorKind::kAzurite: return {"azurite", "azurite/dist/src/azurite.js"};
    case EmulatorKind::kDynalite: return {"dynalite", "dynalite/cli.js"};
    case EmulatorKind::kRedis: break;
  }
  return {nullptr, nullptr};
}

Status CheckInstalled(EmulatorKind kind) {
  if (kind == EmulatorKind::kRedis) {
    std::string server = CLOUDKIT_TEST_REDIS_SERVER;
    if (server.empty() || !fs::exists(server)) {
      return Status::FailedPrecondition("redis-server not found (CMake found \"" + server +
                                        "\"): install Debian's redis-server (scripts/install-deps.sh)");
    }
    return Status::Ok();
  }
  if (NodeExecutable().empty() || !fs::exists(NodeExecutable())) {
    return Status::FailedPrecondition("node not found (CMake found \"" + NodeExecutable() + "\")");
  }
  NodeEmulator emulator = NodeEmulatorFor(kind);
  if (!fs::exists(NodeModule(emulator.script))) {
    return Status::FailedPrecondition(std::string(emulator.package) + " is not installed in " + EmulatorsPackageDir() +
                                      "/node_modules: run scripts/install-deps.sh (npm ci in tests/emulators)");
  }
  return Status::Ok();
}

std::string NewTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/cloudkit-emulator-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

std::string Url(int port, const std::string& path) {
  return std::string("http://") + kLoopback + ":" + std::to_string(port) + path;
}

// The command line as one could paste it into a shell (for the log).
std::string ShellWords(const std::vector<std::string>& args) {
  std::string line;
  for (const auto& arg : args) line += (line.empty() ? "" : " ") + (arg.empty() ? std::string("''") : arg);
  return line;
}

bool Answers(int port, const std::string& path) {
  HttpRequestOptions options;
  options.timeout = kProbeTimeout;
  return SendHttpRequest(Url(port, path), options).ok();
}

}  // namespace

const char* EmulatorKindName(EmulatorKind kind) {
  switch (kind) {
    case EmulatorKind::kS3rver: return "s3rver";
    case EmulatorKind::kAzurite: return "Azurite";
    case EmulatorKind::kDynalite: return "dynalite";
    case EmulatorKind::kRedis: return "redis-server";
  }
  return "emulator";
}

std::string NodeExecutable() { return CLOUDKIT_TEST_NODE_EXECUTABLE; }

std::string EmulatorsPackageDir() { return CLOUDKIT_TEST_EMULATORS_DIR; }

Result<std::unique_ptr<Emulator>> Emulator::Start(EmulatorKind kind, EmulatorOptions options) {
  CK_RETURN_IF_ERROR(CheckInstalled(kind));
  std::unique_ptr<Emulator> emulator(new Emulator(kind, std::move(options)));
  emulator->data_dir_ = NewTempDir();
  if (emulator->data_dir_.empty()) return Status::Internal("mkdtemp failed for the emulator's data directory");

  EmulatorCredentials& credentials = emulator->credentials_;
  switch (kind) {
    case EmulatorKind::kS3rver:
      credentials.access_key_id = "S3RVER";
      credentials.secret_access_key = "S3RVER";
      credentials.region = "us-east-1";
      break;
    case EmulatorKind::kDynalite:
      credentials.access_key_id = "dynalite";
      credentials.secret_access_key = "dynalite";
      credentials.region = "us-east-1";
      break;
    case EmulatorKind::kAzurite:
      credentials.account_name = kAzuriteAccount;
      credentials.account_key = kAzuriteKey;
      break;
    case EmulatorKind::kRedis:
      break;
  }

  // A free port can be taken by another process before the emulator binds
  // it: then it exits saying so, and we try other ports.
  Status started;
  for (int attempt = 0; attempt < kLaunchAttempts; ++attempt) {
    emulator->ports_.clear();
    int count = kind == EmulatorKind::kAzurite ? 3 : 1;
    for (int i = 0; i < count; ++i) {
      int port = FreeLoopbackPort();
      if (port == 0) return Status::Internal("no free loopback port");
      emulator->ports_.push_back(port);
    }
    started = emulator->Launch();
    if (started.ok()) started = emulator->WaitUntilAnswering();
    if (started.ok()) {
      if (kind == EmulatorKind::kAzurite && emulator->options_.cors_allow_all) {
        started = emulator->AllowAllCorsOnAzurite();
        if (!started.ok()) return emulator->WithLog(started);
      }
      return emulator;
    }
    std::string log = emulator->Log();
    bool port_taken = !emulator->running() && (log.find("EADDRINUSE") != std::string::npos ||
                                                log.find("Address already in use") != std::string::npos);
    if (!port_taken) break;
    emulator->Stop();
  }
  return emulator->WithLog(started);
}

Emulator::~Emulator() {
  // Its data goes too, so there is nothing to shut down gracefully for.
  if (process_) process_->Kill();
  if (!data_dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(data_dir_, ignored);
  }
}

int Emulator::blob_port() const { return kind_ == EmulatorKind::kAzurite ? ports_.at(0) : 0; }
int Emulator::queue_port() const { return kind_ == EmulatorKind::kAzurite ? ports_.at(1) : 0; }
int Emulator::table_port() const { return kind_ == EmulatorKind::kAzurite ? ports_.at(2) : 0; }

std::string Emulator::endpoint() const {
  switch (kind_) {
    case EmulatorKind::kAzurite: return blob_endpoint();
    case EmulatorKind::kRedis: return std::string("redis://") + kLoopback + ":" + std::to_string(port());
    default: return Url(port(), "");
  }
}

std::string Emulator::blob_endpoint() const {
  return kind_ == EmulatorKind::kAzurite ? Url(blob_port(), std::string("/") + kAzuriteAccount) : "";
}
std::string Emulator::queue_endpoint() const {
  return kind_ == EmulatorKind::kAzurite ? Url(queue_port(), std::string("/") + kAzuriteAccount) : "";
}
std::string Emulator::table_endpoint() const {
  return kind_ == EmulatorKind::kAzurite ? Url(table_port(), std::string("/") + kAzuriteAccount) : "";
}

std::string Emulator::connection_string() const {
  if (kind_ != EmulatorKind::kAzurite) return "";
  return std::string("DefaultEndpointsProtocol=http;AccountName=") + kAzuriteAccount + ";AccountKey=" + kAzuriteKey +
         ";BlobEndpoint=" + blob_endpoint() + ";QueueEndpoint=" + queue_endpoint() +
         ";TableEndpoint=" + table_endpoint() + ";";
}

bool Emulator::running() { return process_ && !process_->Exited(); }

std::string Emulator::Log() const { return ReadWholeFile(data_dir_ + "/emulator.log"); }

void Emulator::Stop() {
  if (process_) process_->Stop();
}

void Emulator::Kill() {
  if (process_) process_->Kill();
}

void Emulator::Pause() {
  if (process_) ::kill(-process_->pid(), SIGSTOP);
}

void Emulator::Resume() {
  if (process_) ::kill(-process_->pid(), SIGCONT);
}

Status Emulator::Restart() {
  Stop();
  Status started = Launch();
  if (started.ok()) started = WaitUntilAnswering();
  if (started.ok() && kind_ == EmulatorKind::kAzurite && options_.cors_allow_all) started = AllowAllCorsOnAzurite();
  return started.ok() ? started : WithLog(started);
}

std::vector<std::string> Emulator::CommandLine() const {
  std::vector<std::string> args;
  const std::string port = std::to_string(ports_.at(0));
  switch (kind_) {
    case EmulatorKind::kS3rver:
      // s3rver encrypts its continuation tokens with DES, which OpenSSL 3
      // has only in its legacy provider: without it, every truncated
      // ListObjectsV2 fails with 500 InternalError.
      args = {NodeExecutable(), "--openssl-legacy-provider", NodeModule(NodeEmulatorFor(kind_).script),
              "--directory", data_dir_ + "/s3", "--address", kLoopback, "--port", port};
      for (const auto& bucket : options_.buckets) {
        args.insert(args.end(), {"--configure-bucket", bucket});
        if (options_.cors_allow_all) args.push_back(S3CorsAllowAllFile());
      }
      break;
    case EmulatorKind::kAzurite:
      args = {NodeExecutable(), NodeModule(NodeEmulatorFor(kind_).script),
              "--blobHost", kLoopback, "--blobPort", std::to_string(blob_port()),
              "--queueHost", kLoopback, "--queuePort", std::to_string(queue_port()),
              "--tableHost", kLoopback, "--tablePort", std::to_string(table_port()),
              "--location", data_dir_ + "/azurite",
              // Newer SDKs send API versions this Azurite does not know yet;
              // SharedKey signatures are still checked (no --loose).
              "--skipApiVersionCheck", "--disableTelemetry"};
      if (options_.azurite_debug_log) args.insert(args.end(), {"--debug", data_dir_ + "/azurite-debug.log"});
      break;
    case EmulatorKind::kDynalite:
      args = {NodeExecutable(), NodeModule(NodeEmulatorFor(kind_).script), "--host", kLoopback, "--port", port,
              "--path", data_dir_ + "/dynalite"};
      break;
    case EmulatorKind::kRedis:
      args = {CLOUDKIT_TEST_REDIS_SERVER, "--port", port, "--bind", kLoopback, "--save", "", "--appendonly", "no",
              "--dir", data_dir_ + "/redis", "--daemonize", "no", "--logfile", ""};
      break;
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  return args;
}

Status Emulator::Launch() {
  std::error_code ignored;
  fs::create_directories(data_dir_ + "/redis", ignored);
  ChildProcessOptions options;
  options.argv = CommandLine();
  options.working_dir = data_dir_;
  options.stdout_path = data_dir_ + "/emulator.log";
  options.stderr_path = options.stdout_path;
  // Nothing from the test's environment may change what the emulator does.
  options.unset_env = {"NODE_OPTIONS", "NODE_PATH", "AZURITE_ACCOUNTS", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                       "https_proxy"};
  std::ofstream(options.stdout_path, std::ios::app) << "--- starting: " << ShellWords(options.argv) << "\n";
  Result<std::unique_ptr<ChildProcess>> process = ChildProcess::Start(options);
  if (!process.ok()) return process.status();
  process_ = std::move(*process);
  return Status::Ok();
}

Status Emulator::WaitUntilAnswering() {
  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (true) {
    if (!running()) {
      return Status::Unavailable(std::string(name()) + " exited during start-up (" + process_->DescribeExit() + ")");
    }
    bool answers = false;
    switch (kind_) {
      case EmulatorKind::kS3rver:
        answers = Answers(port(), "/");  // ListBuckets
        break;
      case EmulatorKind::kDynalite:
        answers = Answers(port(), "/");  // its health check
        break;
      case EmulatorKind::kAzurite: {
        // Unauthenticated, so refused (403), but answered, by all three.
        const std::string account = std::string("/") + kAzuriteAccount;
        answers = Answers(blob_port(), account + "?comp=list") && Answers(queue_port(), account + "?comp=list") &&
                  Answers(table_port(), account + "/Tables");
        break;
      }
      case EmulatorKind::kRedis: {
        Result<std::string> reply = RedisCommand(port(), "PING", kProbeTimeout);
        // A server with a password refuses the PING, but answers it.
        answers = reply.ok() && (*reply == "+PONG" || reply->starts_with("-NOAUTH"));
        break;
      }
    }
    if (answers) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable(std::string(name()) + " did not answer within " +
                                 std::to_string(options_.start_timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(kProbeInterval);
  }
}

Status Emulator::AllowAllCorsOnAzurite() {
  ChildProcessOptions options;
  options.argv = {NodeExecutable(), EmulatorsPackageDir() + "/azurite-allow-all-cors.mjs"};
  options.env = {{"AZURE_STORAGE_CONNECTION_STRING", connection_string()}};
  options.unset_env = {"NODE_OPTIONS", "NODE_PATH"};
  options.stdout_path = data_dir_ + "/azurite-cors.log";
  options.stderr_path = options.stdout_path;
  Result<std::unique_ptr<ChildProcess>> script = ChildProcess::Start(options);
  if (!script.ok()) return script.status();
  if (!(*script)->WaitForExit(options_.start_timeout)) {
    return Status::Unavailable("setting Azurite's CORS rules took longer than " +
                               std::to_string(options_.start_timeout.count()) + " ms");
  }
  if ((*script)->exit_code() != 0) {
    return Status::Internal("setting Azurite's CORS rules failed (" + (*script)->DescribeExit() +
                            "):\n" + ReadWholeFile(options.stdout_path));
  }
  return Status::Ok();
}

Status Emulator::WithLog(const Status& status) const {
  std::string log = Log();
  if (log.size() > kLogTailBytes) log = "[...]\n" + log.substr(log.size() - kLogTailBytes);
  return Status(status.code(), status.message() + "\n--- " + name() + " output (" + data_dir_ +
                                   "/emulator.log) ---\n" + log);
}

}  // namespace cloudkit::testing_util
