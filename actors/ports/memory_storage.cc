#include "ports/memory_storage.h"

#include <algorithm>

namespace cloudkit::ports {

Result<std::string> MemoryOrderedStore::Get(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return Status::NotFound("key");
  return it->second;
}

Status MemoryOrderedStore::Scan(const std::string& start, const std::string& end, size_t limit,
                                std::vector<std::pair<std::string, std::string>>* out) {
  for (auto it = entries_.lower_bound(start);
       it != entries_.end() && limit > 0 && (end.empty() || it->first < end); ++it, --limit) {
    out->emplace_back(it->first, it->second);
  }
  return Status::Ok();
}

Status MemoryOrderedStore::Write(const WriteBatch& batch) {
  for (const WriteBatch::Op& op : batch.ops) {
    if (op.value) {
      entries_[op.key] = *op.value;
    } else {
      entries_.erase(op.key);
    }
  }
  return Status::Ok();
}

class MemoryBlobWriter : public BlobWriter {
 public:
  MemoryBlobWriter(MemoryBlobStore* store) : store_(store) {}
  Status Append(std::string_view chunk) override {
    if (!store_) return Status::FailedPrecondition("blob writer already finished");
    content_.append(chunk);
    return Status::Ok();
  }
  Result<std::string> Commit() override {
    if (!store_) return Status::FailedPrecondition("blob writer already finished");
    std::string id = std::to_string(store_->next_id_++);
    store_->blobs_[id] = std::make_shared<const std::string>(std::move(content_));
    store_ = nullptr;
    return id;
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
  Result<std::string> Read(uint64_t offset, size_t max_bytes) override {
    if (offset >= content_->size()) return std::string();
    return content_->substr(offset, max_bytes);
  }

 private:
  std::shared_ptr<const std::string> content_;
};

}  // namespace

Result<std::unique_ptr<BlobWriter>> MemoryBlobStore::Create() {
  return std::unique_ptr<BlobWriter>(std::make_unique<MemoryBlobWriter>(this));
}

Result<std::unique_ptr<BlobReader>> MemoryBlobStore::Open(const std::string& blob_id) {
  auto it = blobs_.find(blob_id);
  if (it == blobs_.end()) return Status::NotFound("blob '" + blob_id + "'");
  return std::unique_ptr<BlobReader>(std::make_unique<MemoryBlobReader>(it->second));
}

Status MemoryBlobStore::Remove(const std::string& blob_id) {
  blobs_.erase(blob_id);
  return Status::Ok();
}

Result<std::unique_ptr<OrderedStore>> MemoryStoragePort::OpenOrderedStore(const std::string&) {
  return std::unique_ptr<OrderedStore>(std::make_unique<MemoryOrderedStore>());
}

Result<std::unique_ptr<BlobStore>> MemoryStoragePort::OpenBlobStore(const std::string&) {
  return std::unique_ptr<BlobStore>(std::make_unique<MemoryBlobStore>());
}

}  // namespace cloudkit::ports
