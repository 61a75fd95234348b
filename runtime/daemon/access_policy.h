// AccessPolicy: the client keys cloudkitd accepts (auth.clients) and what each
// may do on each binding, indexed for the two questions asked of it: the ZAP
// handler's "is this public key one of ours, and whose?" at each handshake,
// and the front door's "may this key do this on that binding?" at each
// request (a hash lookup by the key's name, which ZeroMQ attaches to every
// message of the connection as its User-Id). Immutable once made: both
// threads read it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "daemon/config.h"
#include "daemon/rights.h"

namespace cloudkit {

struct ClientAccess {
  std::string name;
  Rights every_binding = 0;  // from "*"
  std::unordered_map<std::string, Rights> bindings;

  Rights On(const std::string& binding) const {
    auto it = bindings.find(binding);
    return every_binding | (it == bindings.end() ? 0 : it->second);
  }
};

class AccessPolicy {
 public:
  // `auth` as FinalizeConfig checked it (valid, unique Z85 keys and names).
  explicit AccessPolicy(const AuthConfig& auth);

  // The key whose 32 bytes are `public_key`; null for one not configured.
  const ClientAccess* ByPublicKey(std::string_view public_key) const;
  // The key of that name (a connection's User-Id); null when none.
  const ClientAccess* ByName(const std::string& name) const;

  // OK, or PERMISSION_DENIED naming the key, the right it lacks and the binding.
  static Status Authorize(const ClientAccess& client, const std::string& binding, Rights needed,
                          std::string_view method);

 private:
  std::unordered_map<std::string, std::shared_ptr<const ClientAccess>> by_public_key_;
  std::unordered_map<std::string, std::shared_ptr<const ClientAccess>> by_name_;
};

}  // namespace cloudkit
