// What a provider implements to serve the ObjectStorage service. The service
// actor (services/object_storage_actor) turns frames into these calls and
// handles streaming and flow control; a provider only knows its backend.
// Every method is a coroutine (core/task.h) that waits on the provider's
// ports without blocking its actor, and returns a Status naming the
// bucket/object on failure. Calls may overlap: the actor starts one per
// request, in the order their keys allow (docs/protocol.md, "Ordering").
//
// REQUIRES: called from the turns of one actor.
#pragma once

#include <memory>
#include <string>

#include "cloudkit/v1/object_storage.pb.h"
#include "core/status.h"
#include "core/task.h"
#include "services/service_provider.h"

namespace cloudkit {

// An upload in progress. Destroying it without Finish abandons the upload.
class ObjectUpload {
 public:
  virtual ~ObjectUpload() = default;
  virtual Task<Status> Append(std::string chunk) = 0;
  // Applies the preconditions again, then publishes the object atomically.
  virtual Task<Result<v1::PutObjectResponse>> Finish() = 0;
};

// A download in progress: the selected byte range, read front to back.
class ObjectDownload {
 public:
  virtual ~ObjectDownload() = default;
  // Up to max_bytes of the next content; empty once everything was read.
  virtual Task<Result<std::string>> Next(size_t max_bytes) = 0;
};

class ObjectStorageProvider : public ServiceProvider {
 public:
  virtual Task<Result<v1::CreateBucketResponse>> CreateBucket(const v1::CreateBucketRequest& req) = 0;
  virtual Task<Result<v1::DeleteBucketResponse>> DeleteBucket(const v1::DeleteBucketRequest& req) = 0;
  virtual Task<Result<v1::ListBucketsResponse>> ListBuckets(const v1::ListBucketsRequest& req) = 0;
  virtual Task<Result<v1::BucketExistsResponse>> BucketExists(const v1::BucketExistsRequest& req) = 0;

  // Checks the bucket, key and preconditions, then returns a sink for the body.
  // req.data is NOT consumed here: the caller appends it like any other chunk.
  virtual Task<Result<std::unique_ptr<ObjectUpload>>> BeginPut(const v1::PutObjectRequest& req) = 0;
  // Fills head->object, range_start and content_length; the body comes from
  // the returned download.
  virtual Task<Result<std::unique_ptr<ObjectDownload>>> BeginGet(const v1::GetObjectRequest& req,
                                                           v1::GetObjectResponse* head) = 0;

  virtual Task<Result<v1::HeadObjectResponse>> HeadObject(const v1::HeadObjectRequest& req) = 0;
  virtual Task<Result<v1::DeleteObjectResponse>> DeleteObject(const v1::DeleteObjectRequest& req) = 0;
  virtual Task<Result<v1::DeleteObjectsResponse>> DeleteObjects(const v1::DeleteObjectsRequest& req) = 0;
  virtual Task<Result<v1::CopyObjectResponse>> CopyObject(const v1::CopyObjectRequest& req) = 0;
  virtual Task<Result<v1::ListObjectsResponse>> ListObjects(const v1::ListObjectsRequest& req) = 0;
  // Providers whose service has presigned URLs override this.
  virtual Task<Result<v1::PresignObjectResponse>> PresignObject(const v1::PresignObjectRequest& req) {
    co_return Status::Unimplemented("presigned URLs: this binding's provider has none");
  }

  // Providers that keep what a crash can leave behind (blobs without a
  // record, unfinished uploads) sweep it: the actor runs Sweep when it starts
  // and then every sweep_interval_ms (0: never). A pass goes in steps that
  // each await the ports, so calls go on meanwhile.
  virtual int64_t sweep_interval_ms() const { return 0; }
  virtual Task<void> Sweep() { co_return; }
  // A new actor serves the provider (at start, or after its previous one
  // failed): what the previous one's operations had under way will never end.
  virtual void ServedAfresh() {}
};

}  // namespace cloudkit
