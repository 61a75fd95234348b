#include "providers/embedded/embedded_object_storage.h"

#include <algorithm>
#include <set>

#include "providers/embedded/store_keys.h"
#include "providers/names.h"

namespace cloudkit::embedded {
namespace {

using store::v1::BucketRecord;
using store::v1::ObjectRecord;

constexpr uint32_t kMaxPageSize = 1000;
constexpr size_t kMaxDeleteKeys = 1000;
constexpr size_t kCopyChunkBytes = 1 << 20;

std::string Describe(const std::string& bucket, const std::string& key) {
  return "object " + names::Quote(key) + " in bucket " + names::Quote(bucket);
}

std::string Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

bool EtagMatches(std::string_view condition, const std::string& etag) {
  return condition == "*" || Unquote(condition) == Unquote(etag);
}

uint32_t PageSize(uint32_t requested) {
  return requested == 0 ? kMaxPageSize : std::min(requested, kMaxPageSize);
}

v1::ObjectInfo ToInfo(const std::string& bucket, const std::string& key, const ObjectRecord& r) {
  v1::ObjectInfo info;
  info.set_bucket(bucket);
  info.set_key(key);
  info.set_size(r.size());
  info.set_etag(r.etag());
  info.set_last_modified_ms(r.last_modified_ms());
  info.set_content_type(r.content_type());
  info.mutable_metadata()->insert(r.metadata().begin(), r.metadata().end());
  return info;
}

class EmbeddedUpload : public ObjectUpload {
 public:
  EmbeddedUpload(EmbeddedObjectStorage* provider, EmbeddedObjectStorage::PendingObject pending,
                 std::unique_ptr<ports::BlobWriter> writer, std::unique_ptr<ports::Hasher> md5)
      : provider_(provider), pending_(std::move(pending)), writer_(std::move(writer)),
        md5_(std::move(md5)) {}

  Status Append(std::string_view chunk) override {
    if (!writer_) return Status::FailedPrecondition("upload of " + Name() + " already finished");
    CK_RETURN_IF_ERROR(writer_->Append(chunk));
    md5_->Update(chunk);
    size_ += chunk.size();
    return Status::Ok();
  }

  Result<v1::PutObjectResponse> Finish() override {
    if (!writer_) return Status::FailedPrecondition("upload of " + Name() + " already finished");
    Result<std::string> blob_id = writer_->Commit();
    writer_.reset();
    if (!blob_id.ok()) return blob_id.status();
    Result<v1::ObjectInfo> info =
        provider_->Publish(pending_, *blob_id, size_, "\"" + md5_->FinishHex() + "\"");
    if (!info.ok()) return info.status();
    v1::PutObjectResponse resp;
    *resp.mutable_object() = std::move(*info);
    return resp;
  }

 private:
  std::string Name() const { return Describe(pending_.bucket, pending_.key); }

  EmbeddedObjectStorage* provider_;
  EmbeddedObjectStorage::PendingObject pending_;
  std::unique_ptr<ports::BlobWriter> writer_;
  std::unique_ptr<ports::Hasher> md5_;
  uint64_t size_ = 0;
};

class EmbeddedDownload : public ObjectDownload {
 public:
  EmbeddedDownload(std::unique_ptr<ports::BlobReader> reader, uint64_t start, uint64_t length)
      : reader_(std::move(reader)), next_(start), end_(start + length) {}

  Result<std::string> Next(size_t max_bytes) override {
    if (next_ >= end_) return std::string();
    size_t want = static_cast<size_t>(std::min<uint64_t>(max_bytes, end_ - next_));
    Result<std::string> chunk = reader_->Read(next_, want);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) return Status::Internal("object content ended early at byte " + std::to_string(next_));
    next_ += chunk->size();
    return chunk;
  }

 private:
  std::unique_ptr<ports::BlobReader> reader_;
  uint64_t next_;
  uint64_t end_;
};

}  // namespace

EmbeddedObjectStorage::EmbeddedObjectStorage(std::unique_ptr<ports::OrderedStore> records,
                                             std::unique_ptr<ports::BlobStore> blobs,
                                             ports::Clock* clock, ports::HashPort* hash)
    : records_(std::move(records)), blobs_(std::move(blobs)), clock_(clock), hash_(hash) {}

Status EmbeddedObjectStorage::RequireBucket(const std::string& bucket) {
  CK_RETURN_IF_ERROR(names::CheckContainerName("bucket", bucket));
  Result<std::string> found = records_->Get(BucketKey(bucket));
  if (found.ok()) return Status::Ok();
  if (found.status().code() == v1::NOT_FOUND) return Status::NotFound("bucket " + names::Quote(bucket));
  return found.status();
}

Result<std::optional<ObjectRecord>> EmbeddedObjectStorage::LoadObject(const std::string& bucket,
                                                                      const std::string& key) {
  Result<std::string> raw = records_->Get(ObjectKey(bucket, key));
  if (!raw.ok()) {
    if (raw.status().code() == v1::NOT_FOUND) return std::optional<ObjectRecord>();
    return raw.status();
  }
  ObjectRecord record;
  if (!record.ParseFromString(*raw)) {
    return Status::Internal("corrupt record for " + Describe(bucket, key));
  }
  return std::optional<ObjectRecord>(std::move(record));
}

Result<v1::CreateBucketResponse> EmbeddedObjectStorage::CreateBucket(const v1::CreateBucketRequest& req) {
  CK_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  Result<std::string> existing = records_->Get(BucketKey(req.bucket()));
  if (existing.ok()) return Status::AlreadyExists("bucket " + names::Quote(req.bucket()));
  if (existing.status().code() != v1::NOT_FOUND) return existing.status();
  BucketRecord record;
  record.set_created_ms(clock_->NowMs());
  ports::WriteBatch batch;
  batch.Put(BucketKey(req.bucket()), record.SerializeAsString());
  CK_RETURN_IF_ERROR(records_->Write(batch));
  v1::CreateBucketResponse resp;
  resp.mutable_bucket()->set_name(req.bucket());
  resp.mutable_bucket()->set_created_ms(record.created_ms());
  return resp;
}

Result<v1::DeleteBucketResponse> EmbeddedObjectStorage::DeleteBucket(const v1::DeleteBucketRequest& req) {
  CK_RETURN_IF_ERROR(RequireBucket(req.bucket()));
  std::vector<std::pair<std::string, std::string>> first;
  std::string objects = ObjectKey(req.bucket(), "");
  CK_RETURN_IF_ERROR(records_->Scan(objects, PrefixSuccessor(objects), 1, &first));
  if (!first.empty()) {
    return Status::FailedPrecondition("bucket " + names::Quote(req.bucket()) + " is not empty");
  }
  ports::WriteBatch batch;
  batch.Delete(BucketKey(req.bucket()));
  CK_RETURN_IF_ERROR(records_->Write(batch));
  return v1::DeleteBucketResponse();
}

Result<v1::ListBucketsResponse> EmbeddedObjectStorage::ListBuckets(const v1::ListBucketsRequest&) {
  v1::ListBucketsResponse resp;
  std::string start(kBucketPrefix);
  const std::string end = PrefixSuccessor(kBucketPrefix);
  constexpr size_t kBatch = 256;
  while (true) {
    std::vector<std::pair<std::string, std::string>> batch;
    CK_RETURN_IF_ERROR(records_->Scan(start, end, kBatch, &batch));
    for (const auto& [key, value] : batch) {
      BucketRecord record;
      record.ParseFromString(value);
      v1::Bucket* bucket = resp.add_buckets();
      bucket->set_name(key.substr(kBucketPrefix.size()));
      bucket->set_created_ms(record.created_ms());
    }
    if (batch.size() < kBatch) break;
    start = batch.back().first + '\0';
  }
  return resp;
}

Result<v1::BucketExistsResponse> EmbeddedObjectStorage::BucketExists(const v1::BucketExistsRequest& req) {
  CK_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  Result<std::string> found = records_->Get(BucketKey(req.bucket()));
  if (!found.ok() && found.status().code() != v1::NOT_FOUND) return found.status();
  v1::BucketExistsResponse resp;
  resp.set_exists(found.ok());
  return resp;
}

Status EmbeddedObjectStorage::CheckPutPreconditions(const PendingObject& pending,
                                                    const std::optional<ObjectRecord>& current) {
  if (pending.if_none_match && current) {
    return Status::FailedPrecondition(Describe(pending.bucket, pending.key) + " already exists");
  }
  if (!pending.if_match.empty()) {
    if (!current) {
      return Status::FailedPrecondition(Describe(pending.bucket, pending.key) +
                                        " does not exist (if-match " + pending.if_match + ")");
    }
    if (!EtagMatches(pending.if_match, current->etag())) {
      return Status::FailedPrecondition(Describe(pending.bucket, pending.key) + " has ETag " +
                                        current->etag() + ", not " + pending.if_match);
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<ObjectUpload>> EmbeddedObjectStorage::BeginPut(const v1::PutObjectRequest& req) {
  CK_RETURN_IF_ERROR(RequireBucket(req.bucket()));
  CK_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  PendingObject pending{req.bucket(), req.key(), req.content_type(), req.if_match(),
                        req.if_none_match(), {req.metadata().begin(), req.metadata().end()}};
  auto current = LoadObject(req.bucket(), req.key());
  if (!current.ok()) return current.status();
  CK_RETURN_IF_ERROR(CheckPutPreconditions(pending, *current));
  auto writer = blobs_->Create();
  if (!writer.ok()) return writer.status();
  return std::unique_ptr<ObjectUpload>(std::make_unique<EmbeddedUpload>(
      this, std::move(pending), std::move(*writer), hash_->NewMd5()));
}

Result<v1::ObjectInfo> EmbeddedObjectStorage::Publish(const PendingObject& pending, std::string blob_id,
                                                      uint64_t size, std::string etag) {
  // The bucket or the object may have changed while the body streamed in.
  auto check = [&]() -> Result<std::optional<ObjectRecord>> {
    CK_RETURN_IF_ERROR(RequireBucket(pending.bucket));
    auto current = LoadObject(pending.bucket, pending.key);
    if (!current.ok()) return current.status();
    CK_RETURN_IF_ERROR(CheckPutPreconditions(pending, *current));
    return current;
  };
  auto current = check();
  if (!current.ok()) {
    blobs_->Remove(blob_id);
    return current.status();
  }
  ObjectRecord record;
  record.set_blob_id(blob_id);
  record.set_size(size);
  record.set_etag(std::move(etag));
  record.set_last_modified_ms(clock_->NowMs());
  record.set_content_type(pending.content_type.empty() ? "application/octet-stream"
                                                       : pending.content_type);
  record.mutable_metadata()->insert(pending.metadata.begin(), pending.metadata.end());
  ports::WriteBatch batch;
  batch.Put(ObjectKey(pending.bucket, pending.key), record.SerializeAsString());
  Status written = records_->Write(batch);
  if (!written.ok()) {
    blobs_->Remove(blob_id);
    return written;
  }
  if (*current) blobs_->Remove((*current)->blob_id());
  return ToInfo(pending.bucket, pending.key, record);
}

Result<std::unique_ptr<ObjectDownload>> EmbeddedObjectStorage::BeginGet(const v1::GetObjectRequest& req,
                                                                        v1::GetObjectResponse* head) {
  CK_RETURN_IF_ERROR(RequireBucket(req.bucket()));
  CK_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  auto record = LoadObject(req.bucket(), req.key());
  if (!record.ok()) return record.status();
  if (!*record) return Status::NotFound(Describe(req.bucket(), req.key()));
  const ObjectRecord& r = **record;
  if (!req.if_match().empty() && !EtagMatches(req.if_match(), r.etag())) {
    return Status::FailedPrecondition(Describe(req.bucket(), req.key()) + " has ETag " + r.etag() +
                                      ", not " + req.if_match());
  }
  if (!req.if_none_match().empty() && EtagMatches(req.if_none_match(), r.etag())) {
    return Status::FailedPrecondition(Describe(req.bucket(), req.key()) + " still has ETag " + r.etag());
  }
  uint64_t start = 0, length = r.size();
  if (req.has_range()) {
    if (req.range_start() > r.size()) {
      return Status::InvalidArgument("range start " + std::to_string(req.range_start()) +
                                     " is beyond the " + std::to_string(r.size()) + " bytes of " +
                                     Describe(req.bucket(), req.key()));
    }
    start = req.range_start();
    length = r.size() - start;
    if (req.range_length() != 0) length = std::min<uint64_t>(length, req.range_length());
  }
  auto reader = blobs_->Open(r.blob_id());
  if (!reader.ok()) {
    return Status::Internal("content of " + Describe(req.bucket(), req.key()) + " is missing: " +
                            reader.status().message());
  }
  *head->mutable_object() = ToInfo(req.bucket(), req.key(), r);
  head->set_range_start(start);
  head->set_content_length(length);
  return std::unique_ptr<ObjectDownload>(std::make_unique<EmbeddedDownload>(std::move(*reader), start, length));
}

Result<v1::HeadObjectResponse> EmbeddedObjectStorage::HeadObject(const v1::HeadObjectRequest& req) {
  CK_RETURN_IF_ERROR(RequireBucket(req.bucket()));
  CK_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  auto record = LoadObject(req.bucket(), req.key());
  if (!record.ok()) return record.status();
  if (!*record) return Status::NotFound(Describe(req.bucket(), req.key()));
  v1::HeadObjectResponse resp;
  *resp.mutable_object() = ToInfo(req.bucket(), req.key(), **record);
  return resp;
}

Result<v1::DeleteObjectResponse> EmbeddedObjectStorage::DeleteObject(const v1::DeleteObjectRequest& req) {
  CK_RETURN_IF_ERROR(RequireBucket(req.bucket()));
  CK_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  auto record = LoadObject(req.bucket(), req.key());
  if (!record.ok()) return record.status();
  v1::DeleteObjectResponse resp;
  if (!req.if_match().empty()) {
    if (!*record) return Status::NotFound(Describe(req.bucket(), req.key()));
    if (!EtagMatches(req.if_match(), (*record)->etag())) {
      return Status::FailedPrecondition(Describe(req.bucket(), req.key()) + " has ETag " +
                                        (*record)->etag() + ", not " + req.if_match());
    }
  }
  if (!*record) return resp;
  ports::WriteBatch batch;
  batch.Delete(ObjectKey(req.bucket(), req.key()));
  CK_RETURN_IF_ERROR(records_->Write(batch));
  blobs_->Remove((*record)->blob_id());
  resp.set_existed(true);
  return resp;
}

Result<v1::DeleteObjectsResponse> EmbeddedObjectStorage::DeleteObjects(const v1::DeleteObjectsRequest& req) {
  CK_RETURN_IF_ERROR(RequireBucket(req.bucket()));
  if (req.keys_size() > static_cast<int>(kMaxDeleteKeys)) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxDeleteKeys) +
                                   " keys per delete, got " + std::to_string(req.keys_size()));
  }
  v1::DeleteObjectsResponse resp;
  ports::WriteBatch batch;
  std::vector<std::string> blobs_to_remove;
  std::set<std::string> seen;
  for (const std::string& key : req.keys()) {
    Status valid = names::CheckObjectKey(key);
    if (!valid.ok()) {
      v1::DeleteError* error = resp.add_errors();
      error->set_key(key);
      valid.ToProto(error->mutable_status());
      continue;
    }
    if (!seen.insert(key).second) continue;
    auto record = LoadObject(req.bucket(), key);
    if (!record.ok()) return record.status();
    if (*record) {
      batch.Delete(ObjectKey(req.bucket(), key));
      blobs_to_remove.push_back((*record)->blob_id());
    }
    resp.add_deleted(key);
  }
  if (!batch.ops.empty()) CK_RETURN_IF_ERROR(records_->Write(batch));
  for (const std::string& blob : blobs_to_remove) blobs_->Remove(blob);
  return resp;
}

Result<v1::CopyObjectResponse> EmbeddedObjectStorage::CopyObject(const v1::CopyObjectRequest& req) {
  CK_RETURN_IF_ERROR(RequireBucket(req.source_bucket()));
  CK_RETURN_IF_ERROR(names::CheckObjectKey(req.source_key()));
  CK_RETURN_IF_ERROR(RequireBucket(req.bucket()));
  CK_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  auto source = LoadObject(req.source_bucket(), req.source_key());
  if (!source.ok()) return source.status();
  if (!*source) return Status::NotFound(Describe(req.source_bucket(), req.source_key()));
  const ObjectRecord& src = **source;
  if (!req.if_match().empty() && !EtagMatches(req.if_match(), src.etag())) {
    return Status::FailedPrecondition(Describe(req.source_bucket(), req.source_key()) + " has ETag " +
                                      src.etag() + ", not " + req.if_match());
  }
  // Blobs are immutable and may be shared by name only through records, so
  // the copy gets its own blob; streamed so memory stays bounded.
  auto reader = blobs_->Open(src.blob_id());
  if (!reader.ok()) return reader.status();
  auto writer = blobs_->Create();
  if (!writer.ok()) return writer.status();
  for (uint64_t offset = 0; offset < src.size();) {
    Result<std::string> chunk = (*reader)->Read(offset, kCopyChunkBytes);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) return Status::Internal("content of " + Describe(req.source_bucket(), req.source_key()) + " ended early");
    CK_RETURN_IF_ERROR((*writer)->Append(*chunk));
    offset += chunk->size();
  }
  Result<std::string> blob_id = (*writer)->Commit();
  if (!blob_id.ok()) return blob_id.status();
  PendingObject pending{req.bucket(), req.key(), src.content_type(), "", false,
                        {src.metadata().begin(), src.metadata().end()}};
  Result<v1::ObjectInfo> info = Publish(pending, *blob_id, src.size(), src.etag());
  if (!info.ok()) return info.status();
  v1::CopyObjectResponse resp;
  *resp.mutable_object() = std::move(*info);
  return resp;
}

Result<v1::ListObjectsResponse> EmbeddedObjectStorage::ListObjects(const v1::ListObjectsRequest& req) {
  CK_RETURN_IF_ERROR(RequireBucket(req.bucket()));
  const std::string base = ObjectKey(req.bucket(), "");
  const std::string& prefix = req.prefix();
  const std::string& delimiter = req.delimiter();
  const std::string end = PrefixSuccessor(base + prefix);
  std::string start = base + prefix;
  if (!req.continuation_token().empty()) {
    std::optional<std::string> resume = DecodeToken(req.continuation_token());
    if (!resume || *resume < start || (!end.empty() && *resume >= end)) {
      return Status::InvalidArgument("continuation token does not belong to this listing of bucket " +
                                     names::Quote(req.bucket()));
    }
    start = *resume;
  }
  const uint32_t page = PageSize(req.page_size());
  v1::ListObjectsResponse resp;
  uint32_t count = 0;
  bool exhausted = false;
  while (count < page && !exhausted) {
    std::vector<std::pair<std::string, std::string>> batch;
    const size_t want = page - count;
    CK_RETURN_IF_ERROR(records_->Scan(start, end, want, &batch));
    exhausted = batch.size() < want;
    for (const auto& [store_key, value] : batch) {
      std::string key = store_key.substr(base.size());
      if (!delimiter.empty()) {
        size_t cut = key.find(delimiter, prefix.size());
        if (cut != std::string::npos) {
          std::string common = key.substr(0, cut + delimiter.size());
          resp.add_common_prefixes(common);
          ++count;
          start = PrefixSuccessor(base + common);
          exhausted = start.empty();
          break;  // rescan from past everything under the common prefix
        }
      }
      ObjectRecord record;
      if (!record.ParseFromString(value)) {
        return Status::Internal("corrupt record for " + Describe(req.bucket(), key));
      }
      *resp.add_objects() = ToInfo(req.bucket(), key, record);
      ++count;
      start = store_key + '\0';
      if (count == page) break;
    }
  }
  if (count == page && !start.empty()) {
    std::vector<std::pair<std::string, std::string>> probe;
    CK_RETURN_IF_ERROR(records_->Scan(start, end, 1, &probe));
    if (!probe.empty()) resp.set_next_continuation_token(EncodeToken(start));
  }
  return resp;
}

}  // namespace cloudkit::embedded
