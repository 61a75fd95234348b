#include "providers/azure/blob_storage.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "core/base64.h"
#include "providers/aws/sigv4.h"
#include "providers/azure/blob_properties.h"
#include "providers/azure/blob_upload.h"
#include "providers/azure/blob_xml.h"
#include "providers/remote/bounded_parallel.h"
#include "providers/remote/http_errors.h"
#include "providers/remote/ranged_download.h"
#include "providers/remote/timestamps.h"

namespace cloudkit::azure {
namespace {

// Azure Blob reads a backslash in a blob name as '/' ("a\b" is the blob
// "a/b"): a put of one would overwrite the other. Such keys are refused.
Status CheckBlobKey(std::string_view key) {
  CK_RETURN_IF_ERROR(names::CheckObjectKey(key));
  if (key.find('\\') != std::string_view::npos) {
    return Status::InvalidArgument("object key " + names::Quote(key) +
                                   " has a '\\', which Azure Blob reads as '/'");
  }
  return Status::Ok();
}

using ports::HttpHeaders;
using remote::HeaderValue;

constexpr size_t kMaxPageSize = 1000;
constexpr int kMaxDeleteKeys = 1000;
constexpr size_t kParallelDeletes = 16;
constexpr int64_t kCopyPollMs = 200;
constexpr char kTokenTag[] = "ck1:";

// "name=value&..." with values percent-encoded; empty values left out.
std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string query;
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    if (!query.empty()) query += '&';
    query += name + "=" + aws::UriEncode(value, false);
  }
  return query;
}

std::string ListQuery(const std::string& prefix, const std::string& delimiter, size_t max_results,
                      const std::string& marker) {
  std::vector<std::pair<std::string, std::string>> params;
  params.emplace_back("restype", "container");
  params.emplace_back("comp", "list");
  params.emplace_back("prefix", prefix);
  params.emplace_back("delimiter", delimiter);
  params.emplace_back("maxresults", max_results == 0 ? std::string() : std::to_string(max_results));
  params.emplace_back("marker", marker);
  return Query(params);
}

// Continuation tokens name the listing they continue (bucket, prefix and
// delimiter), so that one from another listing is refused rather than misread.
std::string ListingTag(ports::HashPort& hash, const v1::ListObjectsRequest& req) {
  auto sha = hash.NewSha256();
  sha->Update(req.bucket());
  sha->Update(std::string_view("\0", 1));
  sha->Update(req.prefix());
  sha->Update(std::string_view("\0", 1));
  sha->Update(req.delimiter());
  return sha->FinishHex().substr(0, 16);
}

}  // namespace

AzureBlobStorage::AzureBlobStorage(std::string binding, BlobLocation location, const remote::RemoteOptions& options,
                                   const HostPorts& ports)
    : binding_(binding) {
  SharedKey key = location.key;
  blob_ = std::make_shared<BlobContext>(
      std::move(location),
      AzureClient(std::move(binding), std::move(key), SignedService::kBlob, options, ports.http, ports.clock,
                  ports.sleep, ports.hash),
      ports.sleep);
}

std::string AzureBlobStorage::NewUploadNonce() {
  auto sha = blob_->client.hash->NewSha256();
  sha->Update(binding_);
  sha->Update(std::to_string(blob_->client.clock->NowMs()) + "/" + std::to_string(++uploads_) + "/" +
              std::to_string(reinterpret_cast<uintptr_t>(this)));
  return sha->FinishHex().substr(0, 16);
}

Task<Status> AzureBlobStorage::EnsureContainer(int64_t deadline) {
  if (!blob_->location.create_container || container_ensured_) co_return Status::Ok();
  const std::string what = "the binding's container " + names::Quote(blob_->location.container);
  Result<remote::HttpAnswer> created = co_await blob_->client.http.Fetch(
      deadline, blob_->client.Request("PUT", blob_->location.ContainerUrl("restype=container")), blob_->Errors(what));
  if (!created.ok() && created.status().code() != v1::ALREADY_EXISTS) co_return created.status();
  container_ensured_ = true;
  co_return Status::Ok();
}

Task<Status> AzureBlobStorage::RequireBucket(const std::string& bucket, int64_t deadline) {
  CK_CO_RETURN_IF_ERROR(co_await EnsureContainer(deadline));
  Result<ports::HttpResponse> marker = co_await blob_->client.http.Send(
      deadline, blob_->client.Request("HEAD", blob_->location.BlobUrl(blob_->location.MarkerName(bucket))),
      blob_->Errors(DescribeBucket(bucket)));
  co_return marker.ok() ? Status::Ok() : marker.status();
}

Task<Status> AzureBlobStorage::NotFound(const std::string& bucket, const std::string& key, int64_t deadline) {
  Status has_bucket = co_await RequireBucket(bucket, deadline);
  co_return has_bucket.ok() ? Status::NotFound(DescribeObject(bucket, key)) : has_bucket;
}

Task<Result<AzureBlobStorage::Head>> AzureBlobStorage::HeadOf(const std::string& bucket, const std::string& key,
                                                             int64_t deadline) {
  CK_CO_RETURN_IF_ERROR(co_await EnsureContainer(deadline));
  Result<ports::HttpResponse> head = co_await blob_->client.http.Send(
      deadline, blob_->client.Request("HEAD", blob_->location.BlobUrl(blob_->location.BlobName(bucket, key))),
      blob_->Errors(DescribeObject(bucket, key)));
  if (!head.ok()) {
    if (head.status().code() == v1::NOT_FOUND) co_return co_await NotFound(bucket, key, deadline);
    co_return head.status();
  }
  co_return Head{InfoFromHeaders(bucket, key, head->headers), std::string(HeaderValue(head->headers, "etag"))};
}

Task<Result<v1::CreateBucketResponse>> AzureBlobStorage::CreateBucket(const v1::CreateBucketRequest& req) {
  const int64_t deadline = blob_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(co_await EnsureContainer(deadline));
  const std::string what = DescribeBucket(req.bucket());
  // If-None-Match: * makes creation atomic, also across hosts.
  HttpHeaders headers;
  headers.emplace_back("x-ms-blob-type", "BlockBlob");
  headers.emplace_back("if-none-match", "*");
  Result<remote::HttpAnswer> put = co_await blob_->client.http.Fetch(
      deadline,
      blob_->client.Request("PUT", blob_->location.BlobUrl(blob_->location.MarkerName(req.bucket())),
                            std::move(headers)),
      blob_->Errors(what));
  if (!put.ok()) {
    if (put.status().code() == v1::FAILED_PRECONDITION &&
        put.status().message().find("already exists") != std::string::npos) {
      co_return Status::AlreadyExists(what);
    }
    co_return put.status();
  }
  v1::CreateBucketResponse response;
  response.mutable_bucket()->set_name(req.bucket());
  response.mutable_bucket()->set_created_ms(
      remote::ParseHttpDate(HeaderValue(put->headers, "last-modified")).value_or(blob_->client.clock->NowMs()));
  co_return response;
}

Task<Result<v1::DeleteBucketResponse>> AzureBlobStorage::DeleteBucket(const v1::DeleteBucketRequest& req) {
  const int64_t deadline = blob_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  auto held = buckets_.Acquire({{req.bucket(), true}});
  co_await held->Granted();
  const std::string what = DescribeBucket(req.bucket());
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));
  const std::string query = ListQuery(blob_->location.BucketPrefix(req.bucket()), "", 1, "");
  Result<remote::HttpAnswer> listed = co_await blob_->client.http.Fetch(
      deadline, blob_->client.Request("GET", blob_->location.ContainerUrl(query)), blob_->Errors(what));
  if (!listed.ok()) co_return listed.status();
  Result<BlobListing> listing = ParseBlobListing(listed->body);
  if (!listing.ok()) co_return listing.status();
  if (!listing->blobs.empty()) co_return Status::FailedPrecondition(what + " is not empty");
  Result<remote::HttpAnswer> removed = co_await blob_->client.http.Fetch(
      deadline, blob_->client.Request("DELETE", blob_->location.BlobUrl(blob_->location.MarkerName(req.bucket()))),
      blob_->Errors(what));
  if (!removed.ok()) co_return removed.status();
  co_return v1::DeleteBucketResponse();
}

Task<Result<v1::ListBucketsResponse>> AzureBlobStorage::ListBuckets(const v1::ListBucketsRequest& req) {
  const int64_t deadline = blob_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(co_await EnsureContainer(deadline));
  v1::ListBucketsResponse response;
  const std::string markers = blob_->location.MarkersPrefix();
  std::string marker;
  do {
    const std::string query = ListQuery(markers, "", 0, marker);
    Result<remote::HttpAnswer> listed = co_await blob_->client.http.Fetch(
        deadline, blob_->client.Request("GET", blob_->location.ContainerUrl(query)),
        blob_->Errors("the buckets of binding " + names::Quote(binding_)));
    if (!listed.ok()) co_return listed.status();
    Result<BlobListing> listing = ParseBlobListing(listed->body);
    if (!listing.ok()) co_return listing.status();
    for (const ListedBlob& blob : listing->blobs) {
      if (blob.name.size() <= markers.size()) continue;
      v1::Bucket* bucket = response.add_buckets();
      bucket->set_name(blob.name.substr(markers.size()));
      bucket->set_created_ms(blob.last_modified_ms);
    }
    marker = std::move(listing->next_marker);
  } while (!marker.empty());
  co_return response;
}

Task<Result<v1::BucketExistsResponse>> AzureBlobStorage::BucketExists(const v1::BucketExistsRequest& req) {
  const int64_t deadline = blob_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  Status exists = co_await RequireBucket(req.bucket(), deadline);
  if (!exists.ok() && exists.code() != v1::NOT_FOUND) co_return exists;
  v1::BucketExistsResponse response;
  response.set_exists(exists.ok());
  co_return response;
}

Task<Result<std::unique_ptr<ObjectUpload>>> AzureBlobStorage::BeginPut(const v1::PutObjectRequest& req) {
  const int64_t deadline = blob_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(CheckBlobKey(req.key()));
  CK_CO_RETURN_IF_ERROR(CheckMetadata(req.metadata()));
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));
  std::string azure_if_match;
  if (req.if_none_match() || !req.if_match().empty()) {
    // Fail early rather than after the body; the final write is conditional
    // again, atomically.
    Result<Head> current = co_await HeadOf(req.bucket(), req.key(), deadline);
    if (!current.ok() && current.status().code() != v1::NOT_FOUND) co_return current.status();
    const std::string what = DescribeObject(req.bucket(), req.key());
    if (req.if_none_match() && current.ok()) co_return Status::FailedPrecondition(what + " already exists");
    if (!req.if_match().empty()) {
      if (!current.ok()) {
        co_return Status::FailedPrecondition(what + " does not exist (if-match " + req.if_match() + ")");
      }
      if (!EtagMatches(req.if_match(), current->info.etag())) {
        co_return Status::FailedPrecondition(what + " has ETag " + current->info.etag() + ", not " + req.if_match());
      }
      // The version whose content has that MD5: the write must replace it and no other.
      azure_if_match = req.if_match() == "*" ? "*" : current->azure_etag;
    }
  }
  co_return NewBlobUpload(blob_, req, std::move(azure_if_match), NewUploadNonce(), deadline);
}

Task<Result<std::unique_ptr<ObjectDownload>>> AzureBlobStorage::BeginGet(const v1::GetObjectRequest& req,
                                                                         v1::GetObjectResponse* head) {
  const int64_t deadline = blob_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(CheckBlobKey(req.key()));
  CK_CO_RETURN_IF_ERROR(co_await EnsureContainer(deadline));
  const std::string what = DescribeObject(req.bucket(), req.key());
  HttpHeaders headers;
  const remote::RequestedRange asked = remote::RangeOf(req);
  if (asked.ranged) headers.emplace_back("x-ms-range", remote::RangeHeader(asked));
  const std::string url = blob_->location.BlobUrl(blob_->location.BlobName(req.bucket(), req.key()));
  Result<ports::HttpResponse> got = co_await blob_->client.http.Send(
      deadline, blob_->client.Request("GET", url, std::move(headers)), blob_->Errors(what), true);
  remote::BodySlice slice;
  if (!got.ok()) {
    if (got.status().code() == v1::NOT_FOUND) co_return co_await NotFound(req.bucket(), req.key(), deadline);
    if (got.status().code() == v1::INVALID_ARGUMENT && req.has_range()) {
      // Azure refuses a range that starts at the end; the API gives it empty.
      Result<Head> current = co_await HeadOf(req.bucket(), req.key(), deadline);
      if (!current.ok()) co_return current.status();
      Result<remote::BodySlice> empty =
          remote::SliceOfRefusedRange(req.range_start(), current->info.size(), got.status(), what);
      if (!empty.ok()) co_return empty.status();
      got = ports::HttpResponse{200, {}, nullptr};
      slice = *empty;
      *head->mutable_object() = current->info;
    } else {
      co_return got.status();
    }
  } else {
    Result<remote::BodySlice> answered = remote::SliceOfAnswer(got->status, got->headers, asked, what);
    if (!answered.ok()) co_return answered.status();
    slice = *answered;
    *head->mutable_object() = InfoFromHeaders(req.bucket(), req.key(), got->headers);
    head->mutable_object()->set_size(slice.object_size);
  }
  head->set_range_start(slice.range_start);
  head->set_content_length(slice.length);
  // The conditions, on the version this answer carries.
  const std::string& etag = head->object().etag();
  if (!req.if_match().empty() && !EtagMatches(req.if_match(), etag)) {
    co_return Status::FailedPrecondition(what + " has ETag " + etag + ", not " + req.if_match());
  }
  if (!req.if_none_match().empty() && EtagMatches(req.if_none_match(), etag)) {
    co_return Status::FailedPrecondition(what + " still has ETag " + etag);
  }
  co_return remote::NewSlicedDownload(std::move(got->body), slice, what);
}

Task<Result<v1::HeadObjectResponse>> AzureBlobStorage::HeadObject(const v1::HeadObjectRequest& req) {
  const int64_t deadline = blob_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(CheckBlobKey(req.key()));
  Result<Head> head = co_await HeadOf(req.bucket(), req.key(), deadline);
  if (!head.ok()) co_return head.status();
  v1::HeadObjectResponse response;
  *response.mutable_object() = std::move(head->info);
  co_return response;
}

Task<Result<v1::DeleteObjectResponse>> AzureBlobStorage::DeleteObject(const v1::DeleteObjectRequest& req) {
  const int64_t deadline = blob_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(CheckBlobKey(req.key()));
  const std::string what = DescribeObject(req.bucket(), req.key());
  HttpHeaders headers;
  if (!req.if_match().empty()) {
    Result<Head> current = co_await HeadOf(req.bucket(), req.key(), deadline);
    if (!current.ok()) co_return current.status();  // NOT_FOUND naming the object or its bucket
    if (!EtagMatches(req.if_match(), current->info.etag())) {
      co_return Status::FailedPrecondition(what + " has ETag " + current->info.etag() + ", not " + req.if_match());
    }
    headers.emplace_back("if-match", current->azure_etag);
  } else {
    CK_CO_RETURN_IF_ERROR(co_await EnsureContainer(deadline));
  }
  v1::DeleteObjectResponse response;
  const std::string url = blob_->location.BlobUrl(blob_->location.BlobName(req.bucket(), req.key()));
  Result<remote::HttpAnswer> removed = co_await blob_->client.http.Fetch(
      deadline, blob_->client.Request("DELETE", url, std::move(headers)), blob_->Errors(what));
  if (!removed.ok()) {
    if (removed.status().code() != v1::NOT_FOUND) co_return removed.status();
    // Gone already (or just now, under a condition): NOT_FOUND when asked
    // conditionally, else a success that says so, if the bucket exists.
    if (!req.if_match().empty()) co_return co_await NotFound(req.bucket(), req.key(), deadline);
    CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));
    co_return response;
  }
  response.set_existed(true);
  co_return response;
}

Task<Result<v1::DeleteObjectsResponse>> AzureBlobStorage::DeleteObjects(const v1::DeleteObjectsRequest& req) {
  const int64_t deadline = blob_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  if (req.keys_size() > kMaxDeleteKeys) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxDeleteKeys) + " keys per DeleteObjects");
  }
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));
  v1::DeleteObjectsResponse response;
  std::vector<v1::DeleteError> invalid;
  std::vector<std::string> keys;
  std::set<std::string> seen;
  for (const std::string& key : req.keys()) {
    Status valid = CheckBlobKey(key);
    if (!valid.ok()) {
      v1::DeleteError& error = invalid.emplace_back();
      error.set_key(key);
      valid.ToProto(error.mutable_status());
      continue;
    }
    if (seen.insert(key).second) keys.push_back(key);
  }
  // One DELETE per key, concurrently; a missing key counts as deleted.
  auto outcomes = std::make_shared<std::vector<Status>>(keys.size());
  std::shared_ptr<BlobContext> blob = blob_;
  const std::string bucket = req.bucket();
  // Built apart from the co_await: g++ 12 mishandles such a temporary in one.
  std::function<Task<void>(size_t)> remove = [blob, bucket, keys, outcomes, deadline](size_t i) -> Task<void> {
    const std::string url = blob->location.BlobUrl(blob->location.BlobName(bucket, keys[i]));
    Result<remote::HttpAnswer> removed = co_await blob->client.http.Fetch(
        deadline, blob->client.Request("DELETE", url), blob->Errors(DescribeObject(bucket, keys[i])));
    (*outcomes)[i] = removed.ok() || removed.status().code() == v1::NOT_FOUND ? Status::Ok() : removed.status();
  };
  co_await remote::RunBounded(keys.size(), kParallelDeletes, std::move(remove));
  for (size_t i = 0; i < keys.size(); ++i) {  // in the order asked
    if ((*outcomes)[i].ok()) {
      response.add_deleted(keys[i]);
    } else {
      v1::DeleteError* error = response.add_errors();
      error->set_key(keys[i]);
      (*outcomes)[i].ToProto(error->mutable_status());
    }
  }
  // Errors found before asking Azure (invalid keys) come after.
  for (v1::DeleteError& error : invalid) *response.add_errors() = std::move(error);
  co_return response;
}

Task<Status> AzureBlobStorage::AwaitCopy(const std::string& name, const std::string& what, int64_t deadline) {
  while (true) {
    if (blob_->client.clock->NowMs() >= deadline) {
      co_return Status::DeadlineExceeded("copying to " + what + " is still pending");
    }
    bool slept = co_await blob_->sleep->Sleep(kCopyPollMs);
    (void)slept;
    Result<ports::HttpResponse> head = co_await blob_->client.http.Send(
        deadline, blob_->client.Request("HEAD", blob_->location.BlobUrl(name)), blob_->Errors(what));
    if (!head.ok()) co_return head.status();
    const std::string_view status = HeaderValue(head->headers, "x-ms-copy-status");
    if (status == "success") co_return Status::Ok();
    if (status != "pending") {
      co_return Status::Unavailable("copying to " + what + " ended " + std::string(status) + ": " +
                                    remote::OneLine(HeaderValue(head->headers, "x-ms-copy-status-description")));
    }
  }
}

Task<Result<v1::CopyObjectResponse>> AzureBlobStorage::CopyObject(const v1::CopyObjectRequest& req) {
  const int64_t deadline = blob_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.source_bucket()));
  CK_CO_RETURN_IF_ERROR(CheckBlobKey(req.source_key()));
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(CheckBlobKey(req.key()));
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));
  const std::string source = DescribeObject(req.source_bucket(), req.source_key());
  const std::string destination = DescribeObject(req.bucket(), req.key());
  HttpHeaders headers;
  headers.emplace_back("x-ms-copy-source",
                       blob_->location.BlobUrl(blob_->location.BlobName(req.source_bucket(), req.source_key())));
  if (!req.if_match().empty()) {
    Result<Head> current = co_await HeadOf(req.source_bucket(), req.source_key(), deadline);
    if (!current.ok()) co_return current.status();
    if (!EtagMatches(req.if_match(), current->info.etag())) {
      co_return Status::FailedPrecondition(source + " has ETag " + current->info.etag() + ", not " + req.if_match());
    }
    headers.emplace_back("x-ms-source-if-match", current->azure_etag);
  }
  const std::string name = blob_->location.BlobName(req.bucket(), req.key());
  Result<remote::HttpAnswer> copied = co_await blob_->client.http.Fetch(
      deadline, blob_->client.Request("PUT", blob_->location.BlobUrl(name), std::move(headers)),
      blob_->Errors(source));
  if (!copied.ok()) {
    if (copied.status().code() == v1::NOT_FOUND) {
      co_return co_await NotFound(req.source_bucket(), req.source_key(), deadline);
    }
    co_return copied.status();
  }
  if (HeaderValue(copied->headers, "x-ms-copy-status") == "pending") {
    CK_CO_RETURN_IF_ERROR(co_await AwaitCopy(name, destination, deadline));
  }
  // The copy's size, type, MD5 and metadata are its source's: read them from it.
  Result<Head> head = co_await HeadOf(req.bucket(), req.key(), deadline);
  if (!head.ok()) co_return head.status();
  v1::CopyObjectResponse response;
  *response.mutable_object() = std::move(head->info);
  co_return response;
}

Task<Result<v1::ListObjectsResponse>> AzureBlobStorage::ListObjects(const v1::ListObjectsRequest& req) {
  const int64_t deadline = blob_->client.http.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  const size_t page = req.page_size() == 0 ? kMaxPageSize : std::min<size_t>(req.page_size(), kMaxPageSize);
  const std::string tag = ListingTag(*blob_->client.hash, req);
  std::string marker;
  if (!req.continuation_token().empty()) {
    std::optional<std::string> decoded = Base64Decode(req.continuation_token());
    const std::string expected = std::string(kTokenTag) + tag + ":";
    if (!decoded || decoded->compare(0, expected.size(), expected) != 0 || decoded->size() == expected.size()) {
      co_return Status::InvalidArgument("continuation token does not belong to this listing of bucket " +
                                        names::Quote(req.bucket()));
    }
    marker = decoded->substr(expected.size());
  }
  CK_CO_RETURN_IF_ERROR(co_await EnsureContainer(deadline));
  const std::string bucket_prefix = blob_->location.BucketPrefix(req.bucket());
  const std::string query = ListQuery(bucket_prefix + req.prefix(), req.delimiter(), page, marker);
  Result<remote::HttpAnswer> listed =
      co_await blob_->client.http.Fetch(deadline, blob_->client.Request("GET", blob_->location.ContainerUrl(query)),
                                        blob_->Errors("objects in bucket " + names::Quote(req.bucket())));
  if (!listed.ok()) co_return listed.status();
  Result<BlobListing> listing = ParseBlobListing(listed->body);
  if (!listing.ok()) co_return listing.status();
  if (listing->blobs.empty() && listing->prefixes.empty() && marker.empty()) {
    CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));  // empty, or missing?
  }
  v1::ListObjectsResponse response;
  for (ListedBlob& blob : listing->blobs) {
    v1::ObjectInfo* info = response.add_objects();
    info->set_bucket(req.bucket());
    info->set_key(blob.name.substr(bucket_prefix.size()));
    info->set_size(blob.size);
    info->set_etag(ApiEtag(blob.content_md5, blob.etag));
    info->set_last_modified_ms(blob.last_modified_ms);
    info->set_content_type(std::move(blob.content_type));
  }
  for (const std::string& prefix : listing->prefixes) response.add_common_prefixes(prefix.substr(bucket_prefix.size()));
  if (!listing->next_marker.empty()) {
    response.set_next_continuation_token(Base64Encode(std::string(kTokenTag) + tag + ":" + listing->next_marker));
  }
  co_return response;
}

Task<Result<v1::PresignObjectResponse>> AzureBlobStorage::PresignObject(const v1::PresignObjectRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(CheckBlobKey(req.key()));
  const std::string method = req.method().empty() ? "GET" : req.method();
  if (method != "GET" && method != "PUT") {
    co_return Status::InvalidArgument("presigned URLs are for GET or PUT, not " + names::Quote(method));
  }
  const uint32_t expires = req.expires_seconds() == 0 ? 3600 : req.expires_seconds();
  if (expires > 604800) co_return Status::InvalidArgument("a presigned URL lasts at most 604800 s (7 days)");
  const int64_t now = blob_->client.clock->NowMs();
  if (blob_->location.key.key.empty()) {
    co_return Status::FailedPrecondition("presigned URLs need the storage account's key: the binding has a SAS "
                                         "token only");
  }
  BlobSas sas;
  sas.container = blob_->location.container;
  sas.blob = blob_->location.BlobName(req.bucket(), req.key());
  sas.permissions = method == "GET" ? "r" : "cw";
  sas.expiry_ms = (now / 1000 + expires) * 1000;  // SAS times are whole seconds
  v1::PresignObjectResponse response;
  response.set_url(blob_->location.BlobUrl(sas.blob, BlobSasQuery(sas, blob_->location.key, *blob_->client.hash)));
  response.set_method(method);
  response.set_expires_ms(sas.expiry_ms);
  co_return response;
}

}  // namespace cloudkit::azure
