#include "ports/disk_stores.h"

#include <algorithm>
#include <utility>

namespace cloudkit {
namespace {

// Runs `work` on `workers` and answers the calling actor with its result.
template <typename T, typename Work>
Async<T> OnDisk(DiskWorkers& workers, Work work) {
  const std::shared_ptr<Executor>& executor = CurrentExecutor();
  if (!executor) return Async<T>::Ready(Status::Internal("storage port called outside an actor's turn"));
  Completion<T> done;
  workers.Run([done, executor, work = std::move(work)]() mutable { done.PostTo(*executor, work()); });
  return done.async();
}

class PooledBlobWriter : public ports::BlobWriter {
 public:
  PooledBlobWriter(std::shared_ptr<FileBlobWriter> writer, DiskWorkers* pool)
      : writer_(std::move(writer)), pool_(pool) {}
  ~PooledBlobWriter() override { Abort(); }

  Async<Status> Append(std::string chunk) override {
    return OnDisk<Status>(*pool_, [writer = writer_, chunk = std::move(chunk)] { return writer->Append(chunk); });
  }
  Async<Result<std::string>> Commit() override {
    auto writer = std::exchange(writer_, nullptr);
    if (!writer) return Async<Result<std::string>>::Ready(Status::FailedPrecondition("blob writer already finished"));
    return OnDisk<Result<std::string>>(*pool_, [writer] { return writer->Commit(); });
  }
  void Abort() override {
    // Removing the temp file is disk work too: off the actor.
    if (auto writer = std::exchange(writer_, nullptr)) pool_->Run([writer] { writer->Abort(); });
  }

 private:
  std::shared_ptr<FileBlobWriter> writer_;
  DiskWorkers* pool_;
};

class PooledBlobReader : public ports::BlobReader {
 public:
  PooledBlobReader(std::shared_ptr<FileBlobReader> reader, DiskWorkers* pool)
      : reader_(std::move(reader)), pool_(pool), size_(reader_->size()) {}

  uint64_t size() const override { return size_; }
  Async<Result<std::string>> Read(uint64_t offset, size_t max_bytes) override {
    return OnDisk<Result<std::string>>(*pool_, [reader = reader_, offset, max_bytes] {
      return reader->Read(offset, max_bytes);
    });
  }

 private:
  std::shared_ptr<FileBlobReader> reader_;
  DiskWorkers* pool_;
  uint64_t size_;
};

}  // namespace

LaneOrderedStore::LaneOrderedStore(std::unique_ptr<SqliteOrderedStore> store)
    : store_(std::move(store)), sync_thread_(1), lane_(1) {}

LaneOrderedStore::~LaneOrderedStore() = default;

Async<Result<std::string>> LaneOrderedStore::Get(const std::string& key) {
  return OnDisk<Result<std::string>>(lane_, [store = store_, key] { return store->Get(key); });
}

Async<Result<ports::OrderedStore::Entries>> LaneOrderedStore::Scan(const std::string& start, const std::string& end,
                                                                   size_t limit) {
  return OnDisk<Result<Entries>>(lane_, [store = store_, start, end, limit]() -> Result<Entries> {
    Entries out;
    CK_RETURN_IF_ERROR(store->Scan(start, end, limit, &out));
    return out;
  });
}

Async<Status> LaneOrderedStore::Write(ports::WriteBatch batch) {
  const std::shared_ptr<Executor>& executor = CurrentExecutor();
  if (!executor) return Async<Status>::Ready(Status::Internal("storage port called outside an actor's turn"));
  Completion<Status> done;
  bool queue_commit;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back({std::move(batch), done, executor});
    queue_commit = !std::exchange(commit_queued_, true);
  }
  if (queue_commit) lane_.Run([this] { CommitPending(); });
  return done.async();
}

// One group per lane job. Writes asked for while it commits wait for the next
// job, queued behind the reads asked for meanwhile: a read waits for the
// writes asked for before it, never for a stream of later ones.
void LaneOrderedStore::CommitPending() {
  std::vector<PendingWrite> group;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    group.swap(pending_);
    commit_queued_ = false;
  }
  if (group.empty()) return;
  std::vector<const ports::WriteBatch*> batches;
  batches.reserve(group.size());
  for (const PendingWrite& write : group) batches.push_back(&write.batch);
  std::vector<Status> committed = store_->WriteAll(batches);
  // A failure of the whole commit is every batch's answer (ABORTED ones are skipped alone).
  if (committed.front().code() == v1::RESOURCE_EXHAUSTED) committed = CommitDeletesAlone(group, committed.front());
  // Every answer goes through the sync thread, failures too, so that answers keep the writes' order.
  bool queue_sync;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < group.size(); ++i) {
      committed_.push_back({std::move(group[i].done), std::move(group[i].executor), std::move(committed[i])});
    }
    queue_sync = !std::exchange(sync_queued_, true);
  }
  if (queue_sync) sync_thread_.Run([this] { SyncCommitted(); });
}

std::vector<Status> LaneOrderedStore::CommitDeletesAlone(const std::vector<PendingWrite>& group, const Status& full) {
  std::vector<const ports::WriteBatch*> deletes;
  for (const PendingWrite& write : group) {
    if (SqliteOrderedStore::OnlyDeletes(write.batch)) deletes.push_back(&write.batch);
  }
  // All of them were deletes: the store has tried them with its reserve already.
  std::vector<Status> deleted;
  if (deletes.size() < group.size() && !deletes.empty()) deleted = store_->WriteAll(deletes);
  std::vector<Status> answers;
  answers.reserve(group.size());
  size_t next = 0;
  for (const PendingWrite& write : group) {
    const bool alone = SqliteOrderedStore::OnlyDeletes(write.batch) && !deleted.empty();
    answers.push_back(alone ? deleted[next++] : full);
  }
  return answers;
}

void LaneOrderedStore::SyncCommitted() {
  std::vector<CommittedWrite> writes;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    writes.swap(committed_);
    sync_queued_ = false;
  }
  const bool any_committed =
      std::any_of(writes.begin(), writes.end(), [](const CommittedWrite& write) { return write.status.ok(); });
  // A failed sync leaves the outcome of those writes unknown: they are in
  // the WAL, perhaps not on disk. They fail (INTERNAL, naming the file).
  const Status synced = any_committed ? store_->SyncWal() : Status::Ok();
  for (CommittedWrite& write : writes) {
    write.done.PostTo(*write.executor, write.status.ok() ? synced : std::move(write.status));
  }
}

PooledBlobStore::PooledBlobStore(std::unique_ptr<FileBlobStore> store, DiskWorkers* pool)
    : store_(std::move(store)), pool_(pool) {}

Async<Result<std::unique_ptr<ports::BlobWriter>>> PooledBlobStore::Create() {
  using Created = Result<std::unique_ptr<ports::BlobWriter>>;
  return OnDisk<Created>(*pool_, [store = store_, pool = pool_]() -> Created {
    Result<std::unique_ptr<FileBlobWriter>> writer = store->Create();
    if (!writer.ok()) return writer.status();
    return std::unique_ptr<ports::BlobWriter>(
        std::make_unique<PooledBlobWriter>(std::shared_ptr<FileBlobWriter>(std::move(*writer)), pool));
  });
}

Async<Result<std::unique_ptr<ports::BlobReader>>> PooledBlobStore::Open(const std::string& blob_id) {
  using Opened = Result<std::unique_ptr<ports::BlobReader>>;
  return OnDisk<Opened>(*pool_, [store = store_, pool = pool_, blob_id]() -> Opened {
    Result<std::unique_ptr<FileBlobReader>> reader = store->Open(blob_id);
    if (!reader.ok()) return reader.status();
    return std::unique_ptr<ports::BlobReader>(
        std::make_unique<PooledBlobReader>(std::shared_ptr<FileBlobReader>(std::move(*reader)), pool));
  });
}

Async<Result<std::string>> PooledBlobStore::Copy(const std::string& blob_id) {
  return OnDisk<Result<std::string>>(*pool_, [store = store_, blob_id] { return store->Copy(blob_id); });
}

Async<Result<std::vector<ports::ListedBlob>>> PooledBlobStore::List(const std::string& after, size_t limit) {
  return OnDisk<Result<std::vector<ports::ListedBlob>>>(*pool_,
                                                       [store = store_, after, limit] { return store->List(after, limit); });
}

Async<Result<ports::SweptUploads>> PooledBlobStore::SweepUnfinished() {
  return OnDisk<Result<ports::SweptUploads>>(*pool_, [store = store_] { return store->SweepUnfinished(); });
}

Async<Status> PooledBlobStore::Remove(const std::string& blob_id) {
  return OnDisk<Status>(*pool_, [store = store_, blob_id] { return store->Remove(blob_id); });
}

}  // namespace cloudkit
