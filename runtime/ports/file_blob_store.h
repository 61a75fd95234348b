// FileBlobStore: the native BlobStore port, one file per blob under a
// directory:
//
//   <dir>/.lock           flock: shared while a store is open on <dir>
//   <dir>/tmp/<r>.part     content being written (Create .. Commit)
//   <dir>/<2 hex>/<id>     committed blobs; id = 128 random bits as 32 hex chars
//
// Commit fsyncs the file, renames it into place and fsyncs the destination
// directory, so a committed blob survives kill -9 and power loss. Ids are
// checked (32 lower-case hex characters) before any path is built from them,
// so no id can name a file outside the directory.
//
// Opening a store (OpenDirectory) removes tmp/*.part left by a crash, unless another store is
// open on the same directory (its writes may be in flight).
//
// REQUIRES: one user at a time per store, writer and reader. Writers and
// readers do not refer to the store object and may outlive it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"
#include "ports/blob_store.h"

namespace cloudkit {

class FileBlobStore : public ports::BlobStore {
 public:
  // Opens the store in `dir`, creating `dir` (mode 0700) and `dir`/tmp if
  // needed. (Not `Open`: that name is BlobStore's, for reading a blob.)
  static Result<std::unique_ptr<FileBlobStore>> OpenDirectory(const std::string& dir);
  ~FileBlobStore() override;
  FileBlobStore(const FileBlobStore&) = delete;
  FileBlobStore& operator=(const FileBlobStore&) = delete;

  Result<std::unique_ptr<ports::BlobWriter>> Create() override;
  Result<std::unique_ptr<ports::BlobReader>> Open(const std::string& blob_id) override;
  Status Remove(const std::string& blob_id) override;

  // True for ids this store can have made: 32 characters of [0-9a-f].
  static bool IsValidId(std::string_view blob_id);

  const std::string& dir() const { return dir_; }

 private:
  FileBlobStore(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}
  Status CheckId(const std::string& blob_id) const;
  std::string PathOf(const std::string& blob_id) const;

  std::string dir_;
  int lock_fd_;
};

}  // namespace cloudkit
