// The `s3` provider of ObjectStorage: AWS S3 or any S3-compatible service,
// over the host's HTTP port, signed with Signature V4, within the binding's
// resilience (providers/remote). Where its data lives: s3_location.h.
//
// Bodies stream both ways: a download reads the HTTP response as the client
// takes it; an upload is sent in one PUT when it fits in one part, else as a
// multipart upload whose parts (part_size_mb each) go out `parallel_parts`
// at a time while the client's next chunks come in, so an upload holds at
// most (parallel_parts + 1) parts in memory.
//
// Conditional writes (If-Match, If-None-Match on PUT, on completing a
// multipart upload, and If-Match on DELETE) are the service's to keep
// atomically; a binding with conditional_writes=false (an S3-compatible
// service without them) answers such requests UNIMPLEMENTED rather than
// check and write in two steps. Bucket creation and deletion are atomic
// among this binding's calls; across hosts, creation is atomic only with
// conditional writes.
#pragma once

#include <memory>
#include <string>

#include "core/key_locks.h"
#include "providers/registry.h"
#include "providers/remote/http_service.h"
#include "providers/s3/s3_location.h"
#include "services/object_storage_provider.h"

namespace cloudkit::s3 {

// What the provider and its uploads share (an abandoned multipart upload is
// aborted after its upload object is gone).
struct S3Context {
  S3Location location;
  remote::HttpService service;
  ports::Clock* clock;
  ports::HashPort* hash;

  // The request of one try: signed at the time it is built.
  remote::HttpService::MakeRequest Request(std::string method, std::string url, ports::HttpHeaders headers = {},
                                           std::string body = {}, bool sign_body = true);
};

// The status for an S3 refusal of a request about `what`.
Status MapS3Error(int http_status, const ports::HttpHeaders& headers, std::string_view body, const std::string& what);

class S3ObjectStorage : public ObjectStorageProvider {
 public:
  S3ObjectStorage(std::string binding, S3Location location, const remote::RemoteOptions& options,
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
  std::vector<std::string> Unsupported() const override;

 private:
  // OK when API bucket `bucket` exists; NOT_FOUND naming it otherwise.
  Task<Status> RequireBucket(const std::string& bucket, int64_t deadline);
  // The object's metadata (a HEAD); NOT_FOUND naming the object, or its
  // bucket when that is what is missing.
  Task<Result<v1::ObjectInfo>> Head(const std::string& bucket, const std::string& key, int64_t deadline);
  // NOT_FOUND for `bucket`/`key`: the object's, or the bucket's when it is missing.
  Task<Status> NotFound(const std::string& bucket, const std::string& key, int64_t deadline);

  std::string binding_;
  std::shared_ptr<S3Context> s3_;
  // Creating or deleting a bucket checks then writes its marker: one at a
  // time per bucket among this binding's calls.
  KeyLocks buckets_;
};

// Registers `s3`.
void RegisterS3Provider(ProviderRegistry* registry);

}  // namespace cloudkit::s3
