// In-memory implementations of the storage ports: the `memory` provider's
// backing, and what unit tests use when they need a store without a disk.
// Nothing here survives the process. Every call answers at once (an Async
// that is ready), so an operation over memory never suspends. Not
// thread-safe (one owner at a time, like every store the ports hand out).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "ports/blob_store.h"
#include "ports/ordered_store.h"
#include "ports/storage.h"

namespace cloudkit::ports {

class MemoryOrderedStore : public OrderedStore {
 public:
  Async<Result<std::string>> Get(const std::string& key) override;
  Async<Result<Entries>> Scan(const std::string& start, const std::string& end, size_t limit) override;
  Async<Status> Write(WriteBatch batch) override;

 private:
  std::map<std::string, std::string> entries_;
};

// Blobs are immutable once committed, so readers share them: a download keeps
// reading the content it opened even if the object is replaced meanwhile.
class MemoryBlobStore : public BlobStore {
 public:
  Async<Result<std::unique_ptr<BlobWriter>>> Create() override;
  Async<Result<std::unique_ptr<BlobReader>>> Open(const std::string& blob_id) override;
  Async<Status> Remove(const std::string& blob_id) override;
  Async<Result<std::string>> Copy(const std::string& blob_id) override;

 private:
  friend class MemoryBlobWriter;
  uint64_t next_id_ = 1;
  std::map<std::string, std::shared_ptr<const std::string>> blobs_;
};

// Every OpenXxx call gives a new, empty store; `location` is ignored.
class MemoryStoragePort : public StoragePort {
 public:
  Result<std::unique_ptr<OrderedStore>> OpenOrderedStore(const std::string& location) override;
  Result<std::unique_ptr<BlobStore>> OpenBlobStore(const std::string& location) override;
};

}  // namespace cloudkit::ports
