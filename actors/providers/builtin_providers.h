// Every provider this project has, for hosts that serve them all (cloudkitd,
// the tests): `memory`, `local`, `redis`, `s3`, `dynamodb` and `azure`. A host
// that serves fewer registers those one by one (the browser's worker core
// does), so that the others stay out of its binary.
#pragma once

#include "providers/registry.h"

namespace cloudkit {

void RegisterBuiltinProviders(ProviderRegistry* registry);

}  // namespace cloudkit
