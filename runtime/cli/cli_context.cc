#include "cli/cli_context.h"

#include <algorithm>
#include <chrono>

namespace cloudkit::cli {
namespace {

// A daemon that is not running should fail fast, but never faster than the
// call's own deadline allows.
constexpr int64_t kMaxConnectTimeoutMs = 3'000;

}  // namespace

Client* CliContext::client(int* exit_code) {
  if (client_) return client_.get();
  ClientOptions client_options;
  client_options.binding = options.binding;
  client_options.timeout = std::chrono::milliseconds(options.timeout_ms);
  client_options.connect_timeout = std::chrono::milliseconds(std::min(options.timeout_ms, kMaxConnectTimeoutMs));
  client_options.key_file = options.key_file;
  client_options.server_key = options.server_key;
  Result<std::unique_ptr<Client>> connected = Client::Connect(options.endpoint, client_options);
  if (!connected.ok()) {
    const std::string& message = connected.status().message();
    // Bad options are usage errors; key files that cannot be read, local ones.
    *exit_code = connected.status().code() == v1::INVALID_ARGUMENT ? FailUsage(message) : FailLocal(message);
    return nullptr;
  }
  client_ = std::move(*connected);
  return client_.get();
}

void CliContext::PrintJson(const nlohmann::ordered_json& value) {
  // Replace invalid UTF-8 rather than throw: names come from the daemon as bytes.
  std::string text = value.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::fprintf(json_stream_, "%s\n", text.c_str());
  std::fflush(json_stream_);
}

int CliContext::Fail(const Status& status) {
  return Report(Status::CodeName(status.code()), status.message(), ExitCodeFor(status.code()));
}

int CliContext::FailLocal(const std::string& message) { return Report("LOCAL_ERROR", message, kExitLocalError); }

int CliContext::FailUsage(const std::string& message) { return Report("USAGE_ERROR", message, kExitUsage); }

int CliContext::Report(const std::string& code_name, const std::string& message, int exit_code) {
  if (options.json) {
    PrintJson({{"error", {{"code", code_name}, {"message", message}, {"exit_code", exit_code}}}});
  } else {
    // One line, whatever the message holds.
    std::string line = message;
    std::replace(line.begin(), line.end(), '\n', ' ');
    std::fprintf(stderr, "cloudkit: %s\n", line.c_str());
  }
  return exit_code;
}

}  // namespace cloudkit::cli
