// Streamed PutObject / GetObject through the client library: multi-chunk
// bodies both ways, every kind of source and sink, progress reports, aborted
// transfers, and memory that stays flat whatever the object size.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <sstream>
#include <thread>

#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"
#include "ports/openssl_hash.h"
#include "support/sanitized.h"

namespace cloudkit::integration {
namespace {

using std::chrono::milliseconds;

class StreamingTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  }
};

// A source producing `size` bytes of MakeBody-like data without holding them.
ByteSource GeneratedSource(uint64_t size, uint64_t* produced, int* calls = nullptr) {
  return [size, produced, calls](char* buffer, size_t capacity) -> Result<size_t> {
    if (calls) ++*calls;
    size_t n = static_cast<size_t>(std::min<uint64_t>(capacity, size - *produced));
    for (size_t i = 0; i < n; ++i) buffer[i] = static_cast<char>((*produced + i) * 31 % 251);
    *produced += n;
    return n;
  };
}

// A sink checking the bytes GeneratedSource produced, keeping none.
ByteSink CheckingSink(uint64_t* consumed, bool* matches, int* chunks) {
  return [consumed, matches, chunks](std::string_view chunk) {
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (chunk[i] != static_cast<char>((*consumed + i) * 31 % 251)) *matches = false;
    }
    *consumed += chunk.size();
    ++*chunks;
    return Status::Ok();
  };
}

TEST_F(StreamingTest, MultiChunkObjectRoundTripWithProgress) {
  const std::string body = MakeBody(5 * 1024 * 1024 + 123);
  std::vector<uint64_t> put_progress;
  TransferOptions put_options;
  put_options.size_hint = body.size();
  put_options.progress = [&](uint64_t done, std::optional<uint64_t> total) {
    put_progress.push_back(done);
    EXPECT_EQ(total, body.size());
  };
  auto stored = client_->storage().PutObject(PutRequest("docs", "big"), SourceFromString(body), put_options);
  ASSERT_CK_OK(stored);
  EXPECT_EQ(stored->object().size(), body.size());
  EXPECT_GT(put_progress.size(), 10u);  // 256 KiB chunks
  EXPECT_TRUE(std::is_sorted(put_progress.begin(), put_progress.end()));
  EXPECT_EQ(put_progress.back(), body.size());

  std::string received;
  int chunks = 0;
  uint64_t last_done = 0;
  TransferOptions get_options;
  get_options.progress = [&](uint64_t done, std::optional<uint64_t> total) {
    EXPECT_EQ(total, body.size());
    last_done = done;
  };
  auto got = client_->storage().GetObject(
      GetRequest("docs", "big"),
      [&](std::string_view chunk) {
        received.append(chunk);
        ++chunks;
        return Status::Ok();
      },
      get_options);
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->content_length(), body.size());
  EXPECT_EQ(got->data(), "");  // the body went to the sink
  EXPECT_GT(chunks, 10);
  EXPECT_EQ(last_done, body.size());
  EXPECT_TRUE(received == body);
  EXPECT_EQ(got->object().etag(), stored->object().etag());
}

TEST_F(StreamingTest, BodyOfExactlyWholeChunksEndsWithAnEmptyFrame) {
  for (size_t size : {size_t{256} << 10, size_t{1} << 20}) {
    const std::string body = MakeBody(size, 7);
    std::string key = "whole-" + std::to_string(size);
    ASSERT_CK_OK(client_->storage().PutObject(PutRequest("docs", key), SourceFromString(body)));
    auto got = client_->storage().GetObject(GetRequest("docs", key));
    ASSERT_CK_OK(got);
    EXPECT_EQ(got->data().size(), size);
    EXPECT_TRUE(got->data() == body);
  }
}

TEST_F(StreamingTest, StreamsAndFileDescriptors) {
  const std::string body = MakeBody(900'000, 3);
  std::istringstream in(body);
  ASSERT_CK_OK(client_->storage().PutObject(PutRequest("docs", "from-stream"), in));
  std::ostringstream out;
  ASSERT_CK_OK(client_->storage().GetObject(GetRequest("docs", "from-stream"), out));
  EXPECT_TRUE(out.str() == body);

  char path[] = "/tmp/cloudkit-fd-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, body.data(), body.size()), static_cast<ssize_t>(body.size()));
  lseek(fd, 0, SEEK_SET);
  ASSERT_CK_OK(client_->storage().PutObjectFromFd(PutRequest("docs", "from-fd"), fd));
  ASSERT_EQ(ftruncate(fd, 0), 0);
  lseek(fd, 0, SEEK_SET);
  ASSERT_CK_OK(client_->storage().GetObjectToFd(GetRequest("docs", "from-fd"), fd));
  std::string back(body.size(), '\0');
  ASSERT_EQ(pread(fd, back.data(), back.size(), 0), static_cast<ssize_t>(body.size()));
  EXPECT_TRUE(back == body);
  close(fd);
  unlink(path);
}

TEST_F(StreamingTest, RangedDownloadAcrossChunks) {
  const std::string body = MakeBody(3 << 20, 5);
  ASSERT_CK_OK(client_->storage().PutObject(PutRequest("docs", "big", body)));
  v1::GetObjectRequest range = GetRequest("docs", "big");
  range.set_has_range(true);
  range.set_range_start(100'000);
  range.set_range_length(1'500'000);
  auto got = client_->storage().GetObject(range);
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->content_length(), 1'500'000u);
  EXPECT_TRUE(got->data() == body.substr(100'000, 1'500'000));
}

TEST_F(StreamingTest, FailingSourceCancelsTheUploadAndNothingChanges) {
  ASSERT_CK_OK(client_->storage().PutObject(PutRequest("docs", "k", "old")));
  int calls = 0;
  ByteSource failing = [&](char* buffer, size_t capacity) -> Result<size_t> {
    if (++calls > 4) return Status(v1::INTERNAL, "disk on fire");
    std::memset(buffer, 'x', capacity);
    return capacity;
  };
  auto put = client_->storage().PutObject(PutRequest("docs", "k"), failing);
  EXPECT_CK_CODE(put, v1::INTERNAL);
  EXPECT_EQ(put.status().message(), "disk on fire");
  auto got = client_->storage().GetObject(GetRequest("docs", "k"));
  ASSERT_CK_OK(got);
  EXPECT_EQ(got->data(), "old");  // the abandoned upload never became visible
  // A source failing at once fails before anything is sent.
  EXPECT_CK_CODE(client_->storage().PutObject(PutRequest("docs", "new"), failing), v1::INTERNAL);
  EXPECT_CK_CODE(client_->storage().HeadObject(HeadRequest("docs", "new")), v1::NOT_FOUND);
}

TEST_F(StreamingTest, FailingSinkCancelsTheDownloadAndTheClientCarriesOn) {
  ASSERT_CK_OK(client_->storage().PutObject(PutRequest("docs", "big", MakeBody(4 << 20))));
  int chunks = 0;
  auto got = client_->storage().GetObject(GetRequest("docs", "big"), [&](std::string_view) {
    return ++chunks == 3 ? Status(v1::INTERNAL, "disk full") : Status::Ok();
  });
  EXPECT_CK_CODE(got, v1::INTERNAL);
  EXPECT_EQ(got.status().message(), "disk full");
  EXPECT_EQ(chunks, 3);
  auto again = client_->storage().GetObject(GetRequest("docs", "big"));
  ASSERT_CK_OK(again);
  EXPECT_EQ(again->data().size(), 4u << 20);
}

TEST_F(StreamingTest, IdleUploadHitsTheDeadline) {
  ClientOptions options;
  options.timeout = milliseconds(300);
  std::unique_ptr<Client> impatient = Connect(options);
  int calls = 0;
  ByteSource stalling = [&](char* buffer, size_t capacity) -> Result<size_t> {
    if (++calls == 3) std::this_thread::sleep_for(milliseconds(1'500));
    if (calls > 6) return size_t{0};
    std::memset(buffer, 'y', capacity);
    return capacity;
  };
  auto put = impatient->storage().PutObject(PutRequest("docs", "slow"), stalling);
  EXPECT_CK_CODE(put, v1::DEADLINE_EXCEEDED);
  EXPECT_CK_CODE(client_->storage().HeadObject(HeadRequest("docs", "slow")), v1::NOT_FOUND);
}

// 256 MiB up and down through the durable `local` binding, checked by MD5 on
// both sides: neither the client nor the daemon may hold the body, and the
// daemon stays under 64 MiB resident at its peak.
TEST_F(StreamingTest, MemoryStaysFlatForBigTransfers) {
  constexpr uint64_t kSize = 256ull << 20;
  constexpr uint64_t kDaemonPeakLimit = 64ull << 20;
  constexpr uint64_t kClientGrowthLimit = 48ull << 20;
  const uint64_t client_before = PeakRssBytes();
  OpenSslHashPort hashes;

  uint64_t produced = 0;
  std::unique_ptr<ports::Hasher> sent_md5 = hashes.NewMd5();
  ByteSource generate = GeneratedSource(kSize, &produced);
  ByteSource hashing_source = [&](char* buffer, size_t capacity) -> Result<size_t> {
    Result<size_t> n = generate(buffer, capacity);
    if (n.ok()) sent_md5->Update(std::string_view(buffer, *n));
    return n;
  };
  auto stored = client_->storage().PutObject(PutRequest("docs", "huge"), hashing_source);
  ASSERT_CK_OK(stored);
  EXPECT_EQ(stored->object().size(), kSize);
  const std::string sent_etag = "\"" + sent_md5->FinishHex() + "\"";
  EXPECT_EQ(stored->object().etag(), sent_etag);

  uint64_t consumed = 0;
  bool matches = true;
  int chunks = 0;
  std::unique_ptr<ports::Hasher> received_md5 = hashes.NewMd5();
  ByteSink check = CheckingSink(&consumed, &matches, &chunks);
  auto got = client_->storage().GetObject(GetRequest("docs", "huge"), [&](std::string_view chunk) {
    received_md5->Update(chunk);
    return check(chunk);
  });
  ASSERT_CK_OK(got);
  EXPECT_EQ(consumed, kSize);
  EXPECT_TRUE(matches);
  EXPECT_EQ("\"" + received_md5->FinishHex() + "\"", sent_etag);

  if (testing_util::kRssBoundsHold) {
    EXPECT_LT(PeakRssBytes() - client_before, kClientGrowthLimit) << "client peak RSS grew too much";
    EXPECT_LT(daemon_->PeakRssBytes(), kDaemonPeakLimit) << "cloudkitd peak RSS (VmHWM)";
  }
}

}  // namespace
}  // namespace cloudkit::integration
