// The providers a page can use, registered one by one: `memory`, `local`
// (on IndexedDB), and those of remote services reached over fetch, `s3` and
// `azure`. `redis` (a page opens no TCP connections) and `dynamodb` are left
// out, so the linker leaves their code out of the .wasm; a binding naming
// them fails as an unknown provider, the message listing those registered.
#pragma once

#include "providers/registry.h"

namespace cloudkit::web {

void RegisterBrowserProviders(ProviderRegistry* registry);

}  // namespace cloudkit::web
