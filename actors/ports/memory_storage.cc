#include "ports/memory_storage.h"

#include <algorithm>

namespace cloudkit::ports {

Async<Result<std::string>> MemoryOrderedStore::Get(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return Async<Result<std::string>>::Ready(Status::NotFound("key"));
  return Async<Result<std::string>>::Ready(it->second);
}

Async<Result<OrderedStore::Entries>> MemoryOrderedStore::Scan(const std::string& start, const std::string& end,
                                                              size_t limit) {
  Entries out;
  for (auto it = entries_.lower_bound(start);
       it != entries_.end() && limit > 0 && (end.empty() || it->first < end); ++it, --limit) {
    out.emplace_back(it->first, it->second);
  }
  return Async<Result<Entries>>::Ready(std::move(out));
}

Async<Status> MemoryOrderedStore::Write(WriteBatch batch) {
  for (const WriteBatch::Expected& expected : batch.expected) {
    auto it = entries_.find(expected.key);
    const bool holds = expected.value ? it != entries_.end() && it->second == *expected.value : it == entries_.end();
    if (!holds) return Async<Status>::Ready(Status::Aborted("a key the write read has changed since"));
  }
  for (const WriteBatch::EmptyRange& range : batch.empty_ranges) {
    auto it = entries_.lower_bound(range.start);
    if (it != entries_.end() && (range.end.empty() || it->first < range.end)) {
      return Async<Status>::Ready(Status::Aborted("a range the write read as empty has a key since"));
    }
  }
  for (WriteBatch::Op& op : batch.ops) {
    if (op.value) {
      entries_[std::move(op.key)] = std::move(*op.value);
    } else {
      entries_.erase(op.key);
    }
  }
  return Async<Status>::Ready(Status::Ok());
}

class MemoryBlobWriter : public BlobWriter {
 public:
  MemoryBlobWriter(MemoryBlobStore* store) : store_(store) {}
  Async<Status> Append(std::string chunk) override {
    if (!store_) return Async<Status>::Ready(Status::FailedPrecondition("blob writer already finished"));
    content_.append(chunk);
    return Async<Status>::Ready(Status::Ok());
  }
  Async<Result<std::string>> Commit() override {
    if (!store_) return Async<Result<std::string>>::Ready(Status::FailedPrecondition("blob writer already finished"));
    std::string id = std::to_string(store_->next_id_++);
    store_->blobs_[id] = std::make_shared<const std::string>(std::move(content_));
    store_ = nullptr;
    return Async<Result<std::string>>::Ready(std::move(id));
  }
  void Abort() override {
    store_ = nullptr;
    content_.clear();
  }

 private:
  MemoryBlobStore* store_;
  std::string content_;
};

namespace {

class MemoryBlobReader : public BlobReader {
 public:
  explicit MemoryBlobReader(std::shared_ptr<const std::string> content)
      : content_(std::move(content)) {}
  uint64_t size() const override { return content_->size(); }
  Async<Result<std::string>> Read(uint64_t offset, size_t max_bytes) override {
    if (offset >= content_->size()) return Async<Result<std::string>>::Ready(std::string());
    return Async<Result<std::string>>::Ready(content_->substr(offset, max_bytes));
  }

 private:
  std::shared_ptr<const std::string> content_;
};

}  // namespace

Async<Result<std::unique_ptr<BlobWriter>>> MemoryBlobStore::Create() {
  return Async<Result<std::unique_ptr<BlobWriter>>>::Ready(std::unique_ptr<BlobWriter>(
      std::make_unique<MemoryBlobWriter>(this)));
}

Async<Result<std::unique_ptr<BlobReader>>> MemoryBlobStore::Open(const std::string& blob_id) {
  using Opened = Result<std::unique_ptr<BlobReader>>;
  auto it = blobs_.find(blob_id);
  if (it == blobs_.end()) return Async<Opened>::Ready(Status::NotFound("blob '" + blob_id + "'"));
  return Async<Opened>::Ready(std::unique_ptr<BlobReader>(std::make_unique<MemoryBlobReader>(it->second)));
}

Async<Status> MemoryBlobStore::Remove(const std::string& blob_id) {
  blobs_.erase(blob_id);
  return Async<Status>::Ready(Status::Ok());
}

Async<Result<std::string>> MemoryBlobStore::Copy(const std::string& blob_id) {
  auto it = blobs_.find(blob_id);
  if (it == blobs_.end()) return Async<Result<std::string>>::Ready(Status::NotFound("blob '" + blob_id + "'"));
  std::string id = std::to_string(next_id_++);
  blobs_[id] = it->second;  // immutable content, shared
  return Async<Result<std::string>>::Ready(std::move(id));
}

Result<std::unique_ptr<OrderedStore>> MemoryStoragePort::OpenOrderedStore(const std::string&) {
  return std::unique_ptr<OrderedStore>(std::make_unique<MemoryOrderedStore>());
}

Result<std::unique_ptr<BlobStore>> MemoryStoragePort::OpenBlobStore(const std::string&) {
  return std::unique_ptr<BlobStore>(std::make_unique<MemoryBlobStore>());
}

}  // namespace cloudkit::ports
