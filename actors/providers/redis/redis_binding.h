// The `redis` provider's side of the registry (providers/registry): its
// registration, its options, and the binding it makes of them: a
// RedisKeyValue on a connection from the host's Redis connector. The options
// are those a `redis://host:port/db` URL gives (providers/binding_url) and a
// few more.
#pragma once

#include <vector>

#include "core/status.h"
#include "providers/registry.h"

namespace cloudkit::redis {

std::vector<OptionDoc> RedisOptionDocs();

// FAILED_PRECONDITION when the host has no Redis connector (the browser);
// INVALID_ARGUMENT naming an option whose value is malformed.
Result<BindingInstance> CreateRedisBinding(const BindingConfig& config, const HostPorts& ports);

// Registers `redis` (natively only: the browser host leaves it out).
void RegisterRedisProvider(ProviderRegistry* registry);

}  // namespace cloudkit::redis
