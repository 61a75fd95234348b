// NativeStoragePort: the native Storage port. A location is a directory path;
// it is created on first use (mode 0700) and holds
//   <location>/meta.db   the OrderedStore (SqliteOrderedStore)
//   <location>/blobs/    the BlobStore (FileBlobStore)
// Opening the same location again, also after a restart, gives the same data.
#pragma once

#include <memory>
#include <string>

#include "ports/storage.h"

namespace cloudkit {

class NativeStoragePort : public ports::StoragePort {
 public:
  Result<std::unique_ptr<ports::OrderedStore>> OpenOrderedStore(const std::string& location) override;
  Result<std::unique_ptr<ports::BlobStore>> OpenBlobStore(const std::string& location) override;
};

}  // namespace cloudkit
