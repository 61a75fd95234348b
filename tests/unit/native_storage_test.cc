// NativeStoragePort and SystemClock: a location is a directory that keeps its
// data across reopen; the clock reads the real wall clock.
#include "ports/native_storage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "ports/system_clock.h"
#include "unit/temp_dir.h"

namespace cloudkit {
namespace {

using testing_util::TempDir;

TEST(NativeStoragePortTest, CreatesTheLocationAndReopensTheSameData) {
  TempDir dir;
  const std::string location = dir / "data/bindings/local";  // parents created too
  NativeStoragePort port;
  std::string blob_id;
  {
    auto ordered = port.OpenOrderedStore(location);
    ASSERT_TRUE(ordered.ok()) << ordered.status().message();
    ports::WriteBatch b;
    b.Put("bucket/docs", "meta");
    ASSERT_TRUE((*ordered)->Write(b).ok());

    auto blobs = port.OpenBlobStore(location);
    ASSERT_TRUE(blobs.ok()) << blobs.status().message();
    auto w = (*blobs)->Create();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("body").ok());
    auto id = (*w)->Commit();
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
  EXPECT_EQ(*(*ordered)->Get("bucket/docs"), "meta");
  auto blobs = port.OpenBlobStore(location);
  ASSERT_TRUE(blobs.ok());
  auto r = (*blobs)->Open(blob_id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*(*r)->Read(0, 10), "body");
}

TEST(NativeStoragePortTest, LocationsAreIndependent) {
  TempDir dir;
  NativeStoragePort port;
  auto a = port.OpenOrderedStore(dir / "a");
  auto b = port.OpenOrderedStore(dir / "b");
  ASSERT_TRUE(a.ok() && b.ok());
  ports::WriteBatch w;
  w.Put("k", "in a");
  ASSERT_TRUE((*a)->Write(w).ok());
  EXPECT_EQ((*b)->Get("k").status().code(), v1::NOT_FOUND);
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
