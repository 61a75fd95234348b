#include "ports/sqlite_ordered_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <mutex>

#include "ports/posix_fs.h"

namespace cloudkit {
namespace {

// Resets a cached statement (and drops its bindings) when leaving a scope, so
// no statement keeps a read transaction open between calls.
class StmtScope {
 public:
  explicit StmtScope(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StmtScope() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StmtScope(const StmtScope&) = delete;
  StmtScope& operator=(const StmtScope&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// Binds bytes as a BLOB (never TEXT: TEXT sorts before every BLOB in SQLite).
// std::string::data() is never null, so an empty string binds a zero-length
// BLOB rather than NULL. SQLITE_STATIC: the caller's string outlives the step.
int BindBytes(sqlite3_stmt* stmt, int index, const std::string& bytes) {
  return sqlite3_bind_blob64(stmt, index, bytes.data(), bytes.size(), SQLITE_STATIC);
}

std::string ColumnBytes(sqlite3_stmt* stmt, int col) {
  const void* p = sqlite3_column_blob(stmt, col);
  int n = sqlite3_column_bytes(stmt, col);
  if (p == nullptr || n <= 0) return {};
  return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

// SQLite's process-wide settings, before its first use. Each connection
// would otherwise allocate 20 cache pages up front (~86 KB; a local binding
// opens five): half of an idle daemon's heap. Pages are allocated as the
// cache grows instead.
Status ConfigureSqliteOnce() {
  static std::once_flag once;
  static int rc = SQLITE_OK;
  std::call_once(once, [] {
    rc = sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
    if (rc == SQLITE_MISUSE) rc = SQLITE_OK;  // already initialised by someone else: keep its settings
    if (rc == SQLITE_OK) rc = sqlite3_initialize();
  });
  if (rc != SQLITE_OK) return Status::Internal(std::string("initialise SQLite: ") + sqlite3_errstr(rc));
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SqliteOrderedStore>> SqliteOrderedStore::Open(const std::string& path) {
  return Open(path, SqliteOrderedStoreOptions{});
}

Result<std::unique_ptr<SqliteOrderedStore>> SqliteOrderedStore::Open(
    const std::string& path, const SqliteOrderedStoreOptions& options) {
  if (path.empty()) return Status::InvalidArgument("empty SQLite database path");
  CK_RETURN_IF_ERROR(ConfigureSqliteOnce());
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Internal("open SQLite database " + path + ": " + msg);
  }
  std::unique_ptr<SqliteOrderedStore> store(new SqliteOrderedStore(path, db));
  CK_RETURN_IF_ERROR(store->Init(options));
  store->reserve_ = std::make_unique<DiskReserve>(path + ".reserve", options.reserve_bytes);
  // No room for it now (a full disk at start): a later write takes it.
  (void)store->reserve_->Hold();
  return store;
}

Status SqliteOrderedStore::Init(const SqliteOrderedStoreOptions& options) {
  sqlite3_extended_result_codes(db_, 1);
  int rc = sqlite3_busy_timeout(db_, std::max(0, options.busy_timeout_ms));
  if (rc != SQLITE_OK) return Error("set busy timeout on", rc);

  // journal_mode answers with the mode now in force; anything but "wal" (say,
  // a file system without shared memory) would silently weaken our promises.
  sqlite3_stmt* stmt = nullptr;
  CK_RETURN_IF_ERROR(Prepare("PRAGMA journal_mode=WAL", &stmt));
  rc = sqlite3_step(stmt);
  std::string mode = rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr
                         ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))
                         : "";
  Status status = rc == SQLITE_ROW ? Status::Ok() : Error("set journal_mode=WAL on", rc);
  sqlite3_finalize(stmt);
  CK_RETURN_IF_ERROR(status);
  if (mode != "wal") {
    return Status::Internal("SQLite database " + path_ + " cannot use journal_mode=WAL (got '" +
                            mode + "')");
  }

  char* err = nullptr;
  const std::string setup = std::string(options.sync_each_commit ? "PRAGMA synchronous=FULL;"
                                                                 : "PRAGMA synchronous=NORMAL;") +
                            "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID;";
  rc = sqlite3_exec(db_, setup.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Status::Internal("initialise SQLite database " + path_ + ": " + msg);
  }

  CK_RETURN_IF_ERROR(Prepare("SELECT v FROM kv WHERE k = ?1", &get_));
  CK_RETURN_IF_ERROR(Prepare(
      "INSERT INTO kv(k, v) VALUES(?1, ?2) ON CONFLICT(k) DO UPDATE SET v = excluded.v", &put_));
  CK_RETURN_IF_ERROR(Prepare("DELETE FROM kv WHERE k = ?1", &delete_));
  CK_RETURN_IF_ERROR(Prepare("SELECT k, v FROM kv WHERE k >= ?1 ORDER BY k LIMIT ?2", &scan_from_));
  CK_RETURN_IF_ERROR(Prepare("SELECT k, v FROM kv WHERE k >= ?1 AND k < ?2 ORDER BY k LIMIT ?3",
                             &scan_range_));
  CK_RETURN_IF_ERROR(Prepare("BEGIN IMMEDIATE", &begin_));
  CK_RETURN_IF_ERROR(Prepare("COMMIT", &commit_));
  CK_RETURN_IF_ERROR(Prepare("ROLLBACK", &rollback_));

  // A freshly created database file must also be durable as a directory entry.
  return posix_fs::FsyncDir(posix_fs::ParentDir(path_));
}

SqliteOrderedStore::~SqliteOrderedStore() {
  for (sqlite3_stmt* s :
       {get_, put_, delete_, scan_from_, scan_range_, begin_, commit_, rollback_}) {
    sqlite3_finalize(s);  // null is a no-op
  }
  sqlite3_close_v2(db_);
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

Status SqliteOrderedStore::SyncWal() {
  std::lock_guard<std::mutex> lock(wal_mutex_);
  const std::string wal = path_ + "-wal";
  struct stat st;
  if (wal_fd_ >= 0 && (::fstat(wal_fd_, &st) != 0 || st.st_nlink == 0)) {
    ::close(wal_fd_);  // removed meanwhile (its last connection closed): the next one is a new file
    wal_fd_ = -1;
  }
  if (wal_fd_ < 0) {
    wal_fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) return posix_fs::ErrnoStatus("open to sync", wal, errno);
    // SQLite syncs a new WAL's directory entry on its own first sync, which
    // synchronous=NORMAL never makes before a checkpoint.
    CK_RETURN_IF_ERROR(posix_fs::FsyncDir(posix_fs::ParentDir(path_)));
  }
  if (::fdatasync(wal_fd_) != 0) return posix_fs::ErrnoStatus("sync", wal, errno);
  return Status::Ok();
}

Status SqliteOrderedStore::Prepare(const char* sql, sqlite3_stmt** stmt) {
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr);
  if (rc != SQLITE_OK) return Error("prepare statement for", rc);
  return Status::Ok();
}

Status SqliteOrderedStore::Error(const char* what, int rc) const {
  std::string m = std::string("SQLite ") + what + " " + path_ + ": " + sqlite3_errmsg(db_) +
                  " (" + sqlite3_errstr(rc) + ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(std::move(m));
    case SQLITE_FULL:
      return Status::ResourceExhausted(std::move(m));
    default:
      return Status::Internal(std::move(m));
  }
}

Status SqliteOrderedStore::Run(sqlite3_stmt* stmt, const char* what) {
  StmtScope scope(stmt);
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return Error(what, rc);
  return Status::Ok();
}

Result<std::string> SqliteOrderedStore::Get(const std::string& key) {
  StmtScope scope(get_);
  int rc = BindBytes(get_, 1, key);
  if (rc != SQLITE_OK) return Error("bind key in", rc);
  rc = sqlite3_step(get_);
  if (rc == SQLITE_ROW) return ColumnBytes(get_, 0);
  if (rc == SQLITE_DONE) return Status::NotFound("key in " + path_);
  return Error("read from", rc);
}

Status SqliteOrderedStore::Scan(const std::string& start, const std::string& end, size_t limit,
                                std::vector<std::pair<std::string, std::string>>* out) {
  if (limit == 0) return Status::Ok();
  if (!end.empty() && end <= start) return Status::Ok();
  const bool bounded = !end.empty();
  sqlite3_stmt* stmt = bounded ? scan_range_ : scan_from_;
  StmtScope scope(stmt);
  const auto max_limit = static_cast<uint64_t>(std::numeric_limits<sqlite3_int64>::max());
  const auto bound_limit = static_cast<sqlite3_int64>(std::min<uint64_t>(limit, max_limit));
  int rc = BindBytes(stmt, 1, start);
  if (rc == SQLITE_OK && bounded) rc = BindBytes(stmt, 2, end);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(stmt, bounded ? 3 : 2, bound_limit);
  if (rc != SQLITE_OK) return Error("bind scan range in", rc);

  // Collect first so a failure part-way leaves *out as it was.
  std::vector<std::pair<std::string, std::string>> rows;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    rows.emplace_back(ColumnBytes(stmt, 0), ColumnBytes(stmt, 1));
  }
  if (rc != SQLITE_DONE) return Error("scan", rc);
  out->insert(out->end(), std::make_move_iterator(rows.begin()),
              std::make_move_iterator(rows.end()));
  return Status::Ok();
}

Status SqliteOrderedStore::ApplyOps(const ports::WriteBatch& batch) {
  for (const ports::WriteBatch::Op& op : batch.ops) {
    sqlite3_stmt* stmt = op.value.has_value() ? put_ : delete_;
    StmtScope scope(stmt);
    int rc = BindBytes(stmt, 1, op.key);
    if (rc == SQLITE_OK && op.value.has_value()) rc = BindBytes(stmt, 2, *op.value);
    if (rc != SQLITE_OK) return Error("bind write in", rc);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return Error(op.value.has_value() ? "put into" : "delete from", rc);
  }
  return Status::Ok();
}

Status SqliteOrderedStore::CheckExpected(const ports::WriteBatch& batch) {
  for (const ports::WriteBatch::Expected& expected : batch.expected) {
    Result<std::string> current = Get(expected.key);
    if (!current.ok() && current.status().code() != v1::NOT_FOUND) return current.status();
    const bool holds = expected.value ? current.ok() && *current == *expected.value : !current.ok();
    if (!holds) return Status::Aborted("a key the write read has changed since, in " + path_);
  }
  for (const ports::WriteBatch::EmptyRange& range : batch.empty_ranges) {
    std::vector<std::pair<std::string, std::string>> found;
    CK_RETURN_IF_ERROR(Scan(range.start, range.end, 1, &found));
    if (!found.empty()) return Status::Aborted("a range the write read as empty has a key since, in " + path_);
  }
  return Status::Ok();
}

Status SqliteOrderedStore::Write(const ports::WriteBatch& batch) { return WriteAll({&batch}).front(); }

bool SqliteOrderedStore::OnlyDeletes(const ports::WriteBatch& batch) {
  return std::none_of(batch.ops.begin(), batch.ops.end(),
                      [](const ports::WriteBatch::Op& op) { return op.value.has_value(); });
}

std::vector<Status> SqliteOrderedStore::WriteAll(const std::vector<const ports::WriteBatch*>& batches) {
  const auto nothing_to_do = [](const ports::WriteBatch* b) { return b->ops.empty() && !b->conditional(); };
  if (std::all_of(batches.begin(), batches.end(), nothing_to_do)) return std::vector<Status>(batches.size());
  // Taken again as soon as there is room, before any write can use that room.
  if (!reserve_->held()) (void)reserve_->Hold();
  std::vector<Status> results = WriteOnce(batches);
  // A failure of the whole transaction is every batch's answer.
  if (results.front().code() != v1::RESOURCE_EXHAUSTED || !reserve_->held() ||
      !std::all_of(batches.begin(), batches.end(), [](const ports::WriteBatch* b) { return OnlyDeletes(*b); })) {
    return results;
  }
  reserve_->Release();
  return WriteOnce(batches);
}

std::vector<Status> SqliteOrderedStore::WriteOnce(const std::vector<const ports::WriteBatch*>& batches) {
  std::vector<Status> results(batches.size());
  Status status = Run(begin_, "begin transaction on");
  for (size_t i = 0; i < batches.size() && status.ok(); ++i) {
    // A batch whose expectations fail is skipped alone: it wrote nothing yet.
    results[i] = CheckExpected(*batches[i]);
    if (ports::IsWriteConflict(results[i])) continue;
    status = results[i].ok() ? ApplyOps(*batches[i]) : results[i];
  }
  if (status.ok()) status = Run(commit_, "commit to");
  if (!status.ok() && sqlite3_get_autocommit(db_) == 0) {
    // Still inside the transaction (SQLite may already have rolled it back
    // itself, e.g. on SQLITE_FULL): undo every op of the batches. The
    // failure being reported is the one that matters.
    Status rolled_back = Run(rollback_, "roll back");
    (void)rolled_back;
  }
  if (!status.ok()) std::fill(results.begin(), results.end(), status);
  return results;
}

}  // namespace cloudkit
