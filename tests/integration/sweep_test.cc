// Storage upkeep of a `local` binding: what kill -9 leaves behind (an upload
// cut off mid-stream, a blob whose record was never written) is swept when
// the daemon starts again, Runtime/Status and `cloudkit status` say what was
// swept, and committed objects stay whole.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "integration/daemon_fixture.h"
#include "integration/subprocess.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using SweepTest = DaemonTest;

constexpr char kOrphanId[] = "ab0123456789abcdef0123456789abcd";
constexpr size_t kOrphanBytes = 1000;

// The bytes of the upload files under `tmp`, or -1 when there is none.
int64_t PartBytes(const fs::path& tmp) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(tmp, ec)) {
    if (entry.path().extension() == ".part") return static_cast<int64_t>(entry.file_size(ec));
  }
  return -1;
}

// Committed blob files under `blobs` (its two-hex-digit subdirectories).
size_t BlobFiles(const fs::path& blobs) {
  size_t count = 0;
  std::error_code ec;
  for (const auto& sub : fs::directory_iterator(blobs, ec)) {
    if (!sub.is_directory() || sub.path().filename().string().size() != 2) continue;
    for (const auto& file : fs::directory_iterator(sub.path(), ec)) count += file.is_regular_file() ? 1 : 0;
  }
  return count;
}

const v1::BindingInfo* Binding(const v1::StatusResponse& status, const std::string& name) {
  for (const auto& binding : status.bindings()) {
    if (binding.name() == name) return &binding;
  }
  return nullptr;
}

TEST_F(SweepTest, WhatAKillLeftIsSweptAtRestartAndCommittedObjectsStay) {
  const fs::path blobs = fs::path(daemon_->dir()) / "data" / "default" / "objects" / "blobs";
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  const std::string big = MakeBody(3 << 20, 7);
  auto put_big = storage.PutObject(PutRequest("docs", "big", big));
  ASSERT_CK_OK(put_big);
  ASSERT_CK_OK(storage.PutObject(PutRequest("docs", "small", "small body")));

  // An upload under way at the kill: its body gives two chunks, then waits.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  struct LetGo {  // however the test ends, the upload ends and its thread is joined
    std::promise<void>* release;
    std::thread thread;
    ~LetGo() {
      try {
        release->set_value();
      } catch (const std::future_error&) {  // let go already
      }
      if (thread.joinable()) thread.join();
    }
  } uploader{&release, {}};
  uploader.thread = std::thread([this, released] {
    std::unique_ptr<Client> client = Connect();
    auto chunks = std::make_shared<int>(0);
    ByteSource body = [chunks, released](char* buffer, size_t capacity) -> Result<size_t> {
      if ((*chunks)++ < 2) {
        std::memset(buffer, 'u', capacity);
        return capacity;
      }
      released.wait();
      return Status::Unavailable("the test let go of the upload");
    };
    (void)client->storage().PutObject(PutRequest("docs", "interrupted"), body);
  });
  for (int i = 0; i < 200 && PartBytes(blobs / "tmp") <= 0; ++i) std::this_thread::sleep_for(milliseconds(50));
  ASSERT_GT(PartBytes(blobs / "tmp"), 0) << "the upload never reached the disk";

  // A blob no record names, as a crash between writing a body and its record
  // leaves, written an hour ago (younger ones wait for a later pass).
  fs::create_directories(blobs / "ab");
  std::ofstream(blobs / "ab" / kOrphanId) << std::string(kOrphanBytes, 'o');
  fs::last_write_time(blobs / "ab" / kOrphanId, fs::file_time_type::clock::now() - std::chrono::hours(1));
  // And one written just now: it stays.
  const std::string young_orphan = "cd0123456789abcdef0123456789abcd";
  fs::create_directories(blobs / "cd");
  std::ofstream(blobs / "cd" / young_orphan) << "recent";
  ASSERT_EQ(BlobFiles(blobs), 4u);

  daemon_->Kill();
  release.set_value();
  uploader.thread.join();
  ASSERT_CK_OK(daemon_->Restart());

  // The start-up pass runs beside the calls: wait until it has ended.
  Result<v1::StatusResponse> status = Status::Internal("no status yet");
  for (int i = 0; i < 200; ++i) {
    status = client_->runtime().GetStatus();
    ASSERT_CK_OK(status);
    const v1::BindingInfo* binding = Binding(*status, "default");
    ASSERT_NE(binding, nullptr);
    if (binding->upkeep().sweeps() > 0) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  const v1::StorageUpkeep& upkeep = Binding(*status, "default")->upkeep();
  ASSERT_EQ(upkeep.sweeps(), 1u);
  EXPECT_EQ(upkeep.orphan_blobs(), 1u);
  EXPECT_EQ(upkeep.orphan_blob_bytes(), kOrphanBytes);
  EXPECT_EQ(upkeep.partial_uploads(), 1u);
  EXPECT_GT(upkeep.partial_upload_bytes(), 0u);
  EXPECT_GT(upkeep.last_sweep_ms(), 0u);
  EXPECT_FALSE(Binding(*status, "scratch")->has_upkeep()) << "a memory binding leaves nothing behind";

  EXPECT_EQ(PartBytes(blobs / "tmp"), -1);
  EXPECT_FALSE(fs::exists(blobs / "ab" / kOrphanId));
  EXPECT_TRUE(fs::exists(blobs / "cd" / young_orphan));
  EXPECT_EQ(BlobFiles(blobs), 3u);
  auto got_big = storage.GetObject(GetRequest("docs", "big"));
  ASSERT_CK_OK(got_big);
  EXPECT_TRUE(got_big->data() == big);
  EXPECT_EQ(got_big->object().etag(), put_big->object().etag());
  auto small = storage.GetObject(GetRequest("docs", "small"));
  ASSERT_CK_OK(small);
  EXPECT_EQ(small->data(), "small body");
  EXPECT_CK_CODE(storage.HeadObject(HeadRequest("docs", "interrupted")), v1::NOT_FOUND);

  ProcessResult cli = RunProcess({CLOUDKIT_CLI_PATH, "--endpoint", daemon_->endpoint(), "status"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("swept: 1 orphan blob ("), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("1 partial upload ("), std::string::npos) << cli.out;
}

// Uploads and copies under way while a pass runs keep their blobs: the pass
// starts with the daemon, beside a stream of puts and copies, and every one
// acknowledged is readable afterwards.
TEST_F(SweepTest, APassBesideBusyWritersTakesNothingTheyWrote) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("busy")));
  for (int round = 0; round < 3; ++round) {
    daemon_->Kill();
    ASSERT_CK_OK(daemon_->Restart());  // a pass starts now
    for (int i = 0; i < 40; ++i) {
      const std::string key = "r" + std::to_string(round) + "-" + std::to_string(i);
      ASSERT_CK_OK(storage.PutObject(PutRequest("busy", key, MakeBody(5000 + i, i))));
      v1::CopyObjectRequest copy;
      copy.set_source_bucket("busy");
      copy.set_source_key(key);
      copy.set_bucket("busy");
      copy.set_key(key + "-copy");
      ASSERT_CK_OK(storage.CopyObject(copy));
    }
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 40; ++i) {
      const std::string key = "r" + std::to_string(round) + "-" + std::to_string(i);
      for (const std::string& name : {key, key + "-copy"}) {
        auto got = storage.GetObject(GetRequest("busy", name));
        ASSERT_CK_OK(got);
        EXPECT_TRUE(got->data() == MakeBody(5000 + i, i)) << name;
      }
    }
  }
}

}  // namespace
}  // namespace cloudkit::integration
