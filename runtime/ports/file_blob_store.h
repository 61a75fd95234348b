// FileBlobStore: the blocking store behind the native BlobStore port
// (runtime/ports/disk_stores runs its calls on the disk workers), one file per blob under a
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
// open on the same directory (its writes may be in flight); SweepUnfinished removes those no
// writer of the store is using, again only for a store that had the directory alone when it
// opened. List lists committed blobs for sweeps of those no record names.
//
// REQUIRES: one user at a time per store, writer and reader. Writers and
// readers do not refer to the store object and may outlive it.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>
#include <string>
#include <string_view>
#include <cstdint>
#include <utility>

#include "core/status.h"
#include "ports/blob_store.h"

namespace cloudkit {

// Receives a new blob's content. Nothing is visible until Commit.
class FileBlobWriter {
 public:
  virtual ~FileBlobWriter() = default;
  virtual Status Append(std::string_view chunk) = 0;
  // Makes the blob durable and returns its id. The writer is spent afterwards.
  virtual Result<std::string> Commit() = 0;
  // Discards the content. Also what the destructor does when not committed.
  virtual void Abort() = 0;
};

// Reads a committed blob; safe to use from several threads at once (pread).
class FileBlobReader {
 public:
  virtual ~FileBlobReader() = default;
  virtual uint64_t size() const = 0;
  // Reads up to `max_bytes` starting at `offset`; an empty result means end.
  virtual Result<std::string> Read(uint64_t offset, size_t max_bytes) = 0;
};

class FileBlobStore {
 public:
  // Opens the store in `dir`, creating `dir` (mode 0700) and `dir`/tmp if
  // needed. (Not `Open`: that name is BlobStore's, for reading a blob.)
  static Result<std::unique_ptr<FileBlobStore>> OpenDirectory(const std::string& dir);
  ~FileBlobStore();
  FileBlobStore(const FileBlobStore&) = delete;
  FileBlobStore& operator=(const FileBlobStore&) = delete;

  Result<std::unique_ptr<FileBlobWriter>> Create();
  // NOT_FOUND when no blob has that id.
  Result<std::unique_ptr<FileBlobReader>> Open(const std::string& blob_id);
  // Removing a missing blob is OK.
  Status Remove(const std::string& blob_id);
  // A new, committed blob with the content of `blob_id`, copied in the
  // kernel (copy_file_range) rather than through user space.
  Result<std::string> Copy(const std::string& blob_id);

  // Up to `limit` committed blobs with ids greater than `after`, in id order;
  // one call reads at most one of the 256 subdirectories.
  Result<std::vector<ports::ListedBlob>> List(const std::string& after, size_t limit);
  // Removes tmp/*.part no writer of this store has open, and answers what it
  // removed, together with what opening the store removed (once).
  Result<ports::SweptUploads> SweepUnfinished();

  // True for ids this store can have made: 32 characters of [0-9a-f].
  static bool IsValidId(std::string_view blob_id);

  const std::string& dir() const { return dir_; }

  // The names of tmp/*.part files that writers of this store have open
  // (shared with the writers, which outlive the store).
  struct OpenParts {
    std::mutex mutex;
    std::unordered_set<std::string> names;  // guarded by mutex
  };

 private:
  FileBlobStore(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}
  Status CheckId(const std::string& blob_id) const;
  std::string PathOf(const std::string& blob_id) const;

  std::string dir_;
  int lock_fd_;
  bool alone_at_open_ = false;  // no other store had the directory open: leftovers are a crash's
  ports::SweptUploads swept_at_open_;
  std::shared_ptr<OpenParts> open_parts_ = std::make_shared<OpenParts>();
};

}  // namespace cloudkit
