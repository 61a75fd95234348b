// FileBlobStore: chunked round trips of big blobs, commit/abort semantics,
// id validation (nothing escapes the directory), crash leftovers, reopen.
#include "ports/file_blob_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "unit/temp_dir.h"

namespace cloudkit {
namespace {

namespace fs = std::filesystem;
using testing_util::TempDir;

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x);
  }
  return s;
}

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename());
  return out;
}

class FileBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    blob_dir_ = dir_ / "blobs";
    auto store = FileBlobStore::OpenDirectory(blob_dir_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
  }

  std::string PutBlob(const std::string& content, size_t chunk = 65536) {
    auto w = store_->Create();
    EXPECT_TRUE(w.ok()) << w.status().message();
    if (!w.ok()) return "";
    for (size_t off = 0; off < content.size(); off += chunk) {
      Status s = (*w)->Append(std::string_view(content).substr(off, chunk));
      EXPECT_TRUE(s.ok()) << s.message();
    }
    auto id = (*w)->Commit();
    EXPECT_TRUE(id.ok()) << id.status().message();
    return id.ok() ? *id : "";
  }

  std::string ReadAll(const std::string& id, size_t chunk = 65536) {
    auto r = store_->Open(id);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return "";
    std::string out;
    for (;;) {
      auto part = (*r)->Read(out.size(), chunk);
      EXPECT_TRUE(part.ok()) << part.status().message();
      if (!part.ok() || part->empty()) break;
      EXPECT_LE(part->size(), chunk);
      out += *part;
    }
    EXPECT_EQ(out.size(), (*r)->size());
    return out;
  }

  TempDir dir_;
  std::string blob_dir_;
  std::unique_ptr<FileBlobStore> store_;
};

TEST_F(FileBlobStoreTest, BigBlobInChunksRoundTrips) {
  const std::string content = Pattern((24 << 20) + 12345, 7);  // 24 MiB and change
  const std::string id = PutBlob(content, 1 << 20);
  ASSERT_TRUE(FileBlobStore::IsValidId(id)) << id;
  EXPECT_EQ(ReadAll(id, 1 << 20), content);
  EXPECT_EQ(ReadAll(id, 99991), content);  // chunk sizes need not line up

  // Where it lives, and that nothing is left in tmp/.
  EXPECT_TRUE(fs::is_regular_file(blob_dir_ + "/" + id.substr(0, 2) + "/" + id));
  EXPECT_EQ(fs::file_size(blob_dir_ + "/" + id.substr(0, 2) + "/" + id), content.size());
  EXPECT_TRUE(Files(blob_dir_ + "/tmp").empty());
}

TEST_F(FileBlobStoreTest, RangedReads) {
  const std::string content = Pattern(1000, 3);
  const std::string id = PutBlob(content, 7);
  auto r = store_->Open(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->size(), 1000u);
  EXPECT_EQ(*(*r)->Read(0, 10), content.substr(0, 10));
  EXPECT_EQ(*(*r)->Read(995, 100), content.substr(995));  // clipped at the end
  EXPECT_EQ(*(*r)->Read(1000, 10), "");                   // at end: empty
  EXPECT_EQ(*(*r)->Read(5000, 10), "");                   // past end: empty
  EXPECT_EQ(*(*r)->Read(500, 0), "");
  EXPECT_EQ(*(*r)->Read(0, static_cast<size_t>(-1)), content);  // no huge allocation
}

TEST_F(FileBlobStoreTest, EmptyBlob) {
  const std::string id = PutBlob("");
  ASSERT_FALSE(id.empty());
  auto r = store_->Open(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->size(), 0u);
  EXPECT_EQ(*(*r)->Read(0, 10), "");
}

TEST_F(FileBlobStoreTest, IdsAreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.insert(PutBlob("same content"));
  EXPECT_EQ(ids.size(), 50u);
  for (const auto& id : ids) EXPECT_EQ(ReadAll(id), "same content");
}

TEST_F(FileBlobStoreTest, AbortAndDestructorDiscardTheContent) {
  {
    auto w = store_->Create();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("partial").ok());
    EXPECT_EQ(Files(blob_dir_ + "/tmp").size(), 1u);
    (*w)->Abort();
    EXPECT_TRUE(Files(blob_dir_ + "/tmp").empty());
    EXPECT_FALSE((*w)->Append("more").ok());  // spent
    EXPECT_FALSE((*w)->Commit().ok());
  }
  {
    auto w = store_->Create();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("dropped without commit").ok());
  }
  EXPECT_TRUE(Files(blob_dir_ + "/tmp").empty());
  // Only tmp/ and the lock: no blob became visible.
  std::set<std::string> names;
  for (const auto& n : Files(blob_dir_)) names.insert(n);
  EXPECT_EQ(names, (std::set<std::string>{".lock", "tmp"}));
}

TEST_F(FileBlobStoreTest, WriterIsSpentAfterCommit) {
  auto w = store_->Create();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("x").ok());
  auto id = (*w)->Commit();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ((*w)->Append("y").code(), v1::FAILED_PRECONDITION);
  EXPECT_EQ((*w)->Commit().status().code(), v1::FAILED_PRECONDITION);
  (*w)->Abort();  // must not touch the committed blob
  w->reset();
  EXPECT_EQ(ReadAll(*id), "x");
}

TEST_F(FileBlobStoreTest, RemoveAndNotFound) {
  const std::string id = PutBlob("bye");
  ASSERT_TRUE(store_->Remove(id).ok());
  EXPECT_EQ(store_->Open(id).status().code(), v1::NOT_FOUND);
  EXPECT_TRUE(store_->Remove(id).ok());  // missing is OK
  const std::string never(32, 'a');
  EXPECT_EQ(store_->Open(never).status().code(), v1::NOT_FOUND);
  EXPECT_TRUE(store_->Remove(never).ok());
}

TEST_F(FileBlobStoreTest, InvalidIdsAreRejected) {
  // A file outside the store that a bad id might reach.
  const std::string victim = dir_ / "victim";
  std::ofstream(victim) << "keep me";
  const std::string id = PutBlob("real");

  const std::vector<std::string> bad = {
      "",
      "../victim",
      "../../victim",
      "/etc/passwd",
      id.substr(0, 2) + "/../../victim",
      id.substr(0, 31),                       // too short
      id + "0",                               // too long
      std::string(32, 'A'),                   // upper case is not what we make
      std::string(31, 'a') + "g",
      std::string(31, 'a') + "/",
      std::string(30, 'a') + "..",
      std::string(16, 'a') + std::string("\0", 1) + std::string(15, 'a'),
      "tmp",
      ".lock",
  };
  for (const auto& b : bad) {
    EXPECT_EQ(store_->Open(b).status().code(), v1::INVALID_ARGUMENT) << b;
    EXPECT_EQ(store_->Remove(b).code(), v1::INVALID_ARGUMENT) << b;
    EXPECT_FALSE(FileBlobStore::IsValidId(b)) << b;
  }
  EXPECT_TRUE(fs::exists(victim));
  EXPECT_EQ(ReadAll(id), "real");
}

TEST_F(FileBlobStoreTest, BlobsSurviveReopen) {
  const std::string a = PutBlob(Pattern(300000, 1));
  const std::string b = PutBlob("small");
  store_.reset();
  auto reopened = FileBlobStore::OpenDirectory(blob_dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  store_ = std::move(*reopened);
  EXPECT_EQ(ReadAll(a), Pattern(300000, 1));
  EXPECT_EQ(ReadAll(b), "small");
}

TEST_F(FileBlobStoreTest, LeftoverPartFilesAreRemovedOnOpen) {
  const std::string keep = PutBlob("committed");
  store_.reset();
  const std::string tmp = blob_dir_ + "/tmp";
  std::ofstream(tmp + "/0123456789abcdef.part") << "crashed mid-write";
  std::ofstream(tmp + "/another.part") << "also";
  std::ofstream(tmp + "/not-ours.txt") << "left alone";

  auto reopened = FileBlobStore::OpenDirectory(blob_dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  store_ = std::move(*reopened);
  EXPECT_EQ(Files(tmp), (std::vector<std::string>{"not-ours.txt"}));
  EXPECT_EQ(ReadAll(keep), "committed");
}

TEST_F(FileBlobStoreTest, SecondOpenLeavesInFlightWritesAlone) {
  auto w = store_->Create();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("in flight").ok());

  // Another store on the same directory, while the first is open.
  auto second = FileBlobStore::OpenDirectory(blob_dir_);
  ASSERT_TRUE(second.ok()) << second.status().message();
  auto id = (*w)->Commit();
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto r = (*second)->Open(*id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*(*r)->Read(0, 100), "in flight");
}

TEST_F(FileBlobStoreTest, ListGivesEveryBlobInIdOrderInBatches) {
  std::set<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.insert(PutBlob(Pattern(10 + i, i)));
  std::ofstream(blob_dir_ + "/tmp/0123456789abcdef0123456789abcdef.part") << "not a blob";
  std::vector<std::string> listed;
  std::string after;
  while (true) {
    auto batch = store_->List(after, 7);
    ASSERT_TRUE(batch.ok()) << batch.status().message();
    if (batch->empty()) break;
    EXPECT_LE(batch->size(), 7u);
    for (const ports::ListedBlob& blob : *batch) {
      auto reader = store_->Open(blob.id);
      ASSERT_TRUE(reader.ok());
      EXPECT_EQ(blob.bytes, (*reader)->size());
      EXPECT_GT(blob.written_ms, 1'600'000'000'000) << "written when the test ran, in Unix ms";
      listed.push_back(blob.id);
    }
    after = batch->back().id;
  }
  EXPECT_EQ(listed, std::vector<std::string>(ids.begin(), ids.end()));
  EXPECT_EQ(store_->List("not an id", 10).status().code(), v1::INVALID_ARGUMENT);
}

TEST_F(FileBlobStoreTest, SweepUnfinishedSparesOpenWritersAndCountsWhatOpeningRemoved) {
  store_.reset();
  const std::string tmp = blob_dir_ + "/tmp";
  std::ofstream(tmp + "/fedcba9876543210fedcba9876543210.part") << "crashed mid-write";  // 17 bytes
  auto reopened = FileBlobStore::OpenDirectory(blob_dir_);
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(*reopened);

  auto writing = store_->Create();
  ASSERT_TRUE(writing.ok());
  ASSERT_TRUE((*writing)->Append("still uploading").ok());
  std::ofstream(tmp + "/00000000000000000000000000000000.part") << "left by nobody";  // 14 bytes

  auto swept = store_->SweepUnfinished();
  ASSERT_TRUE(swept.ok()) << swept.status().message();
  EXPECT_EQ(swept->files, 2u);
  EXPECT_EQ(swept->bytes, 17u + 14u);
  EXPECT_EQ(Files(tmp).size(), 1u);  // the open writer's
  auto id = (*writing)->Commit();
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(ReadAll(*id), "still uploading");

  auto again = store_->SweepUnfinished();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->files, 0u);
}

TEST_F(FileBlobStoreTest, SweepUnfinishedLeavesASharedDirectoryAlone) {
  auto second = FileBlobStore::OpenDirectory(blob_dir_);  // not alone: the fixture's store is open
  ASSERT_TRUE(second.ok());
  std::ofstream(blob_dir_ + "/tmp/00000000000000000000000000000000.part") << "another store's upload";
  auto swept = (*second)->SweepUnfinished();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->files, 0u);
  EXPECT_EQ(Files(blob_dir_ + "/tmp").size(), 1u);
}

TEST_F(FileBlobStoreTest, CommittedBlobSurvivesKill9) {
  store_.reset();
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    auto store = FileBlobStore::OpenDirectory(blob_dir_);
    if (!store.ok()) ::_exit(2);
    auto w = (*store)->Create();
    if (!w.ok() || !(*w)->Append(Pattern(100000, 9)).ok()) ::_exit(3);
    auto id = (*w)->Commit();
    if (!id.ok()) ::_exit(4);
    // A second writer left half-written when the process dies.
    auto w2 = (*store)->Create();
    if (!w2.ok() || !(*w2)->Append("half").ok()) ::_exit(5);
    if (::write(pipefd[1], id->data(), id->size()) != static_cast<ssize_t>(id->size())) ::_exit(6);
    ::pause();
    ::_exit(7);
  }
  ::close(pipefd[1]);
  char buf[32];
  ssize_t n = ::read(pipefd[0], buf, sizeof buf);
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  ::close(pipefd[0]);
  ASSERT_EQ(n, 32) << "child status " << wstatus;
  const std::string id(buf, 32);
  EXPECT_EQ(Files(blob_dir_ + "/tmp").size(), 1u);  // the half-written one

  auto reopened = FileBlobStore::OpenDirectory(blob_dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  store_ = std::move(*reopened);
  EXPECT_EQ(ReadAll(id), Pattern(100000, 9));
  EXPECT_TRUE(Files(blob_dir_ + "/tmp").empty());
}

TEST(FileBlobStoreOpenTest, ErrorsNameThePath) {
  TempDir dir;
  const std::string file = dir / "a-file";
  std::ofstream(file) << "x";
  auto store = FileBlobStore::OpenDirectory(file + "/blobs");  // a path through a regular file
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(file), std::string::npos) << store.status().message();
  EXPECT_NE(store.status().message().find("Not a directory"), std::string::npos)
      << store.status().message();
}

}  // namespace
}  // namespace cloudkit
