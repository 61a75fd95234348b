// ObjectStorageClient: typed calls of the cloudkit.v1.ObjectStorage service.
// Every rpc has a blocking form returning Result<Response> and an ...Async
// form returning std::future<Result<Response>>; the status is the daemon's
// (or UNAVAILABLE / DEADLINE_EXCEEDED naming the endpoint when it could not
// answer). PutObject and GetObject stream bodies of any size in chunks under
// the protocol's credit flow control, in constant memory; their async forms
// run the transfer on a thread of their own. Obtain one from Client::storage().
#pragma once

#include <future>
#include <iosfwd>

#include "cloudkit/v1/object_storage.pb.h"
#include "client/client_options.h"

namespace cloudkit {

namespace client_internal {
class Caller;
}

class ObjectStorageClient {
 public:
  explicit ObjectStorageClient(client_internal::Caller& caller) : caller_(caller) {}

  using CreateBucketResult = Result<v1::CreateBucketResponse>;
  using DeleteBucketResult = Result<v1::DeleteBucketResponse>;
  using ListBucketsResult = Result<v1::ListBucketsResponse>;
  using BucketExistsResult = Result<v1::BucketExistsResponse>;
  using PutObjectResult = Result<v1::PutObjectResponse>;
  using GetObjectResult = Result<v1::GetObjectResponse>;
  using HeadObjectResult = Result<v1::HeadObjectResponse>;
  using DeleteObjectResult = Result<v1::DeleteObjectResponse>;
  using DeleteObjectsResult = Result<v1::DeleteObjectsResponse>;
  using CopyObjectResult = Result<v1::CopyObjectResponse>;
  using ListObjectsResult = Result<v1::ListObjectsResponse>;
  using PresignObjectResult = Result<v1::PresignObjectResponse>;

  // ---- buckets --------------------------------------------------------------
  CreateBucketResult CreateBucket(const v1::CreateBucketRequest& request, const CallOptions& options = {});
  std::future<CreateBucketResult> CreateBucketAsync(const v1::CreateBucketRequest& request,
                                                    const CallOptions& options = {});
  DeleteBucketResult DeleteBucket(const v1::DeleteBucketRequest& request, const CallOptions& options = {});
  std::future<DeleteBucketResult> DeleteBucketAsync(const v1::DeleteBucketRequest& request,
                                                    const CallOptions& options = {});
  ListBucketsResult ListBuckets(const v1::ListBucketsRequest& request = {}, const CallOptions& options = {});
  std::future<ListBucketsResult> ListBucketsAsync(const v1::ListBucketsRequest& request = {},
                                                  const CallOptions& options = {});
  BucketExistsResult BucketExists(const v1::BucketExistsRequest& request, const CallOptions& options = {});
  std::future<BucketExistsResult> BucketExistsAsync(const v1::BucketExistsRequest& request,
                                                    const CallOptions& options = {});

  // ---- object uploads -----------------------------------------------------
  // `request.data()` is the whole body: up to one chunk goes inline in the
  // REQUEST, a larger body streams from memory.
  PutObjectResult PutObject(const v1::PutObjectRequest& request, const TransferOptions& options = {});
  std::future<PutObjectResult> PutObjectAsync(const v1::PutObjectRequest& request, const TransferOptions& options = {});
  // Streams the body from `source` (`request.data()` and `more_data` are
  // ignored). A body that fits in one chunk still goes inline.
  PutObjectResult PutObject(const v1::PutObjectRequest& request, const ByteSource& source,
                            const TransferOptions& options = {});
  PutObjectResult PutObject(const v1::PutObjectRequest& request, std::istream& in, const TransferOptions& options = {});
  PutObjectResult PutObjectFromFd(const v1::PutObjectRequest& request, int fd, const TransferOptions& options = {});
  // `source` must stay valid until the future is ready.
  std::future<PutObjectResult> PutObjectAsync(const v1::PutObjectRequest& request, ByteSource source,
                                              const TransferOptions& options = {});

  // ---- object downloads ---------------------------------------------------
  // The whole body in the response's `data` (memory grows with the object:
  // for small objects; use a sink for large ones).
  GetObjectResult GetObject(const v1::GetObjectRequest& request, const TransferOptions& options = {});
  std::future<GetObjectResult> GetObjectAsync(const v1::GetObjectRequest& request, const TransferOptions& options = {});
  // Streams the body into `sink` and returns the response without `data`.
  GetObjectResult GetObject(const v1::GetObjectRequest& request, const ByteSink& sink,
                            const TransferOptions& options = {});
  GetObjectResult GetObject(const v1::GetObjectRequest& request, std::ostream& out, const TransferOptions& options = {});
  GetObjectResult GetObjectToFd(const v1::GetObjectRequest& request, int fd, const TransferOptions& options = {});
  // `sink` must stay valid until the future is ready.
  std::future<GetObjectResult> GetObjectAsync(const v1::GetObjectRequest& request, ByteSink sink,
                                              const TransferOptions& options = {});

  // ---- other object calls -------------------------------------------------
  HeadObjectResult HeadObject(const v1::HeadObjectRequest& request, const CallOptions& options = {});
  std::future<HeadObjectResult> HeadObjectAsync(const v1::HeadObjectRequest& request, const CallOptions& options = {});
  DeleteObjectResult DeleteObject(const v1::DeleteObjectRequest& request, const CallOptions& options = {});
  std::future<DeleteObjectResult> DeleteObjectAsync(const v1::DeleteObjectRequest& request,
                                                    const CallOptions& options = {});
  DeleteObjectsResult DeleteObjects(const v1::DeleteObjectsRequest& request, const CallOptions& options = {});
  std::future<DeleteObjectsResult> DeleteObjectsAsync(const v1::DeleteObjectsRequest& request,
                                                      const CallOptions& options = {});
  CopyObjectResult CopyObject(const v1::CopyObjectRequest& request, const CallOptions& options = {});
  std::future<CopyObjectResult> CopyObjectAsync(const v1::CopyObjectRequest& request, const CallOptions& options = {});
  // One page; pass next_continuation_token back for the next.
  ListObjectsResult ListObjects(const v1::ListObjectsRequest& request, const CallOptions& options = {});
  std::future<ListObjectsResult> ListObjectsAsync(const v1::ListObjectsRequest& request,
                                                  const CallOptions& options = {});
  // A URL that lets its holder GET or PUT one object at the provider directly
  // (UNIMPLEMENTED on providers without one).
  PresignObjectResult PresignObject(const v1::PresignObjectRequest& request, const CallOptions& options = {});
  std::future<PresignObjectResult> PresignObjectAsync(const v1::PresignObjectRequest& request,
                                                      const CallOptions& options = {});

  static constexpr char kService[] = "cloudkit.v1.ObjectStorage/";

 private:
  client_internal::Caller& caller_;
};

}  // namespace cloudkit
