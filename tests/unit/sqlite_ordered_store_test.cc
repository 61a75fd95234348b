// SqliteOrderedStore: byte order, scan bounds, atomic batches (a batch failing
// part-way leaves nothing), persistence across reopen and across kill -9.
#include "ports/sqlite_ordered_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "unit/temp_dir.h"

namespace cloudkit {
namespace {

using testing_util::TempDir;
using Rows = std::vector<std::pair<std::string, std::string>>;

std::unique_ptr<SqliteOrderedStore> OpenOrDie(const std::string& path,
                                              SqliteOrderedStoreOptions options = {}) {
  auto store = SqliteOrderedStore::Open(path, options);
  EXPECT_TRUE(store.ok()) << store.status().message();
  return store.ok() ? std::move(*store) : nullptr;
}

// A second, raw connection to the same file, for what the store's API cannot do.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 2000);
  }
  ~RawDb() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  std::string QueryText(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteOrderedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "meta.db";
    store_ = OpenOrDie(path_);
    ASSERT_NE(store_, nullptr);
  }
  void Put(const std::string& k, const std::string& v) {
    ports::WriteBatch b;
    b.Put(k, v);
    Status s = store_->Write(b);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  Rows ScanAll(const std::string& start = "", const std::string& end = "", size_t limit = 1000) {
    Rows out;
    Status s = store_->Scan(start, end, limit, &out);
    EXPECT_TRUE(s.ok()) << s.message();
    return out;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<SqliteOrderedStore> store_;
};

TEST_F(SqliteOrderedStoreTest, GetPutOverwriteDelete) {
  auto missing = store_->Get("k");
  EXPECT_EQ(missing.status().code(), v1::NOT_FOUND);
  EXPECT_NE(missing.status().message().find(path_), std::string::npos);

  Put("k", "v1");
  ASSERT_TRUE(store_->Get("k").ok());
  EXPECT_EQ(*store_->Get("k"), "v1");
  Put("k", "v2");
  EXPECT_EQ(*store_->Get("k"), "v2");

  ports::WriteBatch del;
  del.Delete("k");
  del.Delete("never-existed");  // deleting a missing key is fine
  ASSERT_TRUE(store_->Write(del).ok());
  EXPECT_EQ(store_->Get("k").status().code(), v1::NOT_FOUND);
}

TEST_F(SqliteOrderedStoreTest, EmptyValuesAndKeysAndBinaryBytes) {
  const std::string bin_key("a\0b\xff", 4);
  const std::string bin_val("\0\x01\x02\xfe\xff\0", 6);
  Put("", "empty key");
  Put("empty", "");
  Put(bin_key, bin_val);
  EXPECT_EQ(*store_->Get(""), "empty key");
  auto empty = store_->Get("empty");
  ASSERT_TRUE(empty.ok()) << empty.status().message();  // present, not NOT_FOUND
  EXPECT_EQ(*empty, "");
  EXPECT_EQ(*store_->Get(bin_key), bin_val);
  EXPECT_EQ(store_->Get(std::string("a", 1)).status().code(), v1::NOT_FOUND);  // no prefix match
}

TEST_F(SqliteOrderedStoreTest, ScanOrderIsBytewiseLikeStdString) {
  std::vector<std::string> keys = {
      "b", "a", "ab", "a\xff", std::string("a\0", 2), "\xff", "\x7f", "\x80", "B", "aa", "",
      std::string("\0", 1), "a/", "a0", "zz\xfe",
  };
  std::mt19937 rng(42);
  std::shuffle(keys.begin(), keys.end(), rng);
  std::map<std::string, std::string> expected;
  for (const auto& k : keys) {
    Put(k, "v:" + k);
    expected[k] = "v:" + k;
  }
  Rows got = ScanAll();
  Rows want(expected.begin(), expected.end());
  EXPECT_EQ(got, want);
}

TEST_F(SqliteOrderedStoreTest, ScanBoundsAndLimit) {
  for (const char* k : {"a", "b", "b/1", "b/2", "b/3", "c", "d"}) Put(k, std::string("v") + k);

  auto keys = [](const Rows& rows) {
    std::vector<std::string> out;
    for (const auto& [k, v] : rows) out.push_back(k);
    return out;
  };
  using V = std::vector<std::string>;
  // start inclusive, end exclusive.
  EXPECT_EQ(keys(ScanAll("b", "c")), (V{"b", "b/1", "b/2", "b/3"}));
  EXPECT_EQ(keys(ScanAll("b/", "b0")), (V{"b/1", "b/2", "b/3"}));  // a prefix scan
  EXPECT_EQ(keys(ScanAll("b/2", "")), (V{"b/2", "b/3", "c", "d"}));  // empty end: unbounded
  EXPECT_EQ(keys(ScanAll("", "b")), (V{"a"}));
  EXPECT_EQ(keys(ScanAll("", "", 3)), (V{"a", "b", "b/1"}));
  EXPECT_EQ(keys(ScanAll("b", "d", 2)), (V{"b", "b/1"}));
  EXPECT_TRUE(ScanAll("", "", 0).empty());
  EXPECT_TRUE(ScanAll("c", "c").empty());
  EXPECT_TRUE(ScanAll("d", "a").empty());
  EXPECT_TRUE(ScanAll("e", "").empty());
  EXPECT_EQ(keys(ScanAll("", "", static_cast<size_t>(-1))).size(), 7u);  // huge limit

  // Scan appends: it keeps what *out already holds.
  Rows out = {{"x", "y"}};
  ASSERT_TRUE(store_->Scan("d", "", 10, &out).ok());
  EXPECT_EQ(out, (Rows{{"x", "y"}, {"d", "vd"}}));
}

TEST_F(SqliteOrderedStoreTest, BatchAppliesInOrderAllOrNothing) {
  Put("keep", "old");
  ports::WriteBatch b;
  b.Put("x", "1");
  b.Put("x", "2");  // later op wins
  b.Put("y", "1");
  b.Delete("y");
  b.Delete("keep");
  b.Put("z", "z");
  ASSERT_TRUE(store_->Write(b).ok());
  EXPECT_EQ(ScanAll(), (Rows{{"x", "2"}, {"z", "z"}}));

  ASSERT_TRUE(store_->Write(ports::WriteBatch{}).ok());  // empty batch is a no-op
}

TEST_F(SqliteOrderedStoreTest, BatchFailingPartWayLeavesNothing) {
  Put("a", "before");
  {
    // Makes the third op of the batch fail inside the transaction.
    RawDb raw(path_);
    raw.Exec("CREATE TRIGGER fail_bad BEFORE INSERT ON kv WHEN NEW.k = x'626164' "
             "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
  }
  ports::WriteBatch b;
  b.Put("a", "after");
  b.Put("b", "new");
  b.Put("bad", "boom");
  b.Put("c", "never");
  Status s = store_->Write(b);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), v1::INTERNAL);
  EXPECT_NE(s.message().find(path_), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("injected failure"), std::string::npos) << s.message();
  EXPECT_EQ(ScanAll(), (Rows{{"a", "before"}}));

  // The store is still usable: the failed transaction was rolled back.
  {
    RawDb raw(path_);
    raw.Exec("DROP TRIGGER fail_bad");
  }
  ASSERT_TRUE(store_->Write(b).ok());
  EXPECT_EQ(ScanAll().size(), 4u);
}

TEST_F(SqliteOrderedStoreTest, LockedByAnotherWriterIsUnavailableThenRecovers) {
  store_.reset();
  store_ = OpenOrDie(path_, SqliteOrderedStoreOptions{.busy_timeout_ms = 50});
  ASSERT_NE(store_, nullptr);
  Put("a", "1");
  auto raw = std::make_unique<RawDb>(path_);
  raw->Exec("BEGIN IMMEDIATE");
  ports::WriteBatch b;
  b.Put("a", "2");
  Status s = store_->Write(b);
  EXPECT_EQ(s.code(), v1::UNAVAILABLE) << s.message();
  EXPECT_TRUE(s.retryable());
  // Readers are not blocked by a writer in WAL mode.
  EXPECT_EQ(*store_->Get("a"), "1");
  raw->Exec("ROLLBACK");
  raw.reset();
  ASSERT_TRUE(store_->Write(b).ok());
  EXPECT_EQ(*store_->Get("a"), "2");
}

TEST_F(SqliteOrderedStoreTest, UsesWalAndTheSchemaWeDocument) {
  RawDb raw(path_);
  EXPECT_EQ(raw.QueryText("PRAGMA journal_mode"), "wal");
  std::string sql = raw.QueryText("SELECT sql FROM sqlite_schema WHERE name = 'kv'");
  EXPECT_NE(sql.find("WITHOUT ROWID"), std::string::npos) << sql;
}

TEST_F(SqliteOrderedStoreTest, DataSurvivesReopen) {
  ports::WriteBatch b;
  for (int i = 0; i < 100; ++i) b.Put("k" + std::to_string(1000 + i), std::string(i, 'x'));
  ASSERT_TRUE(store_->Write(b).ok());
  store_.reset();

  store_ = OpenOrDie(path_);
  ASSERT_NE(store_, nullptr);
  Rows all = ScanAll();
  ASSERT_EQ(all.size(), 100u);
  EXPECT_EQ(all[42].first, "k1042");
  EXPECT_EQ(all[42].second, std::string(42, 'x'));
}

TEST_F(SqliteOrderedStoreTest, LargeValue) {
  std::string big(4 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  Put("big", big);
  EXPECT_EQ(*store_->Get("big"), big);
}

TEST_F(SqliteOrderedStoreTest, AcknowledgedWritesSurviveKill9) {
  store_.reset();
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: write batches forever, acknowledging each one on the pipe.
    ::close(pipefd[0]);
    auto store = SqliteOrderedStore::Open(path_);
    if (!store.ok()) ::_exit(2);
    for (uint32_t i = 0;; ++i) {
      ports::WriteBatch b;
      b.Put("n" + std::to_string(100000 + i), std::to_string(i));
      b.Put("last", std::to_string(i));
      if (!(*store)->Write(b).ok()) ::_exit(3);
      if (::write(pipefd[1], &i, sizeof i) != sizeof i) ::_exit(4);
    }
  }
  ::close(pipefd[1]);
  uint32_t acked = 0;
  bool any = false;
  for (int n = 0; n < 50; ++n) {
    uint32_t i;
    if (::read(pipefd[0], &i, sizeof i) != sizeof i) break;
    acked = i;
    any = true;
  }
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  ::close(pipefd[0]);
  ASSERT_TRUE(any) << "child exited early, status " << wstatus;
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited by itself, status " << wstatus;

  store_ = OpenOrDie(path_);
  ASSERT_NE(store_, nullptr);
  auto last = store_->Get("last");
  ASSERT_TRUE(last.ok()) << last.status().message();
  EXPECT_GE(std::stoul(*last), acked);  // a batch may have committed but not been acked
  for (uint32_t i = 0; i <= acked; ++i) {
    auto v = store_->Get("n" + std::to_string(100000 + i));
    ASSERT_TRUE(v.ok()) << "acknowledged write " << i << " lost: " << v.status().message();
  }
}

TEST(SqliteOrderedStoreOpenTest, ErrorsNameTheFile) {
  TempDir dir;
  const std::string path = dir / "no-such-dir/meta.db";
  auto store = SqliteOrderedStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status().message();

  // Not a database.
  const std::string junk = dir / "junk.db";
  FILE* f = std::fopen(junk.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("this is definitely not an SQLite database file, just some text padding it out\n", f);
  std::fclose(f);
  auto bad = SqliteOrderedStore::Open(junk);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(junk), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace cloudkit
