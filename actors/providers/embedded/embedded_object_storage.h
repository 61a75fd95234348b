// The ObjectStorage provider behind `memory` and `local`: bucket and object
// records in an OrderedStore, object bodies in a BlobStore. Which stores (maps in
// memory, or SQLite plus files) is the host's choice; the semantics are the same.
//
// A put streams into a new blob and becomes visible only when its record is
// written, after the blob is durable; the replaced blob is removed afterwards.
// A crash in between can leave an orphan blob, never a record without content;
// sweeps remove those and the uploads a crash left unfinished
// (embedded_object_sweep.cc). Every write expects the records it checked
// (ports/ordered_store.h), so its checks hold also against other stores open
// on the same location (tabs).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "cloudkit/store/v1/records.pb.h"
#include "core/coro.h"
#include "core/key_locks.h"
#include "ports/blob_store.h"
#include "core/task.h"
#include "ports/clock.h"
#include "ports/hash.h"
#include "ports/ordered_store.h"
#include "services/object_storage_provider.h"

namespace cloudkit::embedded {

class EmbeddedObjectStorage : public ObjectStorageProvider {
 public:
  EmbeddedObjectStorage(std::unique_ptr<ports::OrderedStore> records,
                        std::unique_ptr<ports::BlobStore> blobs, ports::Clock* clock,
                        ports::HashPort* hash);

  Task<Result<v1::CreateBucketResponse>> CreateBucket(const v1::CreateBucketRequest& req) override;
  Task<Result<v1::DeleteBucketResponse>> DeleteBucket(const v1::DeleteBucketRequest& req) override;
  Task<Result<v1::ListBucketsResponse>> ListBuckets(const v1::ListBucketsRequest& req) override;
  Task<Result<v1::BucketExistsResponse>> BucketExists(const v1::BucketExistsRequest& req) override;
  Task<Result<std::unique_ptr<ObjectUpload>>> BeginPut(const v1::PutObjectRequest& req) override;
  Task<Result<std::unique_ptr<ObjectDownload>>> BeginGet(const v1::GetObjectRequest& req,
                                                   v1::GetObjectResponse* head) override;
  Task<Result<v1::HeadObjectResponse>> HeadObject(const v1::HeadObjectRequest& req) override;
  Task<Result<v1::DeleteObjectResponse>> DeleteObject(const v1::DeleteObjectRequest& req) override;
  Task<Result<v1::DeleteObjectsResponse>> DeleteObjects(const v1::DeleteObjectsRequest& req) override;
  Task<Result<v1::CopyObjectResponse>> CopyObject(const v1::CopyObjectRequest& req) override;
  Task<Result<v1::ListObjectsResponse>> ListObjects(const v1::ListObjectsRequest& req) override;

  // What an upload needs to publish itself (used by the upload class).
  struct PendingObject {
    std::string bucket, key, content_type, if_match;
    bool if_none_match = false;
    std::map<std::string, std::string> metadata;
  };
  // Checks the bucket and preconditions again (they may have changed while
  // the body streamed in), then writes the record; removes the blob it
  // replaces, or `blob_id` itself on failure.
  Task<Result<v1::ObjectInfo>> Publish(const PendingObject& pending, std::string blob_id, uint64_t size,
                                       std::string etag);
  ports::BlobStore& blobs() { return *blobs_; }

  static constexpr int64_t kSweepIntervalMs = 3'600'000;
  int64_t sweep_interval_ms() const override { return kSweepIntervalMs; }
  Task<void> Sweep() override;
  void ServedAfresh() override;
  bool ReportUpkeep(v1::StorageUpkeep* upkeep) const override;

  // Around every commit of a new blob (an upload's, a copy's): from its
  // start until Publish has written or dropped the record naming it, a sweep
  // leaves the blob alone.
  uint64_t CommitStarts();
  void CommitEnded(uint64_t commit, const Result<std::string>& blob_id);

 private:
  // Removes a blob nothing names any more (best effort).
  Task<void> DiscardBlob(const std::string& blob_id);
  // NOT_FOUND unless the bucket exists; its record as stored into *record.
  Task<Status> RequireBucket(const std::string& bucket, std::string* record = nullptr);
  // nullopt when the object does not exist; the record as stored (what a
  // write relying on it expects) into *stored.
  Task<Result<std::optional<store::v1::ObjectRecord>>> LoadObject(const std::string& bucket,
                                                            const std::string& key,
                                                            std::optional<std::string>* stored = nullptr);
  Status CheckPutPreconditions(const PendingObject& pending,
                               const std::optional<store::v1::ObjectRecord>& current);

  std::unique_ptr<ports::OrderedStore> records_;
  std::unique_ptr<ports::BlobStore> blobs_;
  ports::Clock* clock_;
  ports::HashPort* hash_;
  // Calls overlap: a step that reads, checks and writes records holds them
  // (an object exclusively and its bucket shared; a bucket exclusively to
  // create or delete it), so that no other call of this provider writes in
  // between; writes expecting what they read keep out everyone else's.
  KeyLocks writing_;

  // Sweeps (embedded_object_sweep.cc).
  static constexpr size_t kSweepBatch = 65'536;  // blobs judged per scan of the records
  // A blob written more recently is left for a later pass: another store on
  // the same directory (two bindings sharing a path) may be about to name it.
  static constexpr int64_t kOrphanAgeMs = 600'000;
  // Waits until no commit started before `commit` is under way.
  struct CommitsBefore {
    EmbeddedObjectStorage* storage;
    uint64_t commit;
    bool await_ready() const { return storage->committing_.empty() || *storage->committing_.begin() >= commit; }
    void await_suspend(coro::coroutine_handle<> sweep) { storage->sweep_waiting_ = {commit, sweep}; }
    void await_resume() const {}
  };
  Task<Status> SweepOrphans();
  // Removes from `candidates` every blob an object record names.
  Task<Status> DropNamed(std::unordered_map<std::string, ports::ListedBlob>* candidates);
  bool Protected(const std::string& blob_id) const;

  uint64_t next_commit_ = 1;
  std::set<uint64_t> committing_;
  std::unordered_set<std::string> unpublished_;  // committed blobs whose record is not written yet
  bool sweeping_ = false;
  std::unordered_set<std::string> committed_while_sweeping_;
  std::pair<uint64_t, coro::coroutine_handle<>> sweep_waiting_{0, nullptr};
  struct Swept {
    std::atomic<bool> blobs_listed{false};  // the blob store lists blobs: sweeps mean something
    std::atomic<uint64_t> passes{0}, orphan_blobs{0}, orphan_blob_bytes{0}, partial_uploads{0},
        partial_upload_bytes{0}, last_pass_ms{0};
  } swept_;
};

}  // namespace cloudkit::embedded
