#include "providers/s3/s3_object_storage.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "core/base64.h"
#include "core/hex.h"
#include "providers/aws/request_signer.h"
#include "providers/names.h"
#include "providers/remote/http_errors.h"
#include "providers/remote/ranged_download.h"
#include "providers/remote/timestamps.h"
#include "providers/s3/s3_xml.h"
#include "providers/resilience/concurrency_limit.h"

namespace cloudkit::s3 {
namespace {

using ports::HttpHeaders;
using remote::HeaderValue;

constexpr size_t kMaxPageSize = 1000;
constexpr int kMaxDeleteKeys = 1000;
constexpr char kMetaPrefix[] = "x-amz-meta-";
constexpr char kTokenTag[] = "ck1:";

std::string Describe(const std::string& bucket, const std::string& key) {
  return "object " + names::Quote(key) + " in bucket " + names::Quote(bucket);
}
std::string DescribeBucket(const std::string& bucket) { return "bucket " + names::Quote(bucket); }

uint64_t ToUnsigned(std::string_view text) {
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string Md5Base64(ports::HashPort& hash, std::string_view data) {
  auto md5 = hash.NewMd5();
  md5->Update(data);
  const std::string hex = md5->FinishHex();
  std::string raw;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) raw += static_cast<char>(HexDigit(hex[i]) * 16 + HexDigit(hex[i + 1]));
  return Base64Encode(raw);
}

// S3 takes metadata as headers: printable ASCII only, and names are
// case-insensitive (it answers them in lower case).
Status CheckMetadata(const google::protobuf::Map<std::string, std::string>& metadata) {
  auto printable = [](std::string_view text, bool name) {
    for (char c : text) {
      if (c < 0x20 || c > 0x7e) return false;
      if (name && (c == ' ' || c == ':' || c == '(' || c == ')' || c == ',' || c == ';' || c == '"')) return false;
    }
    return true;
  };
  for (const auto& [name, value] : metadata) {
    if (name.empty() || !printable(name, true)) {
      return Status::InvalidArgument("metadata name " + names::Quote(name) +
                                     ": S3 takes names of printable ASCII without separators");
    }
    if (!printable(value, false)) {
      return Status::InvalidArgument("metadata " + names::Quote(name) + ": S3 takes values of printable ASCII");
    }
  }
  return Status::Ok();
}

void AddObjectHeaders(const v1::PutObjectRequest& req, HttpHeaders* headers) {
  headers->emplace_back("content-type", req.content_type().empty() ? "application/octet-stream" : req.content_type());
  for (const auto& [name, value] : req.metadata()) headers->emplace_back(kMetaPrefix + name, value);
}

// The object as S3's headers describe it (a HEAD, or a GET's first answer).
v1::ObjectInfo InfoFromHeaders(const std::string& bucket, const std::string& key, const HttpHeaders& headers) {
  v1::ObjectInfo info;
  info.set_bucket(bucket);
  info.set_key(key);
  info.set_size(ToUnsigned(HeaderValue(headers, "content-length")));  // a GET sets the whole size from its slice
  info.set_etag(std::string(HeaderValue(headers, "etag")));
  info.set_last_modified_ms(remote::ParseHttpDate(HeaderValue(headers, "last-modified")).value_or(0));
  info.set_content_type(std::string(HeaderValue(headers, "content-type")));
  for (const auto& [name, value] : headers) {
    if (name.size() > sizeof(kMetaPrefix) - 1 && name.compare(0, sizeof(kMetaPrefix) - 1, kMetaPrefix) == 0) {
      (*info.mutable_metadata())[name.substr(sizeof(kMetaPrefix) - 1)] = value;
    }
  }
  return info;
}

std::string Query(std::initializer_list<std::pair<std::string_view, std::string_view>> params) {
  std::string query;
  for (const auto& [name, value] : params) {
    if (value.empty() && name != "delete" && name != "uploads") continue;
    if (!query.empty()) query += '&';
    query += aws::UriEncode(name, false);
    if (!value.empty() || name == "delete" || name == "uploads") query += "=" + aws::UriEncode(value, false);
  }
  return query;
}

// Continuation tokens name the listing they continue (prefix and delimiter),
// so that one from another listing is refused rather than misread.
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

Status MapS3Error(int http_status, const HttpHeaders& headers, std::string_view body, const std::string& what) {
  const S3Error parsed = ParseError(body);
  remote::ServiceError error{http_status, parsed.code, parsed.message, remote::RetryAfterMs(headers)};
  const std::string& code = parsed.code;
  if (http_status == 404 && (code.empty() || code == "NoSuchKey")) return Status::NotFound(what);
  const std::string detail = " (S3 " + (code.empty() ? "HTTP " + std::to_string(http_status) : remote::OneLine(code, 80)) + ")";
  if (code == "NoSuchKey") return Status::NotFound(what);
  if (code == "NoSuchBucket") {
    return Status::FailedPrecondition("the binding's S3 bucket does not exist, for " + what + detail);
  }
  if (code == "PreconditionFailed" || http_status == 412 || http_status == 304) {
    return Status::FailedPrecondition(what + " does not meet the request's condition" + detail);
  }
  if (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "ExpiredToken" ||
      code == "InvalidToken" || code == "TokenRefreshRequired" || code == "AuthorizationHeaderMalformed" ||
      code == "RequestTimeTooSkewed" || http_status == 401) {
    return Status::Unauthenticated("S3 refused the binding's credentials for " + what + detail);
  }
  if (code == "AccessDenied" || code == "AllAccessDisabled") {
    return Status::PermissionDenied("the binding's credentials may not access " + what + detail);
  }
  if (http_status == 403 && code.empty()) {
    // A HEAD's 403 has no body to say which: refused credentials or no access.
    return Status::PermissionDenied("S3 refused access to " + what +
                                    " (HTTP 403, no reason given: the binding's credentials are wrong, or may not "
                                    "access it)");
  }
  if (code == "SlowDown" || code == "ServiceUnavailable" || code == "RequestTimeout" || code == "InternalError" ||
      code == "Throttling" || code == "ThrottlingException") {
    return Status::Unavailable("S3 could not serve " + what + " now" + detail, error.retry_after_ms);
  }
  if (code == "ConditionalRequestConflict" || code == "OperationAborted") {
    return Status::Aborted("a concurrent change to " + what + detail);
  }
  if (code == "EntityTooLarge" || code == "KeyTooLongError" || code == "InvalidArgument" ||
      code == "MetadataTooLarge" || code == "InvalidRange") {
    return Status::InvalidArgument(what + ": " + remote::OneLine(parsed.message.empty() ? code : parsed.message));
  }
  if (code == "NotImplemented") return Status::Unimplemented(what + detail);
  return remote::StatusForHttpError(error, what);
}

remote::HttpService::MakeRequest S3Context::Request(std::string method, std::string url, HttpHeaders headers,
                                                    std::string body, bool sign_body) {
  const std::string payload = sign_body ? aws::PayloadSha256(*hash, body) : aws::kUnsignedPayload;
  return [this, method = std::move(method), url = std::move(url), headers = std::move(headers),
          body = std::move(body), payload](uint32_t) -> Result<ports::HttpRequest> {
    ports::HttpRequest request;
    request.method = method;
    request.url = url;
    request.headers = headers;
    request.body = body;
    Status signed_ok = aws::SignRequest(&request, payload, location.credentials,
                                        aws::SigV4Scope{location.region, "s3", true}, *clock, *hash);
    if (!signed_ok.ok()) return signed_ok;
    return request;
  };
}

namespace {

remote::HttpService::MapError Errors(std::string what) {
  return [what = std::move(what)](int status, const HttpHeaders& headers, std::string_view body) {
    return MapS3Error(status, headers, body, what);
  };
}

// A bucket's marker put with If-None-Match: *: a 412 means the marker is
// there, so the bucket is. (Other failed preconditions, such as the binding's
// own S3 bucket missing, are not that.)
remote::HttpService::MapError CreateBucketErrors(std::string what) {
  return [what = std::move(what)](int status, const HttpHeaders& headers, std::string_view body) {
    if (status == 412 || ParseError(body).code == "PreconditionFailed") return Status::AlreadyExists(what);
    return MapS3Error(status, headers, body, what);
  };
}

// An upload: one PUT when the body fits in a part, else a multipart upload
// with up to `parallel_parts` parts in flight.
class S3Upload : public ObjectUpload {
 public:
  S3Upload(std::shared_ptr<S3Context> s3, v1::PutObjectRequest req, int64_t deadline)
      : state_(std::make_shared<State>(std::move(s3), std::move(req), deadline)) {}

  ~S3Upload() override {
    if (!state_->upload_id.empty() && !state_->completed) Detach(Abort(state_));
  }

  Task<Status> Append(std::string chunk) override {
    State& s = *state_;
    if (!s.failure.ok()) co_return s.failure;
    s.size += chunk.size();
    s.buffer += chunk;
    while (s.buffer.size() >= s.s3->location.part_size) {
      std::string part = s.buffer.substr(0, s.s3->location.part_size);
      s.buffer.erase(0, s.s3->location.part_size);
      Status sent = co_await SendPart(std::move(part));
      if (!sent.ok()) co_return sent;
    }
    co_return s.failure;
  }

  Task<Result<v1::PutObjectResponse>> Finish() override {
    State& s = *state_;
    if (!s.failure.ok()) co_return s.failure;
    HttpHeaders conditions;
    if (s.req.if_none_match()) conditions.emplace_back("if-none-match", "*");
    if (!s.req.if_match().empty()) conditions.emplace_back("if-match", s.req.if_match());
    const std::string what = Describe(s.req.bucket(), s.req.key());
    std::string etag;
    HttpHeaders answer_headers;
    if (s.upload_id.empty()) {
      HttpHeaders headers = conditions;
      AddObjectHeaders(s.req, &headers);
      headers.emplace_back("content-md5", Md5Base64(*s.s3->hash, s.buffer));
      Result<remote::HttpAnswer> put = co_await s.s3->service.Fetch(
          s.deadline, s.s3->Request("PUT", s.s3->location.UrlOf(s.key), std::move(headers), std::move(s.buffer), false),
          Errors(what));
      if (!put.ok()) co_return put.status();
      etag = std::string(HeaderValue(put->headers, "etag"));
      answer_headers = std::move(put->headers);
    } else {
      if (!s.buffer.empty()) {
        Status sent = co_await SendPart(std::move(s.buffer));
        if (!sent.ok()) co_return sent;
      }
      // Every part in: take every slot.
      std::vector<std::unique_ptr<resilience::ConcurrencyLimit::Permit>> all;
      for (uint32_t i = 0; i < s.s3->location.parallel_parts; ++i) {
        all.push_back(s.slots.Acquire());
        co_await all.back()->Granted();
      }
      if (!s.failure.ok()) co_return s.failure;
      const std::string url = s.s3->location.UrlOf(s.key, Query({{"uploadId", s.upload_id}}));
      auto request = s.s3->Request("POST", url, conditions, CompleteMultipartUploadBody(s.part_etags));
      Result<remote::HttpAnswer> done = co_await s.s3->service.Fetch(s.deadline, std::move(request), Errors(what));
      if (!done.ok()) co_return done.status();
      S3Error error;
      Result<std::string> completed = ParseCompleteMultipartUpload(done->body, &error);
      if (!completed.ok()) {
        co_return error.code.empty() ? completed.status() : MapS3Error(500, {}, "<Error><Code>" + error.code + "</Code></Error>", what);
      }
      s.completed = true;
      etag = std::move(*completed);
      answer_headers = std::move(done->headers);
    }
    v1::PutObjectResponse response;
    v1::ObjectInfo* info = response.mutable_object();
    info->set_bucket(s.req.bucket());
    info->set_key(s.req.key());
    info->set_size(s.size);
    info->set_etag(etag);
    info->set_content_type(s.req.content_type().empty() ? "application/octet-stream" : s.req.content_type());
    *info->mutable_metadata() = s.req.metadata();
    // S3 stamps the object when it has it; its Date is that moment to the second.
    info->set_last_modified_ms(
        remote::ParseHttpDate(HeaderValue(answer_headers, "date")).value_or(s.s3->clock->NowMs()));
    co_return response;
  }

 private:
  struct State {
    State(std::shared_ptr<S3Context> context, v1::PutObjectRequest request, int64_t call_deadline)
        : s3(std::move(context)),
          req(std::move(request)),
          key(s3->location.ObjectKey(req.bucket(), req.key())),
          deadline(call_deadline),
          slots(s3->location.parallel_parts) {}
    std::shared_ptr<S3Context> s3;
    v1::PutObjectRequest req;
    std::string key;  // the S3 key
    int64_t deadline;
    std::string buffer;  // what is not yet part of a part
    uint64_t size = 0;
    std::string upload_id;
    std::vector<std::string> part_etags;
    resilience::ConcurrencyLimit slots;
    Status failure;
    bool completed = false;
  };

  // Starts the multipart upload (first part), then sends `part` once a slot is free.
  Task<Status> SendPart(std::string part) {
    State& s = *state_;
    const std::string what = Describe(s.req.bucket(), s.req.key());
    if (s.upload_id.empty()) {
      HttpHeaders headers;
      AddObjectHeaders(s.req, &headers);
      const std::string url = s.s3->location.UrlOf(s.key, Query({{"uploads", ""}}));
      auto request = s.s3->Request("POST", url, std::move(headers));
      Result<remote::HttpAnswer> started = co_await s.s3->service.Fetch(s.deadline, std::move(request), Errors(what));
      if (!started.ok()) co_return s.failure = started.status();
      Result<std::string> id = ParseUploadId(started->body);
      if (!id.ok()) co_return s.failure = id.status();
      s.upload_id = std::move(*id);
    }
    auto slot = s.slots.Acquire();
    co_await slot->Granted();
    if (!s.failure.ok()) co_return s.failure;
    s.part_etags.emplace_back();
    Detach(UploadPart(state_, s.part_etags.size(), std::move(part), std::move(slot)));
    co_return Status::Ok();
  }

  static Task<void> UploadPart(std::shared_ptr<State> state, size_t number, std::string part,
                               std::unique_ptr<resilience::ConcurrencyLimit::Permit> slot) {
    State& s = *state;
    const std::string what = "part " + std::to_string(number) + " of " + Describe(s.req.bucket(), s.req.key());
    HttpHeaders headers{{"content-md5", Md5Base64(*s.s3->hash, part)}};
    const std::string url =
        s.s3->location.UrlOf(s.key, Query({{"partNumber", std::to_string(number)}, {"uploadId", s.upload_id}}));
    auto request = s.s3->Request("PUT", url, std::move(headers), std::move(part), false);
    Result<ports::HttpResponse> sent = co_await s.s3->service.Send(s.deadline, std::move(request), Errors(what), true);
    if (!sent.ok()) {
      if (s.failure.ok()) s.failure = sent.status();
      co_return;
    }
    s.part_etags[number - 1] = std::string(HeaderValue(sent->headers, "etag"));
    (void)co_await remote::ReadWhole(sent->body.get(), 64 * 1024, what);
    slot.reset();
  }

  static Task<void> Abort(std::shared_ptr<State> state) {
    State& s = *state;
    // Parts still in flight finish first, or S3 may keep them.
    std::vector<std::unique_ptr<resilience::ConcurrencyLimit::Permit>> all;
    for (uint32_t i = 0; i < s.s3->location.parallel_parts; ++i) {
      all.push_back(s.slots.Acquire());
      co_await all.back()->Granted();
    }
    const std::string url = s.s3->location.UrlOf(s.key, Query({{"uploadId", s.upload_id}}));
    auto request = s.s3->Request("DELETE", url);
    Result<remote::HttpAnswer> aborted =
        co_await s.s3->service.Fetch(s.s3->clock->NowMs() + s.s3->service.options().call_timeout_ms, std::move(request),
                                     Errors("the abandoned upload of " + Describe(s.req.bucket(), s.req.key())));
    (void)aborted;  // nothing to tell: the bucket's lifecycle rules remove what is left
  }

  std::shared_ptr<State> state_;
};

}  // namespace

S3ObjectStorage::S3ObjectStorage(std::string binding, S3Location location, const remote::RemoteOptions& options,
                                 const HostPorts& ports)
    : binding_(binding),
      s3_(std::make_shared<S3Context>(S3Context{std::move(location),
                                                remote::HttpService(binding, ports.http, ports.clock, ports.sleep, options),
                                                ports.clock, ports.hash})) {}

std::vector<std::string> S3ObjectStorage::Unsupported() const {
  if (s3_->location.conditional_writes) return {};
  return {"conditional writes (if_match, if_none_match on PutObject and DeleteObject)"};
}

Task<Status> S3ObjectStorage::RequireBucket(const std::string& bucket, int64_t deadline) {
  Result<ports::HttpResponse> marker = co_await s3_->service.Send(
      deadline, s3_->Request("HEAD", s3_->location.UrlOf(s3_->location.MarkerKey(bucket))), Errors(DescribeBucket(bucket)));
  co_return marker.ok() ? Status::Ok() : marker.status();
}

Task<Status> S3ObjectStorage::NotFound(const std::string& bucket, const std::string& key, int64_t deadline) {
  Status has_bucket = co_await RequireBucket(bucket, deadline);
  co_return has_bucket.ok() ? Status::NotFound(Describe(bucket, key)) : has_bucket;
}

Task<Result<v1::ObjectInfo>> S3ObjectStorage::Head(const std::string& bucket, const std::string& key,
                                                   int64_t deadline) {
  Result<ports::HttpResponse> head = co_await s3_->service.Send(
      deadline, s3_->Request("HEAD", s3_->location.UrlOf(s3_->location.ObjectKey(bucket, key))),
      Errors(Describe(bucket, key)));
  if (!head.ok()) {
    if (head.status().code() == v1::NOT_FOUND) co_return co_await NotFound(bucket, key, deadline);
    co_return head.status();
  }
  co_return InfoFromHeaders(bucket, key, head->headers);
}

Task<Result<v1::CreateBucketResponse>> S3ObjectStorage::CreateBucket(const v1::CreateBucketRequest& req) {
  const int64_t deadline = s3_->service.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  auto held = buckets_.Acquire({{req.bucket(), true}});
  co_await held->Granted();
  const std::string what = DescribeBucket(req.bucket());
  HttpHeaders headers{{"content-type", "application/x-directory"}};
  if (s3_->location.conditional_writes) {
    headers.emplace_back("if-none-match", "*");
  } else {
    Status exists = co_await RequireBucket(req.bucket(), deadline);
    if (exists.ok()) co_return Status::AlreadyExists(what);
    if (exists.code() != v1::NOT_FOUND) co_return exists;
  }
  Result<remote::HttpAnswer> put = co_await s3_->service.Fetch(
      deadline, s3_->Request("PUT", s3_->location.UrlOf(s3_->location.MarkerKey(req.bucket())), std::move(headers)),
      CreateBucketErrors(what));
  if (!put.ok()) co_return put.status();
  v1::CreateBucketResponse response;
  response.mutable_bucket()->set_name(req.bucket());
  response.mutable_bucket()->set_created_ms(
      remote::ParseHttpDate(HeaderValue(put->headers, "date")).value_or(s3_->clock->NowMs()));
  co_return response;
}

Task<Result<v1::DeleteBucketResponse>> S3ObjectStorage::DeleteBucket(const v1::DeleteBucketRequest& req) {
  const int64_t deadline = s3_->service.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  auto held = buckets_.Acquire({{req.bucket(), true}});
  co_await held->Granted();
  const std::string what = DescribeBucket(req.bucket());
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));
  const std::string url = s3_->location.UrlOf(
      "", Query({{"list-type", "2"}, {"max-keys", "1"}, {"prefix", s3_->location.BucketPrefix(req.bucket())}}));
  Result<remote::HttpAnswer> listed = co_await s3_->service.Fetch(deadline, s3_->Request("GET", url), Errors(what));
  if (!listed.ok()) co_return listed.status();
  Result<ObjectListing> listing = ParseListObjectsV2(listed->body);
  if (!listing.ok()) co_return listing.status();
  if (!listing->objects.empty()) co_return Status::FailedPrecondition(what + " is not empty");
  Result<remote::HttpAnswer> removed = co_await s3_->service.Fetch(
      deadline, s3_->Request("DELETE", s3_->location.UrlOf(s3_->location.MarkerKey(req.bucket()))), Errors(what));
  if (!removed.ok()) co_return removed.status();
  co_return v1::DeleteBucketResponse();
}

Task<Result<v1::ListBucketsResponse>> S3ObjectStorage::ListBuckets(const v1::ListBucketsRequest& req) {
  const int64_t deadline = s3_->service.CallDeadline();
  v1::ListBucketsResponse response;
  std::string token;
  const std::string markers = s3_->location.MarkersPrefix();
  do {
    const std::string url =
        s3_->location.UrlOf("", Query({{"list-type", "2"}, {"prefix", markers}, {"continuation-token", token}}));
    Result<remote::HttpAnswer> listed = co_await s3_->service.Fetch(
        deadline, s3_->Request("GET", url), Errors("the buckets of binding " + names::Quote(binding_)));
    if (!listed.ok()) co_return listed.status();
    Result<ObjectListing> listing = ParseListObjectsV2(listed->body);
    if (!listing.ok()) co_return listing.status();
    for (const ListedObject& marker : listing->objects) {
      if (marker.key.size() <= markers.size()) continue;
      v1::Bucket* bucket = response.add_buckets();
      bucket->set_name(marker.key.substr(markers.size()));
      bucket->set_created_ms(marker.last_modified_ms);
    }
    token = listing->truncated ? listing->next_continuation_token : "";
  } while (!token.empty());
  co_return response;
}

Task<Result<v1::BucketExistsResponse>> S3ObjectStorage::BucketExists(const v1::BucketExistsRequest& req) {
  const int64_t deadline = s3_->service.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  Status exists = co_await RequireBucket(req.bucket(), deadline);
  if (!exists.ok() && exists.code() != v1::NOT_FOUND) co_return exists;
  v1::BucketExistsResponse response;
  response.set_exists(exists.ok());
  co_return response;
}

Task<Result<std::unique_ptr<ObjectUpload>>> S3ObjectStorage::BeginPut(const v1::PutObjectRequest& req) {
  const int64_t deadline = s3_->service.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  CK_CO_RETURN_IF_ERROR(CheckMetadata(req.metadata()));
  const bool conditional = req.if_none_match() || !req.if_match().empty();
  if (conditional && !s3_->location.conditional_writes) {
    co_return Status::Unimplemented("conditional writes: binding " + names::Quote(binding_) +
                                    " has conditional_writes=false");
  }
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));
  if (conditional) {
    // Fail early rather than after the body; S3 checks again when it writes.
    Result<v1::ObjectInfo> current = co_await Head(req.bucket(), req.key(), deadline);
    if (!current.ok() && current.status().code() != v1::NOT_FOUND) co_return current.status();
    const std::string what = Describe(req.bucket(), req.key());
    if (req.if_none_match() && current.ok()) co_return Status::FailedPrecondition(what + " already exists");
    if (!req.if_match().empty() && (!current.ok() || current->etag() != req.if_match())) {
      co_return Status::FailedPrecondition(what + (current.ok() ? " has ETag " + current->etag() : " does not exist"));
    }
  }
  co_return std::unique_ptr<ObjectUpload>(std::make_unique<S3Upload>(s3_, req, deadline));
}

Task<Result<std::unique_ptr<ObjectDownload>>> S3ObjectStorage::BeginGet(const v1::GetObjectRequest& req,
                                                                        v1::GetObjectResponse* head) {
  const int64_t deadline = s3_->service.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  const std::string what = Describe(req.bucket(), req.key());
  HttpHeaders headers;
  const remote::RequestedRange asked = remote::RangeOf(req);
  if (asked.ranged) headers.emplace_back("range", remote::RangeHeader(asked));
  if (!req.if_match().empty()) headers.emplace_back("if-match", req.if_match());
  if (!req.if_none_match().empty()) headers.emplace_back("if-none-match", req.if_none_match());
  Result<ports::HttpResponse> got = co_await s3_->service.Send(
      deadline, s3_->Request("GET", s3_->location.UrlOf(s3_->location.ObjectKey(req.bucket(), req.key())), headers),
      Errors(what), true);
  if (!got.ok()) {
    if (got.status().code() == v1::NOT_FOUND) co_return co_await NotFound(req.bucket(), req.key(), deadline);
    if (got.status().code() == v1::INVALID_ARGUMENT && req.has_range()) {
      // S3 refuses a range that starts at the end; the API gives it empty.
      Result<v1::ObjectInfo> info = co_await Head(req.bucket(), req.key(), deadline);
      if (!info.ok()) co_return info.status();
      Result<remote::BodySlice> empty = remote::SliceOfRefusedRange(req.range_start(), info->size(), got.status(), what);
      if (!empty.ok()) co_return empty.status();
      *head->mutable_object() = *info;
      head->set_range_start(empty->range_start);
      head->set_content_length(0);
      co_return remote::NewSlicedDownload(nullptr, *empty, what);
    }
    co_return got.status();
  }
  Result<remote::BodySlice> slice = remote::SliceOfAnswer(got->status, got->headers, asked, what);
  if (!slice.ok()) co_return slice.status();
  *head->mutable_object() = InfoFromHeaders(req.bucket(), req.key(), got->headers);
  head->mutable_object()->set_size(slice->object_size);
  head->set_range_start(slice->range_start);
  head->set_content_length(slice->length);
  co_return remote::NewSlicedDownload(std::move(got->body), *slice, what);
}

Task<Result<v1::HeadObjectResponse>> S3ObjectStorage::HeadObject(const v1::HeadObjectRequest& req) {
  const int64_t deadline = s3_->service.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  Result<v1::ObjectInfo> info = co_await Head(req.bucket(), req.key(), deadline);
  if (!info.ok()) co_return info.status();
  v1::HeadObjectResponse response;
  *response.mutable_object() = std::move(*info);
  co_return response;
}

Task<Result<v1::DeleteObjectResponse>> S3ObjectStorage::DeleteObject(const v1::DeleteObjectRequest& req) {
  const int64_t deadline = s3_->service.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  if (!req.if_match().empty() && !s3_->location.conditional_writes) {
    co_return Status::Unimplemented("conditional writes: binding " + names::Quote(binding_) +
                                    " has conditional_writes=false");
  }
  // S3 answers a delete the same whether the object was there: ask first.
  const std::string what = Describe(req.bucket(), req.key());
  Result<ports::HttpResponse> current = co_await s3_->service.Send(
      deadline, s3_->Request("HEAD", s3_->location.UrlOf(s3_->location.ObjectKey(req.bucket(), req.key()))),
      Errors(what));
  if (!current.ok()) {
    if (current.status().code() != v1::NOT_FOUND) co_return current.status();
    CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));
    if (!req.if_match().empty()) co_return Status::NotFound(what);
  }
  HttpHeaders headers;
  if (!req.if_match().empty()) {
    const std::string_view etag = HeaderValue(current->headers, "etag");
    if (etag != req.if_match()) {
      co_return Status::FailedPrecondition(what + " has ETag " + std::string(etag) + ", not " + req.if_match());
    }
    headers.emplace_back("if-match", req.if_match());
  }
  v1::DeleteObjectResponse response;
  response.set_existed(current.ok());
  if (!current.ok()) co_return response;
  Result<remote::HttpAnswer> removed = co_await s3_->service.Fetch(
      deadline, s3_->Request("DELETE", s3_->location.UrlOf(s3_->location.ObjectKey(req.bucket(), req.key())), headers),
      Errors(what));
  if (!removed.ok()) co_return removed.status();
  co_return response;
}

Task<Result<v1::DeleteObjectsResponse>> S3ObjectStorage::DeleteObjects(const v1::DeleteObjectsRequest& req) {
  const int64_t deadline = s3_->service.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  if (req.keys_size() > kMaxDeleteKeys) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxDeleteKeys) + " keys per DeleteObjects");
  }
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));
  v1::DeleteObjectsResponse response;
  std::vector<std::string> s3_keys;
  std::vector<std::string> api_keys;
  for (const std::string& key : req.keys()) {
    Status valid = names::CheckObjectKey(key);
    if (!valid.ok()) {
      v1::DeleteError* error = response.add_errors();
      error->set_key(key);
      valid.ToProto(error->mutable_status());
      continue;
    }
    s3_keys.push_back(s3_->location.ObjectKey(req.bucket(), key));
    api_keys.push_back(key);
  }
  if (s3_keys.empty()) co_return response;
  std::string body = DeleteObjectsBody(s3_keys);
  HttpHeaders headers{{"content-md5", Md5Base64(*s3_->hash, body)}, {"content-type", "application/xml"}};
  const std::string url = s3_->location.UrlOf("", Query({{"delete", ""}}));
  auto request = s3_->Request("POST", url, std::move(headers), std::move(body));
  Result<remote::HttpAnswer> answer = co_await s3_->service.Fetch(
      deadline, std::move(request), Errors("objects in bucket " + names::Quote(req.bucket())));
  if (!answer.ok()) co_return answer.status();
  Result<DeleteOutcome> outcome = ParseDeleteResult(answer->body);
  if (!outcome.ok()) co_return outcome.status();
  const std::string bucket_prefix = s3_->location.BucketPrefix(req.bucket());
  auto api_key = [&](const std::string& s3_key) {
    return s3_key.compare(0, bucket_prefix.size(), bucket_prefix) == 0 ? s3_key.substr(bucket_prefix.size()) : s3_key;
  };
  std::set<std::string> deleted;
  for (const std::string& key : outcome->deleted) deleted.insert(api_key(key));
  std::map<std::string, Status> failed;
  for (const auto& [key, error] : outcome->errors) {
    const std::string name = api_key(key);
    failed.emplace(name, MapS3Error(error.code == "AccessDenied" ? 403 : 500, {},
                                    "<Error><Code>" + error.code + "</Code></Error>", Describe(req.bucket(), name)));
  }
  for (const std::string& key : api_keys) {  // in the order asked
    if (deleted.count(key)) {
      response.add_deleted(key);
    } else {
      v1::DeleteError* error = response.add_errors();
      error->set_key(key);
      auto it = failed.find(key);
      (it != failed.end() ? it->second : Status::Internal("S3 did not report on " + Describe(req.bucket(), key)))
          .ToProto(error->mutable_status());
    }
  }
  // Errors found before asking S3 (invalid keys) come after, as the local providers order them.
  std::stable_partition(response.mutable_errors()->begin(), response.mutable_errors()->end(),
                        [&](const v1::DeleteError& e) { return failed.count(e.key()) > 0; });
  co_return response;
}

Task<Result<v1::CopyObjectResponse>> S3ObjectStorage::CopyObject(const v1::CopyObjectRequest& req) {
  const int64_t deadline = s3_->service.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.source_bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.source_key()));
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));
  const std::string source = Describe(req.source_bucket(), req.source_key());
  HttpHeaders headers{
      {"x-amz-copy-source",
       "/" + s3_->location.bucket + "/" + aws::UriEncode(s3_->location.ObjectKey(req.source_bucket(), req.source_key()), true)},
      {"x-amz-metadata-directive", "COPY"}};
  if (!req.if_match().empty()) headers.emplace_back("x-amz-copy-source-if-match", req.if_match());
  Result<remote::HttpAnswer> copied = co_await s3_->service.Fetch(
      deadline, s3_->Request("PUT", s3_->location.UrlOf(s3_->location.ObjectKey(req.bucket(), req.key())), std::move(headers)),
      Errors(source));
  if (!copied.ok()) {
    if (copied.status().code() == v1::NOT_FOUND) co_return co_await NotFound(req.source_bucket(), req.source_key(), deadline);
    co_return copied.status();
  }
  S3Error error;
  Result<CopyResult> result = ParseCopyObjectResult(copied->body, &error);
  if (!result.ok()) {
    co_return error.code.empty() ? result.status() : MapS3Error(500, {}, "<Error><Code>" + error.code + "</Code></Error>", source);
  }
  // The copy's size, type and metadata are its source's: read them from it.
  Result<v1::ObjectInfo> info = co_await Head(req.bucket(), req.key(), deadline);
  if (!info.ok()) co_return info.status();
  v1::CopyObjectResponse response;
  *response.mutable_object() = std::move(*info);
  co_return response;
}

Task<Result<v1::ListObjectsResponse>> S3ObjectStorage::ListObjects(const v1::ListObjectsRequest& req) {
  const int64_t deadline = s3_->service.CallDeadline();
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  const size_t page = req.page_size() == 0 ? kMaxPageSize : std::min<size_t>(req.page_size(), kMaxPageSize);
  const std::string tag = ListingTag(*s3_->hash, req);
  std::string s3_token;
  if (!req.continuation_token().empty()) {
    std::optional<std::string> decoded = Base64Decode(req.continuation_token());
    const std::string expected = std::string(kTokenTag) + tag + ":";
    if (!decoded || decoded->compare(0, expected.size(), expected) != 0) {
      co_return Status::InvalidArgument("continuation token does not belong to this listing of bucket " +
                                        names::Quote(req.bucket()));
    }
    s3_token = decoded->substr(expected.size());
  }
  const std::string bucket_prefix = s3_->location.BucketPrefix(req.bucket());
  const std::string url = s3_->location.UrlOf("", Query({{"list-type", "2"},
                                                          {"prefix", bucket_prefix + req.prefix()},
                                                          {"delimiter", req.delimiter()},
                                                          {"max-keys", std::to_string(page)},
                                                          {"continuation-token", s3_token}}));
  Result<remote::HttpAnswer> listed = co_await s3_->service.Fetch(
      deadline, s3_->Request("GET", url), Errors("objects in bucket " + names::Quote(req.bucket())));
  if (!listed.ok()) co_return listed.status();
  Result<ObjectListing> listing = ParseListObjectsV2(listed->body);
  if (!listing.ok()) co_return listing.status();
  if (listing->objects.empty() && listing->common_prefixes.empty() && s3_token.empty()) {
    CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), deadline));  // empty, or missing?
  }
  v1::ListObjectsResponse response;
  for (ListedObject& object : listing->objects) {
    v1::ObjectInfo* info = response.add_objects();
    info->set_bucket(req.bucket());
    info->set_key(object.key.substr(bucket_prefix.size()));
    info->set_size(object.size);
    info->set_etag(std::move(object.etag));
    info->set_last_modified_ms(object.last_modified_ms);
  }
  for (const std::string& prefix : listing->common_prefixes) response.add_common_prefixes(prefix.substr(bucket_prefix.size()));
  if (listing->truncated && !listing->next_continuation_token.empty()) {
    response.set_next_continuation_token(Base64Encode(std::string(kTokenTag) + tag + ":" + listing->next_continuation_token));
  }
  co_return response;
}

Task<Result<v1::PresignObjectResponse>> S3ObjectStorage::PresignObject(const v1::PresignObjectRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  const std::string method = req.method().empty() ? "GET" : req.method();
  if (method != "GET" && method != "PUT") {
    co_return Status::InvalidArgument("presigned URLs are for GET or PUT, not " + names::Quote(method));
  }
  const uint32_t expires = req.expires_seconds() == 0 ? 3600 : req.expires_seconds();
  if (expires > 604800) co_return Status::InvalidArgument("a presigned URL lasts at most 604800 s (7 days)");
  const int64_t now = s3_->clock->NowMs();
  Result<std::string> url = aws::PresignUrl(method, s3_->location.UrlOf(s3_->location.ObjectKey(req.bucket(), req.key())),
                                            s3_->location.credentials, aws::SigV4Scope{s3_->location.region, "s3", true},
                                            aws::AmzDate(now), expires, *s3_->hash);
  if (!url.ok()) co_return url.status();
  v1::PresignObjectResponse response;
  response.set_url(std::move(*url));
  response.set_method(method);
  response.set_expires_ms(now + int64_t{expires} * 1000);
  co_return response;
}

namespace {

Result<BindingInstance> CreateS3(const BindingConfig& config, const HostPorts& ports) {
  if (ports.http == nullptr || ports.sleep == nullptr) {
    return Status::FailedPrecondition("provider 's3' needs an HTTP client, which this host lacks");
  }
  Result<S3Location> location = S3LocationFromBinding(config);
  if (!location.ok()) return location.status();
  Result<remote::RemoteOptions> options = remote::ParseRemoteOptions(config);
  if (!options.ok()) return options.status();
  BindingInstance instance;
  instance.blocking_io = true;
  instance.providers[kObjectStorageService] =
      std::make_unique<S3ObjectStorage>(config.name, std::move(*location), *options, ports);
  return instance;
}

}  // namespace

void RegisterS3Provider(ProviderRegistry* registry) {
  std::vector<OptionDoc> options = {
      {"bucket", "the S3 bucket holding this binding's buckets (the URL's host)", ""},
      {"prefix", "key prefix inside it for this binding (the URL's path)", ""},
      {"region", "the bucket's AWS region", "us-east-1", "AWS_REGION"},
      {"endpoint", "an S3-compatible service's URL instead of AWS's, e.g. http://127.0.0.1:4568", ""},
      {"path_style", "bucket in the path (true) or in the host name (false)", "true with an endpoint, else false"},
      {"conditional_writes", "the service keeps If-Match/If-None-Match on writes; false answers them UNIMPLEMENTED",
       "true"},
      {"part_size_mb", "size of each part of a multipart upload (5 to 5120); smaller objects go in one PUT", "8"},
      {"parallel_parts", "parts of one upload sent at once", "4"},
  };
  for (OptionDoc& doc : remote::RemoteOptionDocs()) options.push_back(std::move(doc));
  ProviderFactory factory{
      "s3",
      "AWS S3 or an S3-compatible service, one S3 bucket per binding",
      {kObjectStorageService},
      std::move(options),
      &CreateS3,
      {{"access_key_id", "AWS access key id", "AWS_ACCESS_KEY_ID"},
       {"secret_access_key", "AWS secret access key", "AWS_SECRET_ACCESS_KEY"},
       {"session_token", "session token of temporary credentials", "AWS_SESSION_TOKEN"}},
  };
  if (!registry->Register(std::move(factory)).ok()) std::abort();
}

}  // namespace cloudkit::s3
