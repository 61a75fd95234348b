#include "daemon/access_policy.h"

#include <cstdint>

#include <zmq.h>

#include "providers/names.h"

namespace cloudkit {

AccessPolicy::AccessPolicy(const AuthConfig& auth) {
  for (const ClientKeyConfig& client : auth.clients) {
    auto access = std::make_shared<ClientAccess>();
    access->name = client.name;
    for (const auto& [binding, rights] : client.bindings) {
      if (binding == "*") {
        access->every_binding |= rights;
      } else {
        access->bindings[binding] |= rights;
      }
    }
    uint8_t key[32];
    if (!zmq_z85_decode(key, client.public_key.c_str())) continue;  // FinalizeConfig refused it already
    by_public_key_.emplace(std::string(reinterpret_cast<const char*>(key), sizeof key), access);
    by_name_.emplace(client.name, std::move(access));
  }
}

const ClientAccess* AccessPolicy::ByPublicKey(std::string_view public_key) const {
  auto it = by_public_key_.find(std::string(public_key));
  return it == by_public_key_.end() ? nullptr : it->second.get();
}

const ClientAccess* AccessPolicy::ByName(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

Status AccessPolicy::Authorize(const ClientAccess& client, const std::string& binding, Rights needed,
                               std::string_view method) {
  const Rights held = client.On(binding);
  if ((held & needed) == needed) return Status::Ok();
  if (held == 0) {
    // The same whether or not the binding exists: a key learns nothing of bindings it may not use.
    return Status::PermissionDenied("key '" + client.name + "' may not use binding " + names::Quote(binding));
  }
  return Status::PermissionDenied("key '" + client.name + "' may not " + RightName(FirstMissing(held, needed)) +
                                  " binding " + names::Quote(binding) + " (" + std::string(method) + " needs " +
                                  RightsNames(needed) + ")");
}

}  // namespace cloudkit
