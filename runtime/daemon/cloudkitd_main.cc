// cloudkitd: the CloudKit Runtime daemon. Parses flags and the config file,
// creates the bindings, and serves them on the front door until SIGTERM
// (SIGHUP reads the configuration again for its client keys).
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "client/curve_keys.h"
#include "core/protobuf_log.h"
#include "daemon/binding_host.h"
#include "daemon/config.h"
#include "daemon/data_dir_lock.h"
#include "daemon/front_door.h"
#include "daemon/listen_safety.h"
#include "daemon/log_limiter.h"
#include "daemon/reply_queue.h"
#include "ports/hiredis_client.h"
#include "ports/lazy_ports.h"
#include "ports/native_storage.h"
#include "ports/openssl_hash.h"
#include "ports/posix_fs.h"
#include "ports/sodium_sealer.h"
#include "ports/system_clock.h"
#include "providers/binding_url.h"
#include "providers/builtin_providers.h"
#include "providers/embedded/embedded_providers.h"

namespace {

// Exit codes, documented in docs/daemon.md.
constexpr int kExitOk = 0;
constexpr int kExitConfig = 2;     // bad flags or configuration
constexpr int kExitStartup = 3;    // a binding or endpoint could not be set up

// Protobuf's complaints about what clients sent ("invalid UTF-8", one per
// such message) go to the log like the daemon's malformed-message lines: at
// most one every 10 s, the others counted. Its other lines are the daemon's
// own faults, logged each. Called on any thread.
void LogProtobufLine(cloudkit::ProtobufLine kind, const std::string& line) {
  if (kind == cloudkit::ProtobufLine::kError) return spdlog::error("protobuf: {}", line);
  if (kind == cloudkit::ProtobufLine::kInfo) return spdlog::debug("protobuf: {}", line);
  static std::mutex mutex;
  static cloudkit::LogLimiter limiter;
  uint64_t suppressed = 0;
  {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
    std::lock_guard<std::mutex> lock(mutex);
    if (!limiter.Allow(now_ms, &suppressed)) return;
  }
  if (suppressed == 0) {
    spdlog::warn("protobuf: {}", line);
  } else {
    spdlog::warn("protobuf: {} ({} more since the last such line)", line, suppressed);
  }
}

// What the command line says, kept to read the configuration again (SIGHUP).
struct CommandLine {
  std::vector<std::string> listen, binds;
  std::string data_dir, config_file, log_level;
  bool insecure_listen = false;
};

// The configuration: the file, then the command line over it, checked.
cloudkit::Result<cloudkit::DaemonConfig> AssembleConfig(const CommandLine& command_line) {
  cloudkit::DaemonConfig config;
  if (!command_line.config_file.empty()) {
    auto loaded = cloudkit::LoadConfigFile(command_line.config_file);
    if (!loaded.ok()) return loaded.status();
    config = std::move(*loaded);
  }
  if (!command_line.listen.empty()) config.listen = command_line.listen;
  // Bindings given on the command line come beside the configured ones; with
  // none configured, beside the default one (unless they name "default").
  const bool default_binding_wanted = config.bindings.empty();
  for (const std::string& bind : command_line.binds) {
    const size_t eq = bind.find('=');
    const std::string name = bind.substr(0, eq);
    // Not echoed when malformed: a URL given by mistake may hold a secret.
    auto binding = eq == std::string::npos || name.empty() || name.find_first_of(":/?@") != std::string::npos
                       ? cloudkit::Result<cloudkit::BindingConfig>(cloudkit::Status::InvalidArgument(
                             "--bind takes NAME=URL, e.g. --bind scratch=mem://"))
                       : cloudkit::ParseBindingUrl(name, bind.substr(eq + 1));
    if (!binding.ok()) return binding.status();
    config.bindings.push_back(std::move(*binding));
  }
  if (default_binding_wanted && !command_line.binds.empty() &&
      std::none_of(config.bindings.begin(), config.bindings.end(),
                   [](const cloudkit::BindingConfig& b) { return b.name == "default"; })) {
    config.bindings.insert(config.bindings.begin(), cloudkit::BindingConfig{"default", "local", {}, {}});
  }
  if (!command_line.data_dir.empty()) config.data_dir = command_line.data_dir;
  config.insecure_listen = command_line.insecure_listen;
  if (!command_line.log_level.empty()) config.log_level = command_line.log_level;
  cloudkit::Status finalized = cloudkit::FinalizeConfig(&config);
  if (!finalized.ok()) return finalized;
  return config;
}

// Every client connection, SQLite file and blob in transfer holds a file
// descriptor: take all the system allows (systemd's default soft limit is
// 1024, its hard limit far higher), and say so when that is little.
void RaiseOpenFilesLimit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return;
  if (files.rlim_cur < files.rlim_max) {
    rlimit raised = files;
    raised.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) files = raised;
  }
  if (files.rlim_cur < 4096) {
    spdlog::warn("open files limit is {}: clients beyond a few hundred will be refused (raise LimitNOFILE)",
                 static_cast<uint64_t>(files.rlim_cur));
  } else {
    spdlog::debug("open files limit: {}", static_cast<uint64_t>(files.rlim_cur));
  }
}

// The daemon's CURVE key pair, made on first use like an ssh host key.
cloudkit::Result<cloudkit::CurveKeyPair> LoadOrCreateServerKey(const std::string& path) {
  using namespace cloudkit;
  Result<CurveKeyPair> key = ReadKeyPairFile(path);
  if (key.ok() || key.status().code() != v1::NOT_FOUND) return key;
  Result<CurveKeyPair> made = GenerateCurveKeyPair();
  if (!made.ok()) return made.status();
  CK_RETURN_IF_ERROR(WriteKeyPairFiles(path, *made));
  spdlog::info("created the server key pair {} (its public key also in {}.pub)", path, path);
  return made;
}

// Without client keys only this machine may reach the daemon: anyone else
// would get every binding. False when the configuration must be refused.
bool CheckListenSafety(const cloudkit::DaemonConfig& config) {
  if (config.auth.enabled()) return true;
  for (const std::string& endpoint : cloudkit::ReachableFromOutside(config.listen)) {
    if (!config.insecure_listen) {
      std::fprintf(stderr,
                   "cloudkitd: refusing to listen on '%s' without client keys: anyone who reaches it could use "
                   "every binding. Configure auth (docs/daemon.md, \"Running safely on a shared machine and on "
                   "a network\") or pass --insecure-listen\n",
                   endpoint.c_str());
      return false;
    }
    spdlog::warn("listening on {} without client keys (--insecure-listen): anyone who reaches it can use every "
                 "binding", endpoint);
  }
  return true;
}

int Serve(cloudkit::DaemonConfig& config, const std::optional<cloudkit::CurveKeyPair>& server_key,
          const CommandLine& command_line) {
  using namespace cloudkit;
  // Signals become readable on a fd the front door polls: no handler runs on
  // an arbitrary thread. Block them before any thread starts so all inherit it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);  // reloads the client keys
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  signal(SIGPIPE, SIG_IGN);

  RaiseOpenFilesLimit();

  // Private whatever the umask: it holds every binding's data and secrets' keys.
  if (Status made = posix_fs::MakeDirs(config.data_dir, 0700); !made.ok()) {
    spdlog::error("cannot create data dir '{}': {}", config.data_dir, made.message());
    return kExitStartup;
  }

  // Before any binding opens its files: a second daemon on the same data dir stops here.
  auto data_dir_lock = DataDirLock::Acquire(config.data_dir);
  if (!data_dir_lock.ok()) {
    spdlog::error("{}", data_dir_lock.status().message());
    return kExitStartup;
  }

  // A `local` binding's directory is this daemon's alone, like its data dir: a
  // binding of another daemon pointing into it (--bind x=file:///that/dir)
  // would share its files and sweep its uploads under way.
  std::vector<std::unique_ptr<DataDirLock>> binding_dir_locks;
  for (const auto& binding : config.bindings) {
    if (binding.provider != "local") continue;
    const std::string path = embedded::LocalBindingPath(binding, config.data_dir);
    std::error_code same_error;
    if (std::filesystem::equivalent(path, config.data_dir, same_error)) continue;  // locked already
    if (Status made = posix_fs::MakeDirs(path, 0700); !made.ok()) {
      spdlog::error("binding '{}': {}", binding.name, made.message());
      return kExitStartup;
    }
    auto lock = DataDirLock::Acquire(path);
    if (!lock.ok()) {
      spdlog::error("binding '{}': {}", binding.name, lock.status().message());
      return kExitStartup;
    }
    binding_dir_locks.push_back(std::move(*lock));
  }

  SystemClock clock;
  OpenSslHashPort hash;
  NativeStoragePort storage(config.limits.disk_workers);
  ProviderRegistry registry;
  RegisterBuiltinProviders(&registry);
  ServiceRegistry services;
  RegisterBuiltinServices(&services);
  LazyHttpClient http;
  LazySleepPort sleep;
  HiredisConnector redis;
  SodiumSealerPort sealer;
  HostPorts ports{&clock, &hash, &storage, config.data_dir};
  ports.redis = &redis;
  ports.sealer = &sealer;
  ports.http = &http;
  ports.sleep = &sleep;
  ports.environment = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value ? std::optional<std::string>(value) : std::nullopt;
  };

  caf::actor_system_config caf_config;
  // Sharing: one queue for few threads beats work stealing's polling at our
  // message rates (see benchmarks/RESULTS.md).
  caf_config.set("scheduler.policy", caf::atom("sharing"));
  caf_config.set("scheduler.max-threads", size_t{2});
  caf::actor_system system{caf_config};
  ReplyQueue replies;
  BindingHost bindings(system, services, replies, clock);
  bindings.set_idempotency_limits({config.limits.idempotency_window_ms, config.limits.idempotency_memory_bytes});
  for (const auto& binding : config.bindings) {
    Status added = bindings.Add(binding, registry, ports);
    if (!added.ok()) {
      const std::string named = "binding '" + binding.name + "'";
      if (added.message().find(named) == std::string::npos) spdlog::error("{}: {}", named, added.message());
      else spdlog::error("{}", added.message());
      // A provider refusing its options is a configuration error; one that cannot start is not.
      return added.code() == cloudkit::v1::INVALID_ARGUMENT ? kExitConfig : kExitStartup;
    }
    spdlog::info("binding '{}': provider {}", binding.name, binding.provider);
  }
  FrontDoor front_door(config, bindings, replies, registry, services, clock);
  if (server_key) {
    Status curve = front_door.RequireClientKeys(*server_key);
    if (!curve.ok()) {
      spdlog::error("{}", curve.message());
      return kExitStartup;
    }
    spdlog::info("CURVE on: {} client key(s) accepted; server public key {}", config.auth.clients.size(),
                 server_key->public_key);
  }
  if (!command_line.config_file.empty()) {
    // The whole configuration is read and checked again, as at start; only its keys are taken.
    front_door.set_client_keys_source([&command_line]() -> Result<AuthConfig> {
      Result<DaemonConfig> reread = AssembleConfig(command_line);
      if (!reread.ok()) return reread.status();
      return std::move(reread->auth);
    });
  }
  Status bound = front_door.Bind();
  if (!bound.ok()) {
    spdlog::error("{}", bound.message());
    return kExitStartup;
  }
  std::string endpoints;
  for (const auto& endpoint : front_door.endpoints()) endpoints += (endpoints.empty() ? "" : " ") + endpoint;
  spdlog::info("cloudkitd ready on {} (data dir {})", endpoints, config.data_dir);
  front_door.Run(signal_fd);
  bindings.StopAll();
  spdlog::info("cloudkitd stopped");
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cloudkitd: the CloudKit Runtime daemon (docs/daemon.md)"};
  CommandLine command_line;
  app.add_option("--listen", command_line.listen, "endpoint to serve, tcp:// or ipc:// (repeatable; default " +
                                         std::string(cloudkit::kDefaultListenEndpoint) + ")");
  app.add_option("--data-dir", command_line.data_dir, "where the local provider keeps data (default " +
                                             cloudkit::DefaultDataDir() + ")")
      ->check([](const std::string& dir) { return dir.empty() ? std::string("an empty data dir") : std::string(); });
  app.add_option("--config", command_line.config_file, "YAML configuration file (docs/daemon.md)")
      ->check([](const std::string& file) { return file.empty() ? std::string("an empty file name") : std::string(); });
  app.add_option("--bind", command_line.binds, "a binding as NAME=URL, e.g. scratch=mem:// or docs=file:///srv/docs (repeatable)");
  app.add_option("--log-level", command_line.log_level, "trace, debug, info, warn, error or off (default info)");
  app.add_flag("--insecure-listen", command_line.insecure_listen,
               "serve endpoints other machines reach (e.g. tcp://0.0.0.0:7420) without client keys");
  app.set_version_flag("--version", std::string("cloudkitd ") + CLOUDKIT_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitConfig;
  }

  auto logger = spdlog::stderr_color_mt("cloudkitd");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  cloudkit::RouteProtobufLog(&LogProtobufLine);

  cloudkit::Result<cloudkit::DaemonConfig> assembled = AssembleConfig(command_line);
  if (!assembled.ok()) {
    std::fprintf(stderr, "cloudkitd: %s\n", assembled.status().message().c_str());
    return kExitConfig;
  }
  cloudkit::DaemonConfig& config = *assembled;
  auto level = spdlog::level::from_str(config.log_level);
  if (level == spdlog::level::off && config.log_level != "off") {
    std::fprintf(stderr, "cloudkitd: invalid argument: log level '%s'\n", config.log_level.c_str());
    return kExitConfig;
  }
  spdlog::set_level(level);
  if (!CheckListenSafety(config)) return kExitConfig;
  std::optional<cloudkit::CurveKeyPair> server_key;
  if (config.auth.enabled()) {
    auto key = LoadOrCreateServerKey(config.auth.server_key_file);
    if (!key.ok()) {
      std::fprintf(stderr, "cloudkitd: server key: %s\n", key.status().message().c_str());
      return kExitConfig;
    }
    server_key = std::move(*key);
  }
  return Serve(config, server_key, command_line);
}
