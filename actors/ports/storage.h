// Storage port: where an embedded provider gets its OrderedStore and BlobStore.
// The host decides what a location means: a directory on disk natively, a
// database name in the browser, a fresh map for the memory provider.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "ports/blob_store.h"
#include "ports/ordered_store.h"

namespace cloudkit::ports {

class StoragePort {
 public:
  virtual ~StoragePort() = default;
  // `location` names a store; opening the same location again (also after a
  // restart, for durable ports) gives back the same data.
  virtual Result<std::unique_ptr<OrderedStore>> OpenOrderedStore(const std::string& location) = 0;
  virtual Result<std::unique_ptr<BlobStore>> OpenBlobStore(const std::string& location) = 0;
};

}  // namespace cloudkit::ports
