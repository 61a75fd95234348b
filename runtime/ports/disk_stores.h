// The native OrderedStore and BlobStore ports: the blocking SQLite and file
// stores run on DiskWorkers, and every answer comes back to the asking actor
// as a message (core/async.h). NativeStoragePort hands these out.
//
// - LaneOrderedStore: a SqliteOrderedStore on a lane of its own (one thread),
//   so its calls run in the order they were made. Writes asked for while a
//   commit is under way wait for it and then commit together, in one SQLite
//   transaction (group commit). The WAL is synced on a second thread: the
//   lane goes on with reads and the next commit meanwhile, and every commit
//   made during one sync shares the next. A write is answered only once a
//   sync after its commit is done (the answers keep the writes' order), so an
//   acknowledged write is durable; a read may see a committed write whose
//   sync is still under way (as readers of Redis with appendfsync always do).
//   A read waits for the writes asked for before it, not for later ones, nor
//   for any sync. On a full disk the deletes of a group that failed are
//   committed by themselves, so that they can use the store's reserve.
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
  // A write committed (or refused), waiting for the sync that makes it durable.
  struct CommittedWrite {
    Completion<Status> done;
    std::shared_ptr<Executor> executor;
    Status status;
  };
  // On the lane: commits the writes pending now, as one group.
  void CommitPending();
  // On the lane, after `group` failed for want of space: commits its deletes
  // by themselves (they may use the store's reserve); the rest fail.
  std::vector<Status> CommitDeletesAlone(const std::vector<PendingWrite>& group, const Status& full);
  // On the sync thread: syncs the WAL once for every write committed so far, then answers them.
  void SyncCommitted();

  std::shared_ptr<SqliteOrderedStore> store_;
  std::mutex mutex_;
  std::vector<PendingWrite> pending_;      // guarded by mutex_
  bool commit_queued_ = false;             // guarded by mutex_: a CommitPending is queued, its group not yet taken
  std::vector<CommittedWrite> committed_;  // guarded by mutex_
  bool sync_queued_ = false;               // guarded by mutex_: a SyncCommitted is queued, its writes not yet taken
  DiskWorkers sync_thread_;                // stopped after the lane, whose last commits it syncs
  DiskWorkers lane_;                       // last: stopped (its jobs run out) before the rest goes
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
