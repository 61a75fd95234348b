// NativeStoragePort and SystemClock: a location is a directory that keeps its
// data across reopen; the clock reads the real wall clock.
#include "ports/native_storage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "ports/system_clock.h"
#include "support/run_task.h"
#include "support/store_expectations.h"
#include "unit/temp_dir.h"

namespace cloudkit {
namespace {

using testing_util::Await;
using testing_util::TempDir;

TEST(NativeStoragePortTest, CreatesTheLocationAndReopensTheSameData) {
  TempDir dir;
  const std::string location = dir / "data/bindings/local";  // parents created too
  NativeStoragePort port;
  testing_util::TestTurn turn;
  std::string blob_id;
  {
    auto ordered = port.OpenOrderedStore(location);
    ASSERT_TRUE(ordered.ok()) << ordered.status().message();
    ports::WriteBatch b;
    b.Put("bucket/docs", "meta");
    ASSERT_TRUE(Await((*ordered)->Write(b)).ok());

    auto blobs = port.OpenBlobStore(location);
    ASSERT_TRUE(blobs.ok()) << blobs.status().message();
    auto w = Await((*blobs)->Create());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(Await((*w)->Append("body")).ok());
    auto id = Await((*w)->Commit());
    ASSERT_TRUE(id.ok());
    blob_id = *id;
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(location + "/meta.db"));
  EXPECT_TRUE(std::filesystem::is_directory(location + "/blobs"));
  struct stat st;
  ASSERT_EQ(::stat(location.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  auto ordered = port.OpenOrderedStore(location);
  ASSERT_TRUE(ordered.ok());
  EXPECT_EQ(*Await((*ordered)->Get("bucket/docs")), "meta");
  auto blobs = port.OpenBlobStore(location);
  ASSERT_TRUE(blobs.ok());
  auto r = Await((*blobs)->Open(blob_id));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*Await((*r)->Read(0, 10)), "body");
}

TEST(NativeStoragePortTest, LocationsAreIndependent) {
  TempDir dir;
  NativeStoragePort port;
  testing_util::TestTurn turn;
  auto a = port.OpenOrderedStore(dir / "a");
  auto b = port.OpenOrderedStore(dir / "b");
  ASSERT_TRUE(a.ok() && b.ok());
  ports::WriteBatch w;
  w.Put("k", "in a");
  ASSERT_TRUE(Await((*a)->Write(w)).ok());
  EXPECT_EQ(Await((*b)->Get("k")).status().code(), v1::NOT_FOUND);
}

TEST(NativeStoragePortTest, WritesMadeTogetherCommitInOrderAndReadsSeeEarlierWrites) {
  TempDir dir;
  NativeStoragePort port;
  testing_util::TestTurn turn;
  auto store = port.OpenOrderedStore(dir / "s");
  ASSERT_TRUE(store.ok());
  // Asked for without waiting, as overlapping calls do: they may share syncs
  // (group commit), and each is answered, in order, after its own is done.
  std::vector<Async<Status>> writes;
  for (int i = 0; i < 200; ++i) {
    ports::WriteBatch w;
    w.Put("k", std::to_string(i));
    w.Put("k" + std::to_string(i), "v");
    writes.push_back((*store)->Write(std::move(w)));
  }
  auto read = (*store)->Get("k");  // asked after every write: sees the last
  for (auto& write : writes) EXPECT_TRUE(Await(std::move(write)).ok());
  EXPECT_EQ(*Await(std::move(read)), "199");
  auto all = Await((*store)->Scan("k", "l", 1000));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 201u);
}

// Another actor keeps writing, so that writes are always waiting while one
// group commits: a read must still be answered after the writes asked for
// before it, not once the writes stop coming. (A lane whose commit took in
// every write that arrived meanwhile kept this read waiting for thousands.)
TEST(NativeStoragePortTest, AReadIsNotStarvedByAStreamOfWrites) {
  TempDir dir;
  NativeStoragePort port;
  testing_util::TestTurn turn;
  auto opened = port.OpenOrderedStore(dir / "s");
  ASSERT_TRUE(opened.ok());
  std::shared_ptr<ports::OrderedStore> store = std::move(*opened);
  constexpr int kMaxWrites = 1'000;
  std::atomic<int> issued{0};
  std::atomic<bool> read_answered{false};
  std::thread writer([&] {
    testing_util::TestTurn writer_turn;
    std::vector<Async<Status>> writes;
    while (!read_answered.load() && issued.load() < kMaxWrites) {
      ports::WriteBatch w;
      w.Put("k", std::to_string(issued.load()));
      writes.push_back(store->Write(std::move(w)));
      issued.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    for (auto& write : writes) EXPECT_TRUE(Await(std::move(write)).ok());
  });
  while (issued.load() < 50) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int issued_before = issued.load();
  Result<std::string> read = Await(store->Get("k"));
  read_answered = true;
  const int issued_by_answer = issued.load();
  writer.join();
  EXPECT_LT(issued_by_answer, kMaxWrites) << "the read was answered only once the writes stopped";
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_GE(std::stoi(*read), issued_before - 1) << "the read missed writes asked for before it";
}

TEST(NativeStoragePortTest, ExpectationsHoldAcrossTwoStoresOnOneLocation) {
  TempDir dir;
  NativeStoragePort port;
  testing_util::TestTurn turn;
  auto a = port.OpenOrderedStore(dir / "s");
  auto b = port.OpenOrderedStore(dir / "s");
  ASSERT_TRUE(a.ok() && b.ok());
  testing_util::CheckExpectationsAcrossStores(**a, **b);
}

TEST(NativeStoragePortTest, OutsideAnActorTurnCallsFailInsteadOfLosingTheAnswer) {
  TempDir dir;
  NativeStoragePort port;
  auto store = port.OpenOrderedStore(dir / "s");
  ASSERT_TRUE(store.ok());
  auto got = testing_util::ReadyValue((*store)->Get("k"));
  EXPECT_EQ(got.status().code(), v1::INTERNAL) << got.status().message();
}

TEST(NativeStoragePortTest, BadLocationsFailWithThePath) {
  TempDir dir;
  NativeStoragePort port;
  EXPECT_EQ(port.OpenOrderedStore("").status().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(port.OpenBlobStore("").status().code(), v1::INVALID_ARGUMENT);
  const std::string file = dir / "file";
  std::ofstream(file) << "x";
  auto r = port.OpenOrderedStore(file);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(file), std::string::npos) << r.status().message();
  auto r2 = port.OpenBlobStore(file + "/sub");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find(file), std::string::npos) << r2.status().message();
}

TEST(SystemClockTest, ReadsTheWallClock) {
  SystemClock clock;
  const auto now = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  int64_t before = now();
  int64_t got = clock.NowMs();
  int64_t after = now();
  EXPECT_GE(got, before);
  EXPECT_LE(got, after);
  EXPECT_GT(got, 1'600'000'000'000);  // after September 2020: milliseconds, not seconds
}

}  // namespace
}  // namespace cloudkit
