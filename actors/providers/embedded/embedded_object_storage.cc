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

  Task<Status> Append(std::string chunk) override {
    if (!writer_) co_return Status::FailedPrecondition("upload of " + Name() + " already finished");
    md5_->Update(chunk);
    size_ += chunk.size();
    co_return co_await writer_->Append(std::move(chunk));
  }

  Task<Result<v1::PutObjectResponse>> Finish() override {
    if (!writer_) co_return Status::FailedPrecondition("upload of " + Name() + " already finished");
    const uint64_t commit = provider_->CommitStarts();
    Result<std::string> blob_id = co_await writer_->Commit();
    provider_->CommitEnded(commit, blob_id);
    writer_.reset();
    if (!blob_id.ok()) co_return blob_id.status();
    Result<v1::ObjectInfo> info =
        co_await provider_->Publish(pending_, *blob_id, size_, "\"" + md5_->FinishHex() + "\"");
    if (!info.ok()) co_return info.status();
    v1::PutObjectResponse resp;
    *resp.mutable_object() = std::move(*info);
    co_return resp;
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

  Task<Result<std::string>> Next(size_t max_bytes) override {
    if (next_ >= end_) co_return std::string();
    size_t want = static_cast<size_t>(std::min<uint64_t>(max_bytes, end_ - next_));
    Result<std::string> chunk = co_await reader_->Read(next_, want);
    if (!chunk.ok()) co_return chunk.status();
    if (chunk->empty()) co_return Status::Internal("object content ended early at byte " + std::to_string(next_));
    next_ += chunk->size();
    co_return chunk;
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

Task<void> EmbeddedObjectStorage::DiscardBlob(const std::string& blob_id) {
  // A blob that stays behind costs disk space, never correctness: nothing
  // names it any more. Failing the call for it would report a write that
  // happened as failed.
  Status removed = co_await blobs_->Remove(blob_id);
  (void)removed;
}

Task<Status> EmbeddedObjectStorage::RequireBucket(const std::string& bucket, std::string* record) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", bucket));
  Result<std::string> found = co_await records_->Get(BucketKey(bucket));
  if (found.ok()) {
    if (record != nullptr) *record = std::move(*found);
    co_return Status::Ok();
  }
  if (found.status().code() == v1::NOT_FOUND) co_return Status::NotFound("bucket " + names::Quote(bucket));
  co_return found.status();
}

Task<Result<std::optional<ObjectRecord>>> EmbeddedObjectStorage::LoadObject(const std::string& bucket,
                                                                      const std::string& key,
                                                                      std::optional<std::string>* stored) {
  Result<std::string> raw = co_await records_->Get(ObjectKey(bucket, key));
  if (!raw.ok()) {
    if (raw.status().code() == v1::NOT_FOUND) co_return std::optional<ObjectRecord>();
    co_return raw.status();
  }
  ObjectRecord record;
  if (!record.ParseFromString(*raw)) {
    co_return Status::Internal("corrupt record for " + Describe(bucket, key));
  }
  if (stored != nullptr) *stored = std::move(*raw);
  co_return std::optional<ObjectRecord>(std::move(record));
}

Task<Result<v1::CreateBucketResponse>> EmbeddedObjectStorage::CreateBucket(const v1::CreateBucketRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  auto holding = writing_.Acquire({{BucketKey(req.bucket()), true}});
  co_await holding->Granted();
  Result<std::string> existing = co_await records_->Get(BucketKey(req.bucket()));
  if (existing.ok()) co_return Status::AlreadyExists("bucket " + names::Quote(req.bucket()));
  if (existing.status().code() != v1::NOT_FOUND) co_return existing.status();
  BucketRecord record;
  record.set_created_ms(clock_->NowMs());
  ports::WriteBatch batch;
  batch.Expect(BucketKey(req.bucket()), std::nullopt);
  batch.Put(BucketKey(req.bucket()), record.SerializeAsString());
  Status written = co_await records_->Write(std::move(batch));
  // Another store on the location (a browser tab) created it first.
  if (ports::IsWriteConflict(written)) co_return Status::AlreadyExists("bucket " + names::Quote(req.bucket()));
  CK_CO_RETURN_IF_ERROR(written);
  v1::CreateBucketResponse resp;
  resp.mutable_bucket()->set_name(req.bucket());
  resp.mutable_bucket()->set_created_ms(record.created_ms());
  co_return resp;
}

Task<Result<v1::DeleteBucketResponse>> EmbeddedObjectStorage::DeleteBucket(const v1::DeleteBucketRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  auto holding = writing_.Acquire({{BucketKey(req.bucket()), true}});
  co_await holding->Granted();
  // Deletes only the empty bucket it checked (object puts expect the bucket).
  for (int conflicts = 0;; ++conflicts) {
    std::string bucket;
    CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket(), &bucket));
    std::string objects = ObjectKey(req.bucket(), "");
    Result<ports::OrderedStore::Entries> first = co_await records_->Scan(objects, PrefixSuccessor(objects), 1);
    if (!first.ok()) co_return first.status();
    if (!first->empty()) {
      co_return Status::FailedPrecondition("bucket " + names::Quote(req.bucket()) + " is not empty");
    }
    ports::WriteBatch batch;
    batch.Expect(BucketKey(req.bucket()), std::move(bucket));
    batch.ExpectEmpty(objects, PrefixSuccessor(objects));
    batch.Delete(BucketKey(req.bucket()));
    Status written = co_await records_->Write(std::move(batch));
    if (written.ok()) co_return v1::DeleteBucketResponse();
    if (!ports::IsWriteConflict(written) || conflicts == ports::kMaxWriteConflicts) co_return written;
  }
}

Task<Result<v1::ListBucketsResponse>> EmbeddedObjectStorage::ListBuckets(const v1::ListBucketsRequest&) {
  v1::ListBucketsResponse resp;
  std::string start(kBucketPrefix);
  const std::string end = PrefixSuccessor(kBucketPrefix);
  constexpr size_t kBatch = 256;
  while (true) {
    Result<ports::OrderedStore::Entries> batch = co_await records_->Scan(start, end, kBatch);
    if (!batch.ok()) co_return batch.status();
    for (const auto& [key, value] : *batch) {
      const std::string name = key.substr(kBucketPrefix.size());
      BucketRecord record;
      if (!record.ParseFromString(value)) co_return Status::Internal("corrupt record of bucket " + names::Quote(name));
      v1::Bucket* bucket = resp.add_buckets();
      bucket->set_name(name);
      bucket->set_created_ms(record.created_ms());
    }
    if (batch->size() < kBatch) break;
    start = batch->back().first + '\0';
  }
  co_return resp;
}

Task<Result<v1::BucketExistsResponse>> EmbeddedObjectStorage::BucketExists(const v1::BucketExistsRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  Result<std::string> found = co_await records_->Get(BucketKey(req.bucket()));
  if (!found.ok() && found.status().code() != v1::NOT_FOUND) co_return found.status();
  v1::BucketExistsResponse resp;
  resp.set_exists(found.ok());
  co_return resp;
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

Task<Result<std::unique_ptr<ObjectUpload>>> EmbeddedObjectStorage::BeginPut(const v1::PutObjectRequest& req) {
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  PendingObject pending{req.bucket(), req.key(), req.content_type(), req.if_match(),
                        req.if_none_match(), {req.metadata().begin(), req.metadata().end()}};
  auto current = co_await LoadObject(req.bucket(), req.key());
  if (!current.ok()) co_return current.status();
  CK_CO_RETURN_IF_ERROR(CheckPutPreconditions(pending, *current));
  auto writer = co_await blobs_->Create();
  if (!writer.ok()) co_return writer.status();
  co_return std::unique_ptr<ObjectUpload>(std::make_unique<EmbeddedUpload>(
      this, std::move(pending), std::move(*writer), hash_->NewMd5()));
}

Task<Result<v1::ObjectInfo>> EmbeddedObjectStorage::Publish(const PendingObject& pending, std::string blob_id,
                                                      uint64_t size, std::string etag) {
  // Once the record is written (or the blob dropped), sweeps judge the blob by it.
  struct Published {
    std::unordered_set<std::string>* unpublished;
    std::string blob_id;
    ~Published() { unpublished->erase(blob_id); }
  } published{&unpublished_, blob_id};
  // The bucket or the object may have changed while the body streamed in.
  auto holding = writing_.Acquire({{BucketKey(pending.bucket), false}, {ObjectKey(pending.bucket, pending.key), true}});
  co_await holding->Granted();
  ObjectRecord record;
  record.set_blob_id(blob_id);
  record.set_size(size);
  record.set_etag(std::move(etag));
  record.set_last_modified_ms(clock_->NowMs());
  record.set_content_type(pending.content_type.empty() ? "application/octet-stream"
                                                       : pending.content_type);
  record.mutable_metadata()->insert(pending.metadata.begin(), pending.metadata.end());
  // Writes only over what it checked, into the bucket it found.
  for (int conflicts = 0;; ++conflicts) {
    std::string bucket_record;
    std::optional<std::string> replaced;
    Status bucket = co_await RequireBucket(pending.bucket, &bucket_record);
    Result<std::optional<ObjectRecord>> current = bucket;
    if (bucket.ok()) current = co_await LoadObject(pending.bucket, pending.key, &replaced);
    Status allowed = current.ok() ? CheckPutPreconditions(pending, *current) : current.status();
    if (!allowed.ok()) {
      co_await DiscardBlob(blob_id);
      co_return allowed;
    }
    ports::WriteBatch batch;
    batch.Expect(BucketKey(pending.bucket), std::move(bucket_record));
    batch.Expect(ObjectKey(pending.bucket, pending.key), std::move(replaced));
    batch.Put(ObjectKey(pending.bucket, pending.key), record.SerializeAsString());
    Status written = co_await records_->Write(std::move(batch));
    if (ports::IsWriteConflict(written) && conflicts < ports::kMaxWriteConflicts) continue;
    if (!written.ok()) {
      co_await DiscardBlob(blob_id);
      co_return written;
    }
    if (*current) co_await DiscardBlob((*current)->blob_id());
    co_return ToInfo(pending.bucket, pending.key, record);
  }
}

Task<Result<std::unique_ptr<ObjectDownload>>> EmbeddedObjectStorage::BeginGet(const v1::GetObjectRequest& req,
                                                                        v1::GetObjectResponse* head) {
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  auto record = co_await LoadObject(req.bucket(), req.key());
  if (!record.ok()) co_return record.status();
  if (!*record) co_return Status::NotFound(Describe(req.bucket(), req.key()));
  const ObjectRecord& r = **record;
  if (!req.if_match().empty() && !EtagMatches(req.if_match(), r.etag())) {
    co_return Status::FailedPrecondition(Describe(req.bucket(), req.key()) + " has ETag " + r.etag() +
                                      ", not " + req.if_match());
  }
  if (!req.if_none_match().empty() && EtagMatches(req.if_none_match(), r.etag())) {
    co_return Status::FailedPrecondition(Describe(req.bucket(), req.key()) + " still has ETag " + r.etag());
  }
  uint64_t start = 0, length = r.size();
  if (req.has_range()) {
    if (req.range_start() > r.size()) {
      co_return Status::InvalidArgument("range start " + std::to_string(req.range_start()) +
                                     " is beyond the " + std::to_string(r.size()) + " bytes of " +
                                     Describe(req.bucket(), req.key()));
    }
    start = req.range_start();
    length = r.size() - start;
    if (req.range_length() != 0) length = std::min<uint64_t>(length, req.range_length());
  }
  auto reader = co_await blobs_->Open(r.blob_id());
  if (!reader.ok()) {
    co_return Status::Internal("content of " + Describe(req.bucket(), req.key()) + " is missing: " +
                            reader.status().message());
  }
  *head->mutable_object() = ToInfo(req.bucket(), req.key(), r);
  head->set_range_start(start);
  head->set_content_length(length);
  co_return std::unique_ptr<ObjectDownload>(std::make_unique<EmbeddedDownload>(std::move(*reader), start, length));
}

Task<Result<v1::HeadObjectResponse>> EmbeddedObjectStorage::HeadObject(const v1::HeadObjectRequest& req) {
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  auto record = co_await LoadObject(req.bucket(), req.key());
  if (!record.ok()) co_return record.status();
  if (!*record) co_return Status::NotFound(Describe(req.bucket(), req.key()));
  v1::HeadObjectResponse resp;
  *resp.mutable_object() = ToInfo(req.bucket(), req.key(), **record);
  co_return resp;
}

Task<Result<v1::DeleteObjectResponse>> EmbeddedObjectStorage::DeleteObject(const v1::DeleteObjectRequest& req) {
  CK_CO_RETURN_IF_ERROR(names::CheckContainerName("bucket", req.bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  auto holding = writing_.Acquire({{BucketKey(req.bucket()), false}, {ObjectKey(req.bucket(), req.key()), true}});
  co_await holding->Granted();
  // Deletes only the record it checked.
  for (int conflicts = 0;; ++conflicts) {
    CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket()));
    std::optional<std::string> stored;
    auto record = co_await LoadObject(req.bucket(), req.key(), &stored);
    if (!record.ok()) co_return record.status();
    v1::DeleteObjectResponse resp;
    if (!req.if_match().empty()) {
      if (!*record) co_return Status::NotFound(Describe(req.bucket(), req.key()));
      if (!EtagMatches(req.if_match(), (*record)->etag())) {
        co_return Status::FailedPrecondition(Describe(req.bucket(), req.key()) + " has ETag " +
                                          (*record)->etag() + ", not " + req.if_match());
      }
    }
    if (!*record) co_return resp;
    ports::WriteBatch batch;
    batch.Expect(ObjectKey(req.bucket(), req.key()), std::move(stored));
    batch.Delete(ObjectKey(req.bucket(), req.key()));
    Status written = co_await records_->Write(std::move(batch));
    if (ports::IsWriteConflict(written) && conflicts < ports::kMaxWriteConflicts) continue;
    CK_CO_RETURN_IF_ERROR(written);
    co_await DiscardBlob((*record)->blob_id());
    resp.set_existed(true);
    co_return resp;
  }
}

Task<Result<v1::DeleteObjectsResponse>> EmbeddedObjectStorage::DeleteObjects(const v1::DeleteObjectsRequest& req) {
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket()));
  if (req.keys_size() > static_cast<int>(kMaxDeleteKeys)) {
    co_return Status::InvalidArgument("at most " + std::to_string(kMaxDeleteKeys) +
                                   " keys per delete, got " + std::to_string(req.keys_size()));
  }
  std::vector<KeyLocks::Key> held{{BucketKey(req.bucket()), false}};
  for (const std::string& key : req.keys()) held.push_back({ObjectKey(req.bucket(), key), true});
  auto holding = writing_.Acquire(std::move(held));
  co_await holding->Granted();
  // Deletes only the records it read.
  for (int conflicts = 0;; ++conflicts) {
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
      std::optional<std::string> stored;
      auto record = co_await LoadObject(req.bucket(), key, &stored);
      if (!record.ok()) co_return record.status();
      if (*record) {
        batch.Expect(ObjectKey(req.bucket(), key), std::move(stored));
        batch.Delete(ObjectKey(req.bucket(), key));
        blobs_to_remove.push_back((*record)->blob_id());
      }
      resp.add_deleted(key);
    }
    if (!batch.ops.empty()) {
      Status written = co_await records_->Write(std::move(batch));
      if (ports::IsWriteConflict(written) && conflicts < ports::kMaxWriteConflicts) continue;
      CK_CO_RETURN_IF_ERROR(written);
    }
    for (const std::string& blob : blobs_to_remove) co_await DiscardBlob(blob);
    co_return resp;
  }
}

Task<Result<v1::CopyObjectResponse>> EmbeddedObjectStorage::CopyObject(const v1::CopyObjectRequest& req) {
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.source_bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.source_key()));
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket()));
  CK_CO_RETURN_IF_ERROR(names::CheckObjectKey(req.key()));
  auto source = co_await LoadObject(req.source_bucket(), req.source_key());
  if (!source.ok()) co_return source.status();
  if (!*source) co_return Status::NotFound(Describe(req.source_bucket(), req.source_key()));
  const ObjectRecord& src = **source;
  if (!req.if_match().empty() && !EtagMatches(req.if_match(), src.etag())) {
    co_return Status::FailedPrecondition(Describe(req.source_bucket(), req.source_key()) + " has ETag " +
                                      src.etag() + ", not " + req.if_match());
  }
  // Each record names a blob of its own (removing one must not take another's
  // content); the store makes the copy, in one step, off this actor.
  const uint64_t commit = CommitStarts();
  Result<std::string> blob_id = co_await blobs_->Copy(src.blob_id());
  CommitEnded(commit, blob_id);
  if (!blob_id.ok()) {
    co_return Status(blob_id.status().code(), "copying " + Describe(req.source_bucket(), req.source_key()) + ": " +
                                                  blob_id.status().message(), blob_id.status().retryable());
  }
  PendingObject pending{req.bucket(), req.key(), src.content_type(), "", false,
                        {src.metadata().begin(), src.metadata().end()}};
  Result<v1::ObjectInfo> info = co_await Publish(pending, *blob_id, src.size(), src.etag());
  if (!info.ok()) co_return info.status();
  v1::CopyObjectResponse resp;
  *resp.mutable_object() = std::move(*info);
  co_return resp;
}

Task<Result<v1::ListObjectsResponse>> EmbeddedObjectStorage::ListObjects(const v1::ListObjectsRequest& req) {
  CK_CO_RETURN_IF_ERROR(co_await RequireBucket(req.bucket()));
  const std::string base = ObjectKey(req.bucket(), "");
  const std::string& prefix = req.prefix();
  const std::string& delimiter = req.delimiter();
  const std::string end = PrefixSuccessor(base + prefix);
  std::string start = base + prefix;
  if (!req.continuation_token().empty()) {
    std::optional<std::string> resume = DecodeToken(req.continuation_token());
    if (!resume || *resume < start || (!end.empty() && *resume >= end)) {
      co_return Status::InvalidArgument("continuation token does not belong to this listing of bucket " +
                                     names::Quote(req.bucket()));
    }
    start = *resume;
  }
  const uint32_t page = PageSize(req.page_size());
  v1::ListObjectsResponse resp;
  uint32_t count = 0;
  bool exhausted = false;
  while (count < page && !exhausted) {
    const size_t want = page - count;
    Result<ports::OrderedStore::Entries> batch = co_await records_->Scan(start, end, want);
    if (!batch.ok()) co_return batch.status();
    exhausted = batch->size() < want;
    for (const auto& [store_key, value] : *batch) {
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
        co_return Status::Internal("corrupt record for " + Describe(req.bucket(), key));
      }
      *resp.add_objects() = ToInfo(req.bucket(), key, record);
      ++count;
      start = store_key + '\0';
      if (count == page) break;
    }
  }
  if (count == page && !start.empty()) {
    Result<ports::OrderedStore::Entries> probe = co_await records_->Scan(start, end, 1);
    if (!probe.ok()) co_return probe.status();
    if (!probe->empty()) resp.set_next_continuation_token(EncodeToken(start));
  }
  co_return resp;
}

}  // namespace cloudkit::embedded
