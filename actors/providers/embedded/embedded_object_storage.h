// The ObjectStorage provider behind `memory` and `local`: bucket and object
// records in an OrderedStore, object bodies in a BlobStore. Which stores (maps in
// memory, or SQLite plus files) is the host's choice; the semantics are the same.
//
// A put streams into a new blob and becomes visible only when its record is
// written, after the blob is durable; the replaced blob is removed afterwards.
// A crash in between can leave an orphan blob, never a record without content.
// Every write expects the records it checked (ports/ordered_store.h), so its
// checks hold also against other stores open on the same location (tabs).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cloudkit/store/v1/records.pb.h"
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
};

}  // namespace cloudkit::embedded
