// SqliteOrderedStore on a full disk (a small tmpfs of its own): once puts
// fail for want of space, deletes still commit, thanks to the reserve beside
// the database; without one they fail too (why the reserve exists).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "ports/sqlite_ordered_store.h"
#include "support/tmpfs_mount.h"

namespace cloudkit {
namespace {

using testing_util::TmpfsMount;

constexpr uint64_t kDiskBytes = 16 << 20;

std::string Key(int i) { return "item-" + std::to_string(100000 + i); }

// Puts items, one transaction each, until the disk is full; answers how many went in.
int FillWithItems(SqliteOrderedStore& store) {
  const std::string value(300, 'v');
  for (int i = 0;; ++i) {
    ports::WriteBatch batch;
    batch.Put(Key(i), value);
    Status status = store.Write(batch);
    if (!status.ok()) {
      EXPECT_EQ(status.code(), v1::RESOURCE_EXHAUSTED) << status.message();
      return i;
    }
  }
}

// Takes whatever room is left, down to the last page.
void FillUp(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  const std::string page(4096, 'x');
  while (::write(fd, page.data(), page.size()) > 0) {
  }
  ::close(fd);
}

class SqliteFullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mount = TmpfsMount::Create(kDiskBytes);
    if (!mount.ok()) GTEST_SKIP() << mount.status().message();
    mount_ = std::move(*mount);
  }
  std::unique_ptr<SqliteOrderedStore> Open(uint64_t reserve_bytes) {
    SqliteOrderedStoreOptions options;
    options.reserve_bytes = reserve_bytes;
    auto store = SqliteOrderedStore::Open(mount_->dir() + "/meta.db", options);
    EXPECT_TRUE(store.ok()) << store.status().message();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::unique_ptr<TmpfsMount> mount_;
};

TEST_F(SqliteFullDiskTest, DeletesCommitOnceThePutsHaveFilledTheDisk) {
  auto store = Open(SqliteOrderedStoreOptions{}.reserve_bytes);
  ASSERT_TRUE(store);
  const int items = FillWithItems(*store);
  ASSERT_GT(items, 1000);
  FillUp(mount_->dir() + "/filler");
  ASSERT_LT(mount_->FreeBytes(), 4096u);

  constexpr int kDeletes = 300;
  for (int i = 0; i < kDeletes; ++i) {
    ports::WriteBatch batch;
    batch.Delete(Key(i * 3));
    Status deleted = store->Write(batch);
    ASSERT_TRUE(deleted.ok()) << "delete " << i << ": " << deleted.message();
  }
  for (int i = 0; i < items; ++i) {
    Result<std::string> got = store->Get(Key(i));
    if (i % 3 == 0 && i / 3 < kDeletes) {
      EXPECT_EQ(got.status().code(), v1::NOT_FOUND) << Key(i);
    } else {
      EXPECT_TRUE(got.ok()) << Key(i) << ": " << got.status().message();
    }
  }
}

TEST_F(SqliteFullDiskTest, WithoutAReserveDeletesFailToo) {
  auto store = Open(0);
  ASSERT_TRUE(store);
  ASSERT_GT(FillWithItems(*store), 1000);
  FillUp(mount_->dir() + "/filler");
  Status failed;
  for (int i = 0; i < 300 && failed.ok(); ++i) {
    ports::WriteBatch batch;
    batch.Delete(Key(i * 3));
    failed = store->Write(batch);
  }
  EXPECT_EQ(failed.code(), v1::RESOURCE_EXHAUSTED) << failed.message();
}

}  // namespace
}  // namespace cloudkit
