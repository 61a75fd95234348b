#include "indexeddb_storage.h"

#include <map>
#include <memory>
#include <set>

#include "cloudkit/web/v1/worker.pb.h"
#include "js_port_call.h"

namespace cloudkit::web {
namespace {

constexpr size_t kBlobChunk = 256 << 10;

Result<v1::StorageReply> Call(const char* op, const v1::StorageRequest& request) {
  auto bytes = CallJsPort("ckIdb", op, request.SerializeAsString());
  if (!bytes.ok()) return bytes.status();
  v1::StorageReply reply;
  if (!reply.ParseFromString(*bytes)) return Status::Internal(std::string("indexeddb ") + op + ": reply does not parse");
  if (reply.code() != 0) return Status(static_cast<StatusCode>(reply.code()), reply.message());
  return reply;
}

Result<int64_t> Open(const std::string& location) {
  v1::StorageRequest request;
  request.set_name(location);
  auto reply = Call("open", request);
  if (!reply.ok()) return reply.status();
  return reply->number();
}

class IdbOrderedStore : public ports::OrderedStore {
 public:
  explicit IdbOrderedStore(int64_t db) : db_(db) {}

  Result<std::string> Get(const std::string& key) override {
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_key(key);
    auto reply = Call("get", request);
    if (!reply.ok()) return reply.status();
    if (!reply->found()) return Status::NotFound("key");
    return std::move(*reply->mutable_value());
  }

  Status Scan(const std::string& start, const std::string& end, size_t limit,
              std::vector<std::pair<std::string, std::string>>* out) override {
    if (limit == 0) return Status::Ok();
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_start(start);
    request.set_end(end);
    request.set_count(limit);
    auto reply = Call("scan", request);
    if (!reply.ok()) return reply.status();
    for (int i = 0; i < reply->keys_size() && i < reply->values_size(); ++i) {
      out->emplace_back(std::move(*reply->mutable_keys(i)), std::move(*reply->mutable_values(i)));
    }
    return Status::Ok();
  }

  Status Write(const ports::WriteBatch& batch) override {
    v1::StorageRequest request;
    request.set_db(db_);
    for (const auto& op : batch.ops) {
      v1::StorageOp* out = request.add_ops();
      out->set_key(op.key);
      if (op.value) out->set_value(*op.value); else out->set_remove(true);
    }
    return Call("write", request).status();
  }

 private:
  int64_t db_;
};

Status RemoveBlob(int64_t db, const std::string& blob_id) {
  v1::StorageRequest request;
  request.set_db(db);
  request.set_name(blob_id);
  return Call("blob_remove", request).status();
}

class IdbBlobWriter : public ports::BlobWriter {
 public:
  IdbBlobWriter(int64_t db, std::string id) : db_(db), id_(std::move(id)) {}
  ~IdbBlobWriter() override { Abort(); }

  Status Append(std::string_view chunk) override {
    if (done_) return Status::FailedPrecondition("blob writer already finished");
    while (!chunk.empty()) {
      size_t take = std::min(chunk.size(), kBlobChunk - pending_.size());
      pending_.append(chunk.substr(0, take));
      chunk.remove_prefix(take);
      if (pending_.size() == kBlobChunk) CK_RETURN_IF_ERROR(Flush());
    }
    return Status::Ok();
  }

  Result<std::string> Commit() override {
    if (done_) return Status::FailedPrecondition("blob writer already finished");
    if (!pending_.empty()) CK_RETURN_IF_ERROR(Flush());
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_name(id_);
    request.set_count(size_);
    CK_RETURN_IF_ERROR(Call("blob_commit", request).status());
    done_ = true;
    return id_;
  }

  void Abort() override {
    if (done_) return;
    done_ = true;
    if (chunks_ > 0) (void)RemoveBlob(db_, id_);
  }

 private:
  Status Flush() {
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_name(id_);
    request.set_count(chunks_);
    request.set_data(std::move(pending_));
    pending_.clear();
    CK_RETURN_IF_ERROR(Call("chunk_put", request).status());
    size_ += request.data().size();
    ++chunks_;
    return Status::Ok();
  }

  int64_t db_;
  std::string id_;
  std::string pending_;
  uint64_t size_ = 0;
  uint64_t chunks_ = 0;
  bool done_ = false;
};

// Blobs with open readers, and those removed while still being read: like an
// unlinked file with open descriptors, such a blob goes when its last reader does.
struct OpenBlobs {
  int64_t db;
  std::map<std::string, int> readers;
  std::set<std::string> doomed;
};

class IdbBlobReader : public ports::BlobReader {
 public:
  IdbBlobReader(std::shared_ptr<OpenBlobs> open, std::string id, uint64_t size)
      : open_(std::move(open)), db_(open_->db), id_(std::move(id)), size_(size) {
    ++open_->readers[id_];
  }
  ~IdbBlobReader() override {
    if (--open_->readers[id_] > 0) return;
    open_->readers.erase(id_);
    if (open_->doomed.erase(id_)) (void)RemoveBlob(db_, id_);
  }
  uint64_t size() const override { return size_; }

  // Returns the rest of the chunk holding `offset`, up to max_bytes.
  Result<std::string> Read(uint64_t offset, size_t max_bytes) override {
    if (offset >= size_ || max_bytes == 0) return std::string();
    uint64_t index = offset / kBlobChunk;
    if (index != cached_index_) {
      v1::StorageRequest request;
      request.set_db(db_);
      request.set_name(id_);
      request.set_count(index);
      auto reply = Call("chunk_get", request);
      if (!reply.ok()) return reply.status();
      if (!reply->found()) return Status::Internal("chunk " + std::to_string(index) + " of blob " + id_ + " is missing");
      cached_ = std::move(*reply->mutable_value());
      cached_index_ = index;
    }
    size_t at = static_cast<size_t>(offset - index * kBlobChunk);
    if (at >= cached_.size()) return Status::Internal("blob " + id_ + " is shorter than its size");
    return cached_.substr(at, max_bytes);
  }

 private:
  std::shared_ptr<OpenBlobs> open_;
  int64_t db_;
  std::string id_;
  uint64_t size_;
  uint64_t cached_index_ = UINT64_MAX;
  std::string cached_;
};

class IdbBlobStore : public ports::BlobStore {
 public:
  explicit IdbBlobStore(int64_t db) : db_(db), open_(std::make_shared<OpenBlobs>()) { open_->db = db; }

  Result<std::unique_ptr<ports::BlobWriter>> Create() override {
    v1::StorageRequest request;
    request.set_db(db_);
    auto reply = Call("blob_new_id", request);
    if (!reply.ok()) return reply.status();
    return std::unique_ptr<ports::BlobWriter>(std::make_unique<IdbBlobWriter>(db_, reply->message()));
  }

  Result<std::unique_ptr<ports::BlobReader>> Open(const std::string& blob_id) override {
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_name(blob_id);
    auto reply = Call("blob_size", request);
    if (!reply.ok()) return reply.status();
    if (!reply->found()) return Status::NotFound("blob '" + blob_id + "'");
    return std::unique_ptr<ports::BlobReader>(
        std::make_unique<IdbBlobReader>(open_, blob_id, static_cast<uint64_t>(reply->number())));
  }

  Status Remove(const std::string& blob_id) override {
    if (open_->readers.count(blob_id)) {
      open_->doomed.insert(blob_id);
      return Status::Ok();
    }
    return RemoveBlob(db_, blob_id);
  }

 private:
  int64_t db_;
  std::shared_ptr<OpenBlobs> open_;
};

}  // namespace

Result<std::unique_ptr<ports::OrderedStore>> IndexedDbStoragePort::OpenOrderedStore(const std::string& location) {
  auto db = Open(location);
  if (!db.ok()) return db.status();
  return std::unique_ptr<ports::OrderedStore>(std::make_unique<IdbOrderedStore>(*db));
}

Result<std::unique_ptr<ports::BlobStore>> IndexedDbStoragePort::OpenBlobStore(const std::string& location) {
  auto db = Open(location);
  if (!db.ok()) return db.status();
  return std::unique_ptr<ports::BlobStore>(std::make_unique<IdbBlobStore>(*db));
}

}  // namespace cloudkit::web
