// cloudkitd's configuration: listen endpoints, data dir, limits and bindings,
// from defaults, an optional YAML file (--config) and command-line flags, in
// that order of precedence (flags win). docs/configuration.md documents it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "daemon/rights.h"
#include "providers/registry.h"

namespace cloudkit {

inline constexpr char kDefaultListenEndpoint[] = "tcp://127.0.0.1:7420";

struct DaemonLimits {
  uint32_t default_timeout_ms = 30'000;   // for requests with timeout_ms 0
  // The most a request may ask for (larger ones are cut to it); a stream's
  // timeout bounds its longest pause between frames.
  uint32_t max_timeout_ms = 300'000;
  // ZeroMQ heartbeats to each client (0 = none): one that misses them for
  // three intervals is disconnected, and its calls end.
  uint32_t heartbeat_interval_ms = 10'000;
  uint32_t drain_timeout_ms = 10'000;     // SIGTERM: time allowed for in-flight calls
  uint32_t max_in_flight_per_binding = 4096;
  // Calls one client (connection) may have waiting on actors at once; beyond:
  // RESOURCE_EXHAUSTED (retryable). Bounds what a client's replies can take.
  uint32_t max_in_flight_per_client = 1024;  // below the binding's: one client cannot take a binding
  uint32_t max_body_bytes = 4u << 20;     // larger request bodies: RESOURCE_EXHAUSTED
  int64_t max_message_bytes = 8 << 20;    // ZMQ_MAXMSGSIZE: larger messages drop the peer
  // A client that does not read its replies: ZeroMQ queues up to
  // client_send_queue of them for it, the daemon holds up to
  // max_client_backlog_bytes more; beyond that its calls in flight are
  // cancelled, its further replies dropped and its new requests ignored until
  // it reads (logged). A reader never gets near: replies leave as fast as it
  // takes them.
  uint32_t client_send_queue = 64;
  // Threads doing blob work (file writes, fsyncs, copies) for every `local`
  // binding; each SQLite file has a lane of its own besides.
  uint32_t disk_workers = 4;
  uint64_t max_client_backlog_bytes = 16u << 20;
  // Answers to calls with an idempotency key are kept this long for retries
  // (0: keys are not honoured), in at most this much memory per binding and
  // service (beyond it the oldest are forgotten first).
  int64_t idempotency_window_ms = 600'000;
  uint64_t idempotency_memory_bytes = 16u << 20;
};

// The sockets of ipc:// endpoints.
struct IpcSettings {
  unsigned mode = 0600;  // who may connect: by default the daemon's user only
  std::string group;     // empty: the daemon's group
};

// A client key the daemon accepts (CURVE), and what it may do where.
struct ClientKeyConfig {
  std::string name;        // in messages and logs
  std::string public_key;  // Z85, 40 characters
  std::map<std::string, Rights> bindings;  // binding name, or "*" for every binding -> rights
};

// CURVE authentication; off (no keys, loopback and ipc:// only) when
// server_key_file is empty.
struct AuthConfig {
  std::string server_key_file;  // the daemon's key pair; created (mode 0600) when absent
  std::vector<ClientKeyConfig> clients;
  bool enabled() const { return !server_key_file.empty(); }
};

struct DaemonConfig {
  std::vector<std::string> listen;  // empty = {kDefaultListenEndpoint}
  // Serve non-loopback tcp:// endpoints without CURVE (--insecure-listen).
  bool insecure_listen = false;
  AuthConfig auth;
  IpcSettings ipc;
  std::string data_dir;             // empty = DefaultDataDir()
  std::string log_level = "info";
  DaemonLimits limits;
  std::vector<BindingConfig> bindings;  // empty = one `local` binding named "default"
};

// ${XDG_DATA_HOME:-$HOME/.local/share}/cloudkit, or ./cloudkit-data without HOME.
std::string DefaultDataDir();

// Parses a YAML configuration; INVALID_ARGUMENT naming the file and the key on error.
Result<DaemonConfig> LoadConfigFile(const std::string& path);

// Fills in defaults (endpoint, data dir, default binding) and checks
// consistency: unique binding names, at least one endpoint, client keys that
// are unique and name bindings that exist.
Status FinalizeConfig(DaemonConfig* config);

}  // namespace cloudkit
