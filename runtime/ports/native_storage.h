// NativeStoragePort: the native Storage port. A location is a directory path;
// it is created on first use (mode 0700) and holds
//   <location>/meta.db   the OrderedStore (SqliteOrderedStore on a lane of its own)
//   <location>/blobs/    the BlobStore (FileBlobStore on the shared disk workers)
// Opening the same location again, also after a restart, gives the same data.
// The port owns the disk workers: it must outlive every store it opens.
#pragma once

#include <memory>
#include <string>

#include "ports/disk_workers.h"
#include "ports/storage.h"

namespace cloudkit {

class NativeStoragePort : public ports::StoragePort {
 public:
  static constexpr size_t kDefaultDiskWorkers = 4;
    // Blob work (copies, large writes) runs a little below normal priority.
  static constexpr int kDiskWorkersNice = 10;
  explicit NativeStoragePort(size_t disk_workers = kDefaultDiskWorkers)
      : disk_workers_(disk_workers, kDiskWorkersNice) {}

  Result<std::unique_ptr<ports::OrderedStore>> OpenOrderedStore(const std::string& location) override;
  Result<std::unique_ptr<ports::BlobStore>> OpenBlobStore(const std::string& location) override;

 private:
  DiskWorkers disk_workers_;
};

}  // namespace cloudkit
