#include "ports/native_storage.h"

#include "ports/disk_stores.h"
#include "ports/file_blob_store.h"
#include "ports/posix_fs.h"
#include "ports/sqlite_ordered_store.h"

namespace cloudkit {
namespace {

constexpr mode_t kLocationMode = 0700;

Status PrepareLocation(const std::string& location) {
  if (location.empty()) return Status::InvalidArgument("empty storage location");
  return posix_fs::MakeDirs(location, kLocationMode);
}

}  // namespace

Result<std::unique_ptr<ports::OrderedStore>> NativeStoragePort::OpenOrderedStore(
    const std::string& location) {
  CK_RETURN_IF_ERROR(PrepareLocation(location));
  SqliteOrderedStoreOptions options;
  options.sync_each_commit = false;  // LaneOrderedStore syncs off its lane
  auto store = SqliteOrderedStore::Open(location + "/meta.db", options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<ports::OrderedStore>(std::make_unique<LaneOrderedStore>(std::move(*store)));
}

Result<std::unique_ptr<ports::BlobStore>> NativeStoragePort::OpenBlobStore(
    const std::string& location) {
  CK_RETURN_IF_ERROR(PrepareLocation(location));
  auto store = FileBlobStore::OpenDirectory(location + "/blobs");
  if (!store.ok()) return store.status();
  return std::unique_ptr<ports::BlobStore>(std::make_unique<PooledBlobStore>(std::move(*store), &disk_workers_));
}

}  // namespace cloudkit
