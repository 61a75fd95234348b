// Expired items leave storage on the key-value actor's timer, in the real
// daemon: the `local` binding's SQLite file loses their rows shortly after
// they expire (the actor runs on its own CAF thread, timers as delayed CAF
// messages), and the `memory` binding, whose actor runs on the front door
// thread with the front door's timers, keeps serving around its sweeps.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

using ExpiryTest = DaemonTest;

// Rows of the key-value store of binding `default`, read beside the daemon
// (WAL mode lets another process read while it writes); -1 when unreadable.
int64_t StoredItems(const std::string& data_dir) {
  const std::string path = data_dir + "/default/kv/meta.db";
  if (!std::filesystem::exists(path)) return -1;
  sqlite3* db = nullptr;
  int64_t rows = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    sqlite3_stmt* count = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM kv", -1, &count, nullptr) == SQLITE_OK &&
        sqlite3_step(count) == SQLITE_ROW) {
      rows = sqlite3_column_int64(count, 0);
    }
    sqlite3_finalize(count);
  }
  sqlite3_close(db);
  return rows;
}

TEST_F(ExpiryTest, ExpiredItemsLeaveTheStoreShortlyAfterTheyExpire) {
  CallOptions scratch;
  scratch.binding = "scratch";
  for (int i = 0; i < 20; ++i) {
    auto put = KvPut("sessions", "brief-" + std::to_string(i), "soon gone");
    put.set_ttl_ms(300);
    ASSERT_CK_OK(client_->kv().Put(put));
    ASSERT_CK_OK(client_->kv().Put(put, scratch));
  }
  ASSERT_CK_OK(client_->kv().Put(KvPut("sessions", "keep", "forever")));
  const std::string data_dir = daemon_->dir() + "/data";
  EXPECT_EQ(StoredItems(data_dir), 22);  // 21 items and the ETag generation record

  const auto start = std::chrono::steady_clock::now();
  int64_t stored = StoredItems(data_dir);
  while (stored != 2 && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stored = StoredItems(data_dir);
  }
  EXPECT_EQ(stored, 2) << daemon_->Log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));

  EXPECT_CK_CODE(client_->kv().Get(KvGet("sessions", "brief-0")), v1::NOT_FOUND);
  EXPECT_CK_CODE(client_->kv().Get(KvGet("sessions", "brief-0"), scratch), v1::NOT_FOUND);
  auto kept = client_->kv().Get(KvGet("sessions", "keep"));
  ASSERT_CK_OK(kept);
  EXPECT_EQ(kept->item().value(), "forever");
  // The memory binding's front door timers fired in the same loop that serves calls.
  ASSERT_CK_OK(client_->kv().Put(KvPut("sessions", "after", "sweep"), scratch));
}

}  // namespace
}  // namespace cloudkit::integration
