#include "daemon/config.h"

#include <sys/stat.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <ios>
#include <set>
#include <system_error>

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "client/curve_keys.h"
#include "client/endpoint_port.h"
#include "providers/binding_url.h"

namespace cloudkit {
namespace {

Status Invalid(const std::string& path, const std::string& what) {
  return Status::InvalidArgument("config file '" + path + "': " + what);
}

// A file named in the config file: relative names are read from the config
// file's directory, whatever the daemon's working directory (a service
// manager starts it in /). Absolute, so that nothing later depends on it.
std::string ConfigDir(const std::string& config_path) {
  std::error_code no_cwd;
  return std::filesystem::absolute(config_path, no_cwd).lexically_normal().parent_path().string();
}
std::string FromConfigDir(const std::string& config_path, const std::string& name) {
  if (name.empty() || name.front() == '/') return name;
  return (std::filesystem::path(ConfigDir(config_path)) / name).lexically_normal().string();
}

template <typename T>
Status ReadScalar(const YAML::Node& node, const char* key, const std::string& path, T* out) {
  if (!node[key]) return Status::Ok();
  try {
    *out = node[key].as<T>();
  } catch (const YAML::Exception&) {
    return Invalid(path, std::string("'") + key + "' has the wrong type");
  }
  return Status::Ok();
}

Status ReadStringList(const YAML::Node& node, const std::string& what, const std::string& path,
                      std::vector<std::string>* out) {
  if (!node) return Status::Ok();
  if (node.IsScalar()) {
    out->push_back(node.as<std::string>());
    return Status::Ok();
  }
  if (!node.IsSequence()) return Invalid(path, what + " must be a list of strings");
  for (const auto& item : node) {
    if (!item.IsScalar()) return Invalid(path, what + " must be a list of strings");
    out->push_back(item.as<std::string>());
  }
  return Status::Ok();
}

// A map of scalars into `out`, for credentials: messages name the key, never
// the value.
Status ReadSecrets(const YAML::Node& map, const std::string& where, const std::string& path,
                   std::map<std::string, std::string>* out) {
  if (!map.IsMap()) return Invalid(path, where + " must be a map");
  for (const auto& entry : map) {
    const std::string key = entry.first.as<std::string>();
    if (!entry.second.IsScalar()) return Invalid(path, "'" + key + "' in " + where + " must be a scalar");
    (*out)[key] = entry.second.as<std::string>();
  }
  return Status::Ok();
}

// `credentials:` inline, or `credentials_file:` naming a YAML file of the
// same map (kept out of the main config, readable by the daemon alone).
Status ReadCredentials(const YAML::Node& node, const std::string& path, BindingConfig* binding) {
  const std::string where = "credentials of binding '" + binding->name + "'";
  if (const YAML::Node inline_map = node["credentials"]) {
    CK_RETURN_IF_ERROR(ReadSecrets(inline_map, where, path, &binding->credentials));
  }
  if (const YAML::Node file = node["credentials_file"]) {
    if (!file.IsScalar()) return Invalid(path, "credentials_file of binding '" + binding->name + "' must be a path");
    const std::string file_path = FromConfigDir(path, file.as<std::string>());
    YAML::Node secrets;
    std::error_code not_a_directory;
    if (std::filesystem::is_directory(file_path, not_a_directory)) {
      return Invalid(path, "binding '" + binding->name + "': credentials file '" + file_path + "' is a directory");
    }
    struct stat info {};
    if (::stat(file_path.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
      spdlog::warn("binding '{}': credentials file '{}' may be read by other users (mode {:o}): chmod 600 it",
                   binding->name, file_path, info.st_mode & 0777);
    }
    try {
      secrets = YAML::LoadFile(file_path);
    } catch (const YAML::BadFile&) {
      return Invalid(path, "binding '" + binding->name + "': cannot read credentials file '" + file_path + "'");
    } catch (const std::ios_base::failure&) {
      return Invalid(path, "binding '" + binding->name + "': cannot read credentials file '" + file_path + "'");
    } catch (const YAML::Exception& e) {
      // The parser's message may quote the file: say only where it failed.
      return Invalid(path, "binding '" + binding->name + "': credentials file '" + file_path +
                               "' is not YAML (line " + std::to_string(e.mark.line + 1) + ")");
    }
    std::map<std::string, std::string> from_file;
    CK_RETURN_IF_ERROR(ReadSecrets(secrets, "credentials file '" + file_path + "'", path, &from_file));
    for (auto& [key, value] : from_file) binding->credentials.emplace(key, std::move(value));  // inline ones win
  }
  return Status::Ok();
}

Result<BindingConfig> ReadBinding(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) return Invalid(path, "each entry of 'bindings' must be a map");
  BindingConfig binding;
  CK_RETURN_IF_ERROR(ReadScalar(node, "name", path, &binding.name));
  if (binding.name.empty()) return Invalid(path, "a binding has no 'name'");
  std::string url;
  CK_RETURN_IF_ERROR(ReadScalar(node, "url", path, &url));
  if (!url.empty()) {
    // A URL says the provider and its options (providers/binding_url.h).
    if (node["provider"] || node["options"]) {
      return Invalid(path, "binding '" + binding.name + "' has both 'url' and 'provider'/'options'");
    }
    Result<BindingConfig> from_url = ParseBindingUrl(binding.name, url);
    if (!from_url.ok()) return Invalid(path, from_url.status().message());
    binding = std::move(*from_url);
  }
  if (url.empty()) CK_RETURN_IF_ERROR(ReadScalar(node, "provider", path, &binding.provider));
  if (binding.provider.empty()) return Invalid(path, "binding '" + binding.name + "' has no 'provider' or 'url'");
  if (node["services"]) {
    binding.services.clear();
    CK_RETURN_IF_ERROR(ReadStringList(node["services"], "services of binding '" + binding.name + "'",
                                      path, &binding.services));
  }
  if (const YAML::Node options = node["options"]) {
    if (!options.IsMap()) return Invalid(path, "options of binding '" + binding.name + "' must be a map");
    for (const auto& option : options) {
      if (!option.second.IsScalar()) {
        return Invalid(path, "option '" + option.first.as<std::string>() + "' of binding '" +
                                 binding.name + "' must be a scalar");
      }
      binding.options[option.first.as<std::string>()] = option.second.as<std::string>();
    }
  }
  CK_RETURN_IF_ERROR(ReadCredentials(node, path, &binding));
  binding.base_dir = ConfigDir(path);
  for (const auto& entry : node) {
    std::string key = entry.first.as<std::string>();
    if (key != "name" && key != "provider" && key != "url" && key != "services" && key != "options" &&
        key != "credentials" && key != "credentials_file") {
      return Invalid(path, "unknown key '" + key + "' in binding '" + binding.name + "'");
    }
  }
  return binding;
}

Status CheckKeys(const YAML::Node& map, const std::string& where, const std::set<std::string>& known,
                 const std::string& path) {
  for (const auto& entry : map) {
    const std::string key = entry.first.as<std::string>();
    if (!known.count(key)) return Invalid(path, "unknown key '" + key + "' in " + where);
  }
  return Status::Ok();
}

Result<ClientKeyConfig> ReadClientKey(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) return Invalid(path, "each entry of auth.clients must be a map");
  ClientKeyConfig client;
  CK_RETURN_IF_ERROR(ReadScalar(node, "name", path, &client.name));
  if (client.name.empty()) return Invalid(path, "a key in auth.clients has no 'name'");
  const std::string where = "client key '" + client.name + "'";
  CK_RETURN_IF_ERROR(CheckKeys(node, where, {"name", "public_key", "public_key_file", "bindings"}, path));
  std::string key_file;
  CK_RETURN_IF_ERROR(ReadScalar(node, "public_key", path, &client.public_key));
  CK_RETURN_IF_ERROR(ReadScalar(node, "public_key_file", path, &key_file));
  if (client.public_key.empty() == key_file.empty()) {
    return Invalid(path, where + " needs one of 'public_key' (Z85) and 'public_key_file'");
  }
  if (!key_file.empty()) {
    Result<std::string> key = ReadPublicKey(FromConfigDir(path, key_file));
    if (!key.ok()) return Invalid(path, where + ": " + key.status().message());
    client.public_key = std::move(*key);
  } else if (!IsZ85Key(client.public_key)) {
    return Invalid(path, where + ": public_key must be 40 characters of Z85 (cloudkit keygen writes it)");
  }
  const YAML::Node bindings = node["bindings"];
  if (!bindings || !bindings.IsMap()) {
    return Invalid(path, where + " needs 'bindings', a map of binding name (or '*') to rights");
  }
  for (const auto& entry : bindings) {
    const std::string binding = entry.first.as<std::string>();
    std::vector<std::string> names;
    CK_RETURN_IF_ERROR(ReadStringList(entry.second, "rights of " + where + " on '" + binding + "'", path, &names));
    Rights rights = 0;
    for (const std::string& name : names) {
      std::optional<Right> right = ParseRight(name);
      if (!right) {
        return Invalid(path, where + ": unknown right '" + name + "' on '" + binding + "' (read, write or admin)");
      }
      rights |= *right;
    }
    client.bindings[binding] = rights;
  }
  return client;
}

Status ReadAuth(const YAML::Node& auth, const std::string& path, AuthConfig* out) {
  if (!auth.IsMap()) return Invalid(path, "'auth' must be a map");
  CK_RETURN_IF_ERROR(CheckKeys(auth, "auth", {"server_key_file", "clients"}, path));
  CK_RETURN_IF_ERROR(ReadScalar(auth, "server_key_file", path, &out->server_key_file));
  out->server_key_file = FromConfigDir(path, out->server_key_file);
  if (const YAML::Node clients = auth["clients"]) {
    if (!clients.IsSequence()) return Invalid(path, "auth.clients must be a list");
    for (const auto& node : clients) {
      Result<ClientKeyConfig> client = ReadClientKey(node, path);
      if (!client.ok()) return client.status();
      out->clients.push_back(std::move(*client));
    }
  }
  return Status::Ok();
}

// Each key once, under a name of its own, naming bindings that exist.
Status CheckAuth(const DaemonConfig& config) {
  const AuthConfig& auth = config.auth;
  if (!auth.enabled()) {
    if (!auth.clients.empty()) return Status::InvalidArgument("auth.clients needs auth.server_key_file");
    return Status::Ok();
  }
  if (auth.clients.empty()) {
    return Status::InvalidArgument("auth.clients is empty: no client could connect (cloudkit keygen makes a key)");
  }
  std::set<std::string> names, keys, bindings;
  for (const auto& binding : config.bindings) bindings.insert(binding.name);
  for (const ClientKeyConfig& client : auth.clients) {
    if (!names.insert(client.name).second) {
      return Status::InvalidArgument("client key '" + client.name + "' is defined twice");
    }
    if (!keys.insert(client.public_key).second) {
      return Status::InvalidArgument("client key '" + client.name + "' has the public key of another");
    }
    for (const auto& [binding, rights] : client.bindings) {
      if (binding != "*" && !bindings.count(binding)) {
        return Status::InvalidArgument("client key '" + client.name + "' names binding '" + binding +
                                       "', which is not configured");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::string DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/cloudkit";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/share/cloudkit";
  return "cloudkit-data";
}

Result<DaemonConfig> LoadConfigFile(const std::string& path) {
  YAML::Node root;
  std::error_code not_a_directory;
  if (std::filesystem::is_directory(path, not_a_directory)) return Invalid(path, "it is a directory, not a file");
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::NotFound("config file '" + path + "'");
  } catch (const YAML::Exception& e) {
    return Invalid(path, e.what());
  } catch (const std::exception& e) {
    return Invalid(path, std::string("cannot read it: ") + e.what());
  }
  DaemonConfig config;
  if (root.IsNull()) return config;
  if (!root.IsMap()) return Invalid(path, "the top level must be a map");
  static const std::set<std::string> known = {"listen", "ipc", "data_dir", "log_level", "limits", "bindings", "auth"};
  for (const auto& entry : root) {
    std::string key = entry.first.as<std::string>();
    if (!known.count(key)) return Invalid(path, "unknown key '" + key + "'");
  }
  CK_RETURN_IF_ERROR(ReadStringList(root["listen"], "'listen'", path, &config.listen));
  if (const YAML::Node ipc = root["ipc"]) {
    if (!ipc.IsMap()) return Invalid(path, "'ipc' must be a map");
    for (const auto& entry : ipc) {
      const std::string key = entry.first.as<std::string>();
      if (key != "mode" && key != "group") return Invalid(path, "unknown key 'ipc." + key + "'");
    }
    std::string mode;
    CK_RETURN_IF_ERROR(ReadScalar(ipc, "mode", path, &mode));
    if (!mode.empty()) {
      unsigned value = 0;
      auto [end, error] = std::from_chars(mode.data(), mode.data() + mode.size(), value, 8);
      if (error != std::errc() || end != mode.data() + mode.size() || value > 0777 || (value & 0600) != 0600) {
        return Invalid(path, "ipc.mode must be an octal mode from 0600 to 0777 (the daemon's user keeps read "
                             "and write), got '" + mode + "'");
      }
      config.ipc.mode = value;
    }
    CK_RETURN_IF_ERROR(ReadScalar(ipc, "group", path, &config.ipc.group));
  }
  if (const YAML::Node auth = root["auth"]) CK_RETURN_IF_ERROR(ReadAuth(auth, path, &config.auth));
  CK_RETURN_IF_ERROR(ReadScalar(root, "data_dir", path, &config.data_dir));
  config.data_dir = FromConfigDir(path, config.data_dir);
  CK_RETURN_IF_ERROR(ReadScalar(root, "log_level", path, &config.log_level));
  if (const YAML::Node limits = root["limits"]) {
    if (!limits.IsMap()) return Invalid(path, "'limits' must be a map");
    static const std::set<std::string> known_limits = {
        "default_timeout_ms", "max_timeout_ms", "heartbeat_interval_ms", "drain_timeout_ms", "max_in_flight_per_binding", "max_in_flight_per_client",
        "max_body_bytes", "max_message_bytes", "client_send_queue", "disk_workers", "max_client_backlog_bytes",
        "idempotency_window_ms", "idempotency_memory_bytes"};
    for (const auto& entry : limits) {
      std::string key = entry.first.as<std::string>();
      if (!known_limits.count(key)) return Invalid(path, "unknown key 'limits." + key + "'");
    }
    DaemonLimits& l = config.limits;
    CK_RETURN_IF_ERROR(ReadScalar(limits, "default_timeout_ms", path, &l.default_timeout_ms));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "max_timeout_ms", path, &l.max_timeout_ms));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "heartbeat_interval_ms", path, &l.heartbeat_interval_ms));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "drain_timeout_ms", path, &l.drain_timeout_ms));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "max_in_flight_per_binding", path, &l.max_in_flight_per_binding));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "max_in_flight_per_client", path, &l.max_in_flight_per_client));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "max_body_bytes", path, &l.max_body_bytes));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "max_message_bytes", path, &l.max_message_bytes));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "client_send_queue", path, &l.client_send_queue));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "disk_workers", path, &l.disk_workers));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "max_client_backlog_bytes", path, &l.max_client_backlog_bytes));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "idempotency_window_ms", path, &l.idempotency_window_ms));
    CK_RETURN_IF_ERROR(ReadScalar(limits, "idempotency_memory_bytes", path, &l.idempotency_memory_bytes));
  }
  if (const YAML::Node bindings = root["bindings"]) {
    if (!bindings.IsSequence()) return Invalid(path, "'bindings' must be a list");
    for (const auto& node : bindings) {
      Result<BindingConfig> binding = ReadBinding(node, path);
      if (!binding.ok()) return binding.status();
      config.bindings.push_back(std::move(*binding));
    }
  }
  return config;
}

namespace {

// An empty endpoint would be nothing to ZeroMQ; a port out of range, another port.
Status CheckListenEndpoint(const std::string& endpoint) {
  if (endpoint.empty()) return Status::InvalidArgument("an empty listen endpoint");
  return CheckEndpointPort(endpoint, AnyPort::kAllowed);
}

}  // namespace

Status FinalizeConfig(DaemonConfig* config) {
  if (config->listen.empty()) config->listen.push_back(kDefaultListenEndpoint);
  for (const std::string& endpoint : config->listen) CK_RETURN_IF_ERROR(CheckListenEndpoint(endpoint));
  if (config->data_dir.empty()) config->data_dir = DefaultDataDir();
  if (config->bindings.empty()) {
    config->bindings.push_back(BindingConfig{"default", "local", {}, {}, {}});
  }
  std::set<std::string> names;
  for (const auto& binding : config->bindings) {
    if (!names.insert(binding.name).second) {
      return Status::InvalidArgument("binding '" + binding.name + "' is defined twice");
    }
  }
  CK_RETURN_IF_ERROR(CheckAuth(*config));
  if (config->limits.max_in_flight_per_binding < 1 || config->limits.max_in_flight_per_client < 1) {
    return Status::InvalidArgument("limits: max_in_flight_per_binding and max_in_flight_per_client must be at least 1");
  }
  if (config->limits.disk_workers < 1 || config->limits.disk_workers > 256) {
    return Status::InvalidArgument("limits: disk_workers must be between 1 and 256, got " +
                                   std::to_string(config->limits.disk_workers));
  }
  if (config->limits.max_timeout_ms < 1000 || config->limits.default_timeout_ms > config->limits.max_timeout_ms) {
    return Status::InvalidArgument("limits: max_timeout_ms must be at least 1000 and at least default_timeout_ms");
  }
  if (config->limits.idempotency_window_ms < 0 || config->limits.idempotency_window_ms > 86'400'000) {
    return Status::InvalidArgument("limits: idempotency_window_ms must be between 0 and 86400000 (a day)");
  }
  if (config->limits.heartbeat_interval_ms > 3'600'000) {
    return Status::InvalidArgument("limits: heartbeat_interval_ms must be at most 3600000 (0: no heartbeats)");
  }
  if (config->limits.max_body_bytes + 1024 > config->limits.max_message_bytes) {
    return Status::InvalidArgument("limits: max_message_bytes must exceed max_body_bytes");
  }
  return Status::Ok();
}

}  // namespace cloudkit
