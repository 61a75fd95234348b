// SqliteOrderedStore: the blocking store behind the native OrderedStore port
// (runtime/ports/disk_stores runs it on its own disk lane), one SQLite file holding
// one table `kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID`.
//
// Durability: journal_mode=WAL with synchronous=FULL, so a Write that returned
// OK has been fsynced to the WAL and survives kill -9 of the process and loss
// of power. With `sync_each_commit` off (synchronous=NORMAL) a commit is in
// the WAL, so it survives kill -9, but it is durable against power loss only
// once SyncWal has returned after it: the caller syncs when it chooses, from
// another thread if it likes, and many commits share one sync. SQLite still
// syncs around its checkpoints, so the file is never corrupted either way. Keys compare as bytes (memcmp, then length), the same order as
// std::string. Each Write is one BEGIN IMMEDIATE ... COMMIT transaction and is
// rolled back as a whole on any error; its expectations are checked inside it.
//
// A full disk: beside the file lies `<path>.reserve`, `reserve_bytes` of
// allocated space. Writes that only delete may need room too (SQLite appends
// their pages to the WAL); when one fails for want of space, the store frees
// the reserve and tries it again, so that space can always be freed through
// the API. The reserve is made again before a later write, once there is room.
//
// REQUIRES: one user at a time (the actor owning it). Other connections to the
// same file (another store, the sqlite3 shell) are safe: SQLite locks the file,
// and a writer waits up to `busy_timeout_ms` before failing with UNAVAILABLE.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "ports/disk_reserve.h"
#include "ports/ordered_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cloudkit {

struct SqliteOrderedStoreOptions {
  // How long a write waits for another connection's lock before UNAVAILABLE.
  int busy_timeout_ms = 5000;
  // Space kept aside for deletes on a full disk (0: none). 4 MiB holds a
  // full WAL of deletes (SQLite checkpoints it every 1000 pages).
  uint64_t reserve_bytes = 4 << 20;
  // Sync the WAL in each commit (synchronous=FULL); off: SyncWal does.
  bool sync_each_commit = true;
};

class SqliteOrderedStore {
 public:
  // Opens (creating if needed) the database file at `path`; its directory must
  // exist. Errors name the file and carry sqlite3_errmsg.
  static Result<std::unique_ptr<SqliteOrderedStore>> Open(const std::string& path);
  static Result<std::unique_ptr<SqliteOrderedStore>> Open(const std::string& path,
                                                          const SqliteOrderedStoreOptions& options);
  ~SqliteOrderedStore();
  SqliteOrderedStore(const SqliteOrderedStore&) = delete;
  SqliteOrderedStore& operator=(const SqliteOrderedStore&) = delete;

  Result<std::string> Get(const std::string& key);
  // Appends to *out up to `limit` entries with start <= key < end, in key
  // order. An empty `end` means no upper bound.
  Status Scan(const std::string& start, const std::string& end, size_t limit,
              std::vector<std::pair<std::string, std::string>>* out);
  Status Write(const ports::WriteBatch& batch);
  // Applies the batches in order in one transaction (one sync) and answers
  // for each: a batch whose expectations fail is skipped with ABORTED; any
  // other failure writes none of them and is every batch's answer. When the
  // disk is full and every batch only deletes, frees the reserve and tries
  // again.
  std::vector<Status> WriteAll(const std::vector<const ports::WriteBatch*>& batches);

  // Makes every transaction committed before the call durable (fdatasync of
  // the WAL). Safe beside the store's other calls on another thread: it uses
  // a descriptor of its own.
  Status SyncWal();

  // Whether the batch has deletes only (it may then use the reserve).
  static bool OnlyDeletes(const ports::WriteBatch& batch);

  const std::string& path() const { return path_; }

 private:
  SqliteOrderedStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  Status Init(const SqliteOrderedStoreOptions& options);
  Status Prepare(const char* sql, sqlite3_stmt** stmt);
  // Steps a statement that returns no rows to completion, then resets it.
  Status Run(sqlite3_stmt* stmt, const char* what);
  Status Error(const char* what, int rc) const;
  Status ApplyOps(const ports::WriteBatch& batch);
  // OK if the batch's expectations hold now, ABORTED if one does not.
  Status CheckExpected(const ports::WriteBatch& batch);
  std::vector<Status> WriteOnce(const std::vector<const ports::WriteBatch*>& batches);

  std::unique_ptr<DiskReserve> reserve_;
  std::mutex wal_mutex_;
  int wal_fd_ = -1;  // guarded by wal_mutex_: the WAL file, opened by the first SyncWal

  std::string path_;
  sqlite3* db_;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  sqlite3_stmt* scan_from_ = nullptr;   // k >= ?1
  sqlite3_stmt* scan_range_ = nullptr;  // ?1 <= k < ?2
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
};

}  // namespace cloudkit
