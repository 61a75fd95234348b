// The `azure` provider of ObjectStorage: Azure Blob (or Azurite) over the
// host's HTTP port, signed with Shared Key, within the binding's resilience
// (providers/remote). Where its data lives: azure_location.h; how objects
// map onto blobs (ETags, metadata): blob_properties.h; uploads: blob_upload.h.
//
// Downloads stream the HTTP response as the client takes it. Conditions are
// Azure's to keep atomically: If-None-Match: * and If-Match on the final write
// of a put, If-Match on a delete, x-ms-source-if-match on a copy; a read's
// condition is checked on the answer's own MD5. Bucket creation is atomic
// (If-None-Match: * on the marker); deletion is atomic among this binding's
// calls. A copy within the account is Azure's Copy Blob (polled while it is
// pending); deleting many objects deletes them one by one, concurrently.
// PresignObject gives a service SAS URL (a PUT through it must carry
// x-ms-blob-type: BlockBlob, Azure's rule).
//
// Azure names blobs of at most 1024 characters: the binding's prefix and the
// bucket's name count against an object key's 1024 bytes (Azure refuses
// longer ones, INVALID_ARGUMENT; Azurite does not check).
#pragma once

#include <memory>
#include <string>

#include "core/key_locks.h"
#include "providers/azure/blob_context.h"
#include "providers/registry.h"
#include "services/object_storage_provider.h"

namespace cloudkit::azure {

class AzureBlobStorage : public ObjectStorageProvider {
 public:
  AzureBlobStorage(std::string binding, BlobLocation location, const remote::RemoteOptions& options,
                   const HostPorts& ports);

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
  Task<Result<v1::PresignObjectResponse>> PresignObject(const v1::PresignObjectRequest& req) override;

 private:
  // A blob's description and the Azure ETag that version has.
  struct Head {
    v1::ObjectInfo info;
    std::string azure_etag;
  };
  // With create_container, creates the container the first time (a no-op
  // when it exists).
  Task<Status> EnsureContainer(int64_t deadline);
  // OK when API bucket `bucket` exists; NOT_FOUND naming it otherwise.
  Task<Status> RequireBucket(const std::string& bucket, int64_t deadline);
  // The object's head; NOT_FOUND naming the object, or its bucket when that
  // is what is missing.
  Task<Result<Head>> HeadOf(const std::string& bucket, const std::string& key, int64_t deadline);
  // NOT_FOUND for `bucket`/`key`: the object's, or the bucket's when it is missing.
  Task<Status> NotFound(const std::string& bucket, const std::string& key, int64_t deadline);
  // Waits until a pending copy to blob `name` ends; its outcome.
  Task<Status> AwaitCopy(const std::string& name, const std::string& what, int64_t deadline);
  // Unique per upload: block ids start with it.
  std::string NewUploadNonce();

  std::string binding_;
  std::shared_ptr<BlobContext> blob_;
  bool container_ensured_ = false;
  uint64_t uploads_ = 0;
  // Deleting a bucket checks then removes its marker: one at a time per
  // bucket among this binding's calls.
  KeyLocks buckets_;
};

}  // namespace cloudkit::azure
