// The native OrderedStore and BlobStore ports: the blocking SQLite and file
// stores run on DiskWorkers, and every answer comes back to the asking actor
// as a message (core/async.h). NativeStoragePort hands these out.
//
// - LaneOrderedStore: a SqliteOrderedStore on a lane of its own (one thread),
//   so its calls run in the order they were made. Writes asked for while a
//   commit is under way wait for it and then commit together, in one SQLite
//   transaction and one sync (group commit); each is answered only once that
//   sync is done. Reads asked for during a commit run before that next group:
//   a read waits for the writes asked for before it, not for later ones. On
//   a full disk the deletes of a group that failed are committed by
//   themselves, so that they can use the store's reserve.
// - PooledBlobStore: a FileBlobStore whose writes, reads, commits (fsync) and
//   removals run on the shared pool: a long copy or upload occupies one
//   worker at a time, never the actor.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "ports/blob_store.h"
#include "ports/disk_workers.h"
#include "ports/file_blob_store.h"
#include "ports/ordered_store.h"
#include "ports/sqlite_ordered_store.h"

namespace cloudkit {

class LaneOrderedStore : public ports::OrderedStore {
 public:
  explicit LaneOrderedStore(std::unique_ptr<SqliteOrderedStore> store);
  ~LaneOrderedStore() override;

  Async<Result<std::string>> Get(const std::string& key) override;
  Async<Result<Entries>> Scan(const std::string& start, const std::string& end, size_t limit) override;
  Async<Status> Write(ports::WriteBatch batch) override;

 private:
  struct PendingWrite {
    ports::WriteBatch batch;
    Completion<Status> done;
    std::shared_ptr<Executor> executor;
  };
  // On the lane: commits every pending write, group by group, until none is left.
  void CommitPending();
  // On the lane, after `group` failed for want of space: commits its deletes
  // by themselves (they may use the store's reserve); the rest fail.
  void CommitDeletesAlone(std::vector<PendingWrite>& group, const Status& full);

  std::shared_ptr<SqliteOrderedStore> store_;
  std::mutex mutex_;
  std::vector<PendingWrite> pending_;  // guarded by mutex_
  bool commit_queued_ = false;         // guarded by mutex_: a CommitPending is queued, its group not yet taken
  DiskWorkers lane_;                   // last: stopped (its jobs run out) before the rest goes
};

class PooledBlobStore : public ports::BlobStore {
 public:
  // `pool` must outlive the store and every writer and reader it hands out.
  PooledBlobStore(std::unique_ptr<FileBlobStore> store, DiskWorkers* pool);

  Async<Result<std::unique_ptr<ports::BlobWriter>>> Create() override;
  Async<Result<std::unique_ptr<ports::BlobReader>>> Open(const std::string& blob_id) override;
  Async<Status> Remove(const std::string& blob_id) override;
  Async<Result<std::string>> Copy(const std::string& blob_id) override;
  Async<Result<std::vector<ports::ListedBlob>>> List(const std::string& after, size_t limit) override;
  Async<Result<ports::SweptUploads>> SweepUnfinished() override;

 private:
  std::shared_ptr<FileBlobStore> store_;
  DiskWorkers* pool_;
};

}  // namespace cloudkit
