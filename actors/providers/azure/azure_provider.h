// The `azure` provider: Azure Storage, one binding per blob container and/or
// table. It serves ObjectStorage on Azure Blob (blob_storage.h) when the
// binding names a `container`, KeyValue on Azure Table (table_key_value.h)
// when it names a `table`, or both. Credentials: account_name and
// account_key, or a connection_string (Azurite's included).
#pragma once

#include "providers/registry.h"

namespace cloudkit::azure {

// Registers `azure`.
void RegisterAzureProvider(ProviderRegistry* registry);

}  // namespace cloudkit::azure
