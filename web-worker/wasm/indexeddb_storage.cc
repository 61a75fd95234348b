#include "indexeddb_storage.h"

#include <emscripten.h>
#include <emscripten/em_js.h>

#include <map>
#include <memory>
#include <set>

#include "cloudkit/web/v1/worker.pb.h"
#include "core/task.h"
#include "js_port_call.h"

// Starts opening the database `name` and returns its handle at once (the JS
// side queues the calls on it until it is open).
EM_JS(double, ck_idb_open, (const char* name), { return Module.ckIdb.open(UTF8ToString(name)); });

namespace cloudkit::web {
namespace {

constexpr size_t kBlobChunk = 256 << 10;
constexpr char kPort[] = "ckIdb";

// Runs `task` (it starts now, on the caller's turn) and hands its result over
// as what a port returns.
template <typename T>
Task<void> CompleteWith(Task<T> task, Completion<T> done) {
  done.Complete(co_await std::move(task));
}
template <typename T>
Async<T> Begin(Task<T> task) {
  Completion<T> done;
  Detach(CompleteWith(std::move(task), done));
  return done.async();
}

Result<v1::StorageReply> Parse(const char* op, Result<std::string> bytes) {
  if (!bytes.ok()) return bytes.status();
  v1::StorageReply reply;
  if (!reply.ParseFromString(*bytes)) return Status::Internal(std::string("indexeddb ") + op + ": reply does not parse");
  if (reply.code() != 0) return Status(static_cast<StatusCode>(reply.code()), reply.message());
  return reply;
}

Task<Result<v1::StorageReply>> Call(const char* op, v1::StorageRequest request) {
  co_return Parse(op, co_await CallJsPort(kPort, op, request.SerializeAsString()));
}

Task<Status> CallStatus(const char* op, v1::StorageRequest request) {
  Result<v1::StorageReply> reply = co_await Call(op, std::move(request));
  co_return reply.status();
}

void RemoveBlobLater(int64_t db, const std::string& blob_id) {
  v1::StorageRequest request;
  request.set_db(db);
  request.set_name(blob_id);
  CallJsPortAndForget(kPort, "blob_remove", request.SerializeAsString());
}

class IdbOrderedStore : public ports::OrderedStore {
 public:
  explicit IdbOrderedStore(int64_t db) : db_(db) {}

  Async<Result<std::string>> Get(const std::string& key) override {
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_key(key);
    return Begin(GetTask(std::move(request)));
  }

  Async<Result<Entries>> Scan(const std::string& start, const std::string& end, size_t limit) override {
    if (limit == 0) return Async<Result<Entries>>::Ready(Entries());
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_start(start);
    request.set_end(end);
    request.set_count(limit);
    return Begin(ScanTask(std::move(request)));
  }

  Async<Status> Write(ports::WriteBatch batch) override {
    v1::StorageRequest request;
    request.set_db(db_);
    for (auto& op : batch.ops) {
      v1::StorageOp* out = request.add_ops();
      out->set_key(std::move(op.key));
      if (op.value) out->set_value(std::move(*op.value)); else out->set_remove(true);
    }
    for (auto& expected : batch.expected) {
      v1::StorageOp* out = request.add_expected();
      out->set_key(std::move(expected.key));
      if (expected.value) out->set_value(std::move(*expected.value)); else out->set_remove(true);
    }
    for (auto& range : batch.empty_ranges) {
      v1::StorageRange* out = request.add_empty_ranges();
      out->set_start(std::move(range.start));
      out->set_end(std::move(range.end));
    }
    return Begin(CallStatus("write", std::move(request)));
  }

 private:
  static Task<Result<std::string>> GetTask(v1::StorageRequest request) {
    Result<v1::StorageReply> reply = co_await Call("get", std::move(request));
    if (!reply.ok()) co_return reply.status();
    if (!reply->found()) co_return Status::NotFound("key");
    co_return std::move(*reply->mutable_value());
  }

  static Task<Result<Entries>> ScanTask(v1::StorageRequest request) {
    Result<v1::StorageReply> reply = co_await Call("scan", std::move(request));
    if (!reply.ok()) co_return reply.status();
    Entries out;
    out.reserve(reply->keys_size());
    for (int i = 0; i < reply->keys_size() && i < reply->values_size(); ++i) {
      out.emplace_back(std::move(*reply->mutable_keys(i)), std::move(*reply->mutable_values(i)));
    }
    co_return out;
  }

  int64_t db_;
};

class IdbBlobWriter : public ports::BlobWriter {
 public:
  IdbBlobWriter(int64_t db, std::string id) : db_(db), id_(std::move(id)) {}
  ~IdbBlobWriter() override { Abort(); }

  Async<Status> Append(std::string chunk) override {
    if (done_) return Async<Status>::Ready(Status::FailedPrecondition("blob writer already finished"));
    // Whole chunks go out at once; a tail waits for more (or Commit).
    if (pending_.empty() && chunk.size() < kBlobChunk) {
      pending_ = std::move(chunk);
      return Async<Status>::Ready(Status::Ok());
    }
    return Begin(AppendTask(std::move(chunk)));
  }

  Async<Result<std::string>> Commit() override {
    if (done_) return Async<Result<std::string>>::Ready(Status::FailedPrecondition("blob writer already finished"));
    return Begin(CommitTask());
  }

  void Abort() override {
    if (done_) return;
    done_ = true;
    if (chunks_ > 0) RemoveBlobLater(db_, id_);
  }

 private:
  Task<Status> AppendTask(std::string chunk) {
    std::string_view rest = chunk;
    while (!rest.empty()) {
      size_t take = std::min(rest.size(), kBlobChunk - pending_.size());
      pending_.append(rest.substr(0, take));
      rest.remove_prefix(take);
      if (pending_.size() == kBlobChunk) CK_CO_RETURN_IF_ERROR(co_await Flush());
    }
    co_return Status::Ok();
  }

  Task<Result<std::string>> CommitTask() {
    if (!pending_.empty()) CK_CO_RETURN_IF_ERROR(co_await Flush());
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_name(id_);
    request.set_count(size_);
    CK_CO_RETURN_IF_ERROR(co_await CallStatus("blob_commit", std::move(request)));
    done_ = true;
    co_return id_;
  }

  Task<Status> Flush() {
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_name(id_);
    request.set_count(chunks_);
    const size_t size = pending_.size();
    request.set_data(std::move(pending_));
    pending_.clear();
    // Counted before the answer: an abort meanwhile must remove the chunk.
    size_ += size;
    ++chunks_;
    co_return co_await CallStatus("chunk_put", std::move(request));
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
    if (open_->doomed.erase(id_)) RemoveBlobLater(db_, id_);
  }
  uint64_t size() const override { return size_; }

  // Returns the rest of the chunk holding `offset`, up to max_bytes.
  Async<Result<std::string>> Read(uint64_t offset, size_t max_bytes) override {
    if (offset >= size_ || max_bytes == 0) return Async<Result<std::string>>::Ready(std::string());
    uint64_t index = offset / kBlobChunk;
    if (index == cached_index_) return Async<Result<std::string>>::Ready(FromCache(index, offset, max_bytes));
    return Begin(ReadTask(index, offset, max_bytes));
  }

 private:
  Task<Result<std::string>> ReadTask(uint64_t index, uint64_t offset, size_t max_bytes) {
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_name(id_);
    request.set_count(index);
    Result<v1::StorageReply> reply = co_await Call("chunk_get", std::move(request));
    if (!reply.ok()) co_return reply.status();
    if (!reply->found()) co_return Status::Internal("chunk " + std::to_string(index) + " of blob " + id_ + " is missing");
    cached_ = std::move(*reply->mutable_value());
    cached_index_ = index;
    co_return FromCache(index, offset, max_bytes);
  }

  Result<std::string> FromCache(uint64_t index, uint64_t offset, size_t max_bytes) const {
    size_t at = static_cast<size_t>(offset - index * kBlobChunk);
    if (at >= cached_.size()) return Status::Internal("blob " + id_ + " is shorter than its size");
    return cached_.substr(at, max_bytes);
  }

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

  Async<Result<std::unique_ptr<ports::BlobWriter>>> Create() override {
    v1::StorageRequest request;
    request.set_db(db_);
    return Begin(CreateTask(db_, std::move(request)));
  }

  Async<Result<std::unique_ptr<ports::BlobReader>>> Open(const std::string& blob_id) override {
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_name(blob_id);
    return Begin(OpenTask(open_, std::move(request)));
  }

  Async<Status> Remove(const std::string& blob_id) override {
    if (open_->readers.count(blob_id)) {
      open_->doomed.insert(blob_id);
      return Async<Status>::Ready(Status::Ok());
    }
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_name(blob_id);
    return Begin(CallStatus("blob_remove", std::move(request)));
  }

  // IndexedDB has no copy of its own: chunk by chunk, through the worker.
  Async<Result<std::string>> Copy(const std::string& blob_id) override {
    v1::StorageRequest request;
    request.set_db(db_);
    request.set_name(blob_id);
    return Begin(CopyTask(db_, open_, std::move(request)));
  }

 private:
  static Task<Result<std::string>> CopyTask(int64_t db, std::shared_ptr<OpenBlobs> open, v1::StorageRequest source) {
    Result<std::unique_ptr<ports::BlobReader>> reader = co_await OpenTask(std::move(open), std::move(source));
    if (!reader.ok()) co_return reader.status();
    v1::StorageRequest create;
    create.set_db(db);
    Result<std::unique_ptr<ports::BlobWriter>> writer = co_await CreateTask(db, std::move(create));
    if (!writer.ok()) co_return writer.status();
    for (uint64_t offset = 0; offset < (*reader)->size();) {
      Result<std::string> chunk = co_await (*reader)->Read(offset, kBlobChunk);
      if (!chunk.ok()) co_return chunk.status();
      if (chunk->empty()) co_return Status::Internal("a blob ended before its size while being copied");
      offset += chunk->size();
      CK_CO_RETURN_IF_ERROR(co_await (*writer)->Append(std::move(*chunk)));
    }
    co_return co_await (*writer)->Commit();
  }

  static Task<Result<std::unique_ptr<ports::BlobWriter>>> CreateTask(int64_t db, v1::StorageRequest request) {
    Result<v1::StorageReply> reply = co_await Call("blob_new_id", std::move(request));
    if (!reply.ok()) co_return reply.status();
    co_return std::unique_ptr<ports::BlobWriter>(std::make_unique<IdbBlobWriter>(db, reply->message()));
  }

  static Task<Result<std::unique_ptr<ports::BlobReader>>> OpenTask(std::shared_ptr<OpenBlobs> open,
                                                                   v1::StorageRequest request) {
    Result<v1::StorageReply> reply = co_await Call("blob_size", request);
    if (!reply.ok()) co_return reply.status();
    if (!reply->found()) co_return Status::NotFound("blob '" + request.name() + "'");
    co_return std::unique_ptr<ports::BlobReader>(
        std::make_unique<IdbBlobReader>(std::move(open), request.name(), static_cast<uint64_t>(reply->number())));
  }

  int64_t db_;
  std::shared_ptr<OpenBlobs> open_;
};

int64_t Open(const std::string& location) { return static_cast<int64_t>(ck_idb_open(location.c_str())); }

}  // namespace

Result<std::unique_ptr<ports::OrderedStore>> IndexedDbStoragePort::OpenOrderedStore(const std::string& location) {
  return std::unique_ptr<ports::OrderedStore>(std::make_unique<IdbOrderedStore>(Open(location)));
}

Result<std::unique_ptr<ports::BlobStore>> IndexedDbStoragePort::OpenBlobStore(const std::string& location) {
  return std::unique_ptr<ports::BlobStore>(std::make_unique<IdbBlobStore>(Open(location)));
}

}  // namespace cloudkit::web
