// OrderedStore port: a durable, ordered map from byte-string keys to byte-string
// values with atomic batched writes. The embedded providers keep all their
// metadata in one (buckets, object records, key-value items). Natively it is a
// SQLite table (runtime/ports/sqlite_ordered_store); in memory a std::map
// (ports/memory_storage); in the browser, IndexedDB.
//
// Many stores may share one location: the tabs of a browser origin each open
// the same IndexedDB database. A write that relies on what its writer read
// says so in its batch (Expect*): the store checks those expectations inside
// the write's own transaction and, when one no longer holds, writes nothing
// and answers ABORTED, so a read-check-write is atomic across all of them.
//
// Every call is asynchronous (core/async.h): an implementation that must wait
// (SQLite natively, IndexedDB) answers on a later turn of the calling actor,
// in the order the calls were made; the memory one answers at once.
//
// REQUIRES: called from the turns of the one actor owning the store.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/async.h"
#include "core/status.h"

namespace cloudkit::ports {

struct WriteBatch {
  struct Op {
    std::string key;
    std::optional<std::string> value;  // nullopt = delete
  };
  // `key` holds `value` when the batch is applied (nullopt: `key` is absent).
  struct Expected {
    std::string key;
    std::optional<std::string> value;
  };
  // No key k with start <= k < end exists when the batch is applied.
  struct EmptyRange {
    std::string start;
    std::string end;
  };
  std::vector<Op> ops;
  std::vector<Expected> expected;
  std::vector<EmptyRange> empty_ranges;
  void Put(std::string key, std::string value) { ops.push_back({std::move(key), std::move(value)}); }
  void Delete(std::string key) { ops.push_back({std::move(key), std::nullopt}); }
  // What the writer read, as the store returned it (nullopt: NOT_FOUND).
  void Expect(std::string key, std::optional<std::string> value) {
    expected.push_back({std::move(key), std::move(value)});
  }
  void ExpectEmpty(std::string start, std::string end) { empty_ranges.push_back({std::move(start), std::move(end)}); }
  bool conditional() const { return !expected.empty() || !empty_ranges.empty(); }
};

// The answer of a Write whose expectations did not hold: nothing was written;
// the writer reads again and decides again.
inline bool IsWriteConflict(const Status& written) { return written.code() == v1::ABORTED; }
// How often an operation re-reads after conflicts before answering ABORTED
// (retryable) itself.
constexpr int kMaxWriteConflicts = 32;

class OrderedStore {
 public:
  virtual ~OrderedStore() = default;

  using Entries = std::vector<std::pair<std::string, std::string>>;

  // OK with the value, NOT_FOUND when absent, another code on I/O failure.
  virtual Async<Result<std::string>> Get(const std::string& key) = 0;

  // Up to `limit` entries with start <= key < end, in key order. An empty
  // `end` means no upper bound.
  virtual Async<Result<Entries>> Scan(const std::string& start, const std::string& end, size_t limit) = 0;

  // Applies every op or none, after every write asked for before it, if the
  // batch's expectations hold then; ABORTED (nothing written) if one does
  // not. A batch's expectations are checked after the writes before it. When it
  // answers OK the batch is durable: it survives a crash of the process (for
  // durable implementations). Writes asked for while one is being made durable
  // may share the next sync (group commit).
  virtual Async<Status> Write(WriteBatch batch) = 0;
};

}  // namespace cloudkit::ports
