// The `memory` and `local` providers' side of the registry (providers/registry):
// both serve object storage, key-value, queues and secrets with the embedded providers,
// on maps in memory (`memory`) or on the host's durable storage (`local`: files
// and SQLite natively, IndexedDB in the browser; secrets sealed at rest with
// the host's Sealer port).
#pragma once

#include "providers/registry.h"

namespace cloudkit::embedded {

// Registers `memory`.
void RegisterMemoryProvider(ProviderRegistry* registry);
// Registers `local`; a binding fails FAILED_PRECONDITION on a host without
// durable storage.
void RegisterLocalProvider(ProviderRegistry* registry);

// The directory of a `local` binding: its `path` option (relative ones from
// the binding's base_dir), else <data_dir>/<name>. Empty when neither is known.
std::string LocalBindingPath(const BindingConfig& config, const std::string& data_dir);

}  // namespace cloudkit::embedded
