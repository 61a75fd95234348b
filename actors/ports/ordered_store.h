// OrderedStore port: a durable, ordered map from byte-string keys to byte-string
// values with atomic batched writes. The embedded providers keep all their
// metadata in one (buckets, object records, key-value items). Natively it is a
// SQLite table (runtime/ports/sqlite_ordered_store); in memory a std::map
// (ports/memory_storage); in the browser, IndexedDB.
//
// REQUIRES: one user at a time (the actor owning it); implementations need not
// be thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace cloudkit::ports {

struct WriteBatch {
  struct Op {
    std::string key;
    std::optional<std::string> value;  // nullopt = delete
  };
  std::vector<Op> ops;
  void Put(std::string key, std::string value) { ops.push_back({std::move(key), std::move(value)}); }
  void Delete(std::string key) { ops.push_back({std::move(key), std::nullopt}); }
};

class OrderedStore {
 public:
  virtual ~OrderedStore() = default;

  // OK with the value, NOT_FOUND when absent, another code on I/O failure.
  virtual Result<std::string> Get(const std::string& key) = 0;

  // Appends to *out up to `limit` entries with start <= key < end, in key
  // order. An empty `end` means no upper bound.
  virtual Status Scan(const std::string& start, const std::string& end, size_t limit,
                      std::vector<std::pair<std::string, std::string>>* out) = 0;

  // Applies every op or none. When it returns OK the batch is durable: it
  // survives a crash of the process (for durable implementations).
  virtual Status Write(const WriteBatch& batch) = 0;
};

}  // namespace cloudkit::ports
