// CliContext: what every `cloudkit` command shares: the global options
// (--endpoint, --binding, --json, --timeout), the lazily connected Client, and
// the one place that turns outcomes into output and exit codes
// (docs/cli.md, "Exit codes"): 0 ok, 1 local error, 2 usage error,
// 10 + StatusCode for errors from the daemon (or reaching it).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "client/client.h"

namespace cloudkit::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitLocalError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitStatusBase = 10;

inline int ExitCodeFor(StatusCode code) { return kExitStatusBase + static_cast<int>(code); }

struct GlobalOptions {
  std::string endpoint = kDefaultEndpoint;
  std::string binding = "default";
  bool json = false;
  int64_t timeout_ms = 30'000;
  std::string key_file;    // --key / $CLOUDKIT_KEY: this client's CURVE key pair
  std::string server_key;  // --server-key / $CLOUDKIT_SERVER_KEY: the daemon's public key (Z85 or a key file)
};

class CliContext {
 public:
  GlobalOptions options;

  // The client, connected on first use. Null after printing a usage error
  // (a malformed --endpoint, --key without --server-key) or a local one (an
  // unreadable key file); `*exit_code` then holds the exit code.
  Client* client(int* exit_code);

  bool json() const { return options.json; }
  // Where --json results go: stdout, unless the object body is being written
  // there (`storage get ... -`), then stderr.
  void send_json_to_stderr() { json_stream_ = stderr; }
  void PrintJson(const nlohmann::ordered_json& value);

  // Prints the one-line error (or its JSON form) and returns the exit code.
  int Fail(const Status& status);                // from the daemon or the connection: 10 + code
  int FailLocal(const std::string& message);     // e.g. cannot read the input file: 1
  int FailUsage(const std::string& message);     // bad arguments: 2

 private:
  int Report(const std::string& code_name, const std::string& message, int exit_code);

  std::unique_ptr<Client> client_;
  FILE* json_stream_ = stdout;
};

// Runs `body(Client&)` with a connected client, or returns the exit code of
// the failed connection.
template <typename Body>
int WithClient(CliContext& context, Body body) {
  int exit_code = 0;
  Client* client = context.client(&exit_code);
  if (!client) return exit_code;
  return body(*client);
}

}  // namespace cloudkit::cli
