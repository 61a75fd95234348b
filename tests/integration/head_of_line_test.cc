// No call waits behind another on a `local` binding: while one client copies
// a 1 GiB object and another uploads slowly, a third client's heads, gets and
// lists on the same binding and service all succeed. Their latencies are
// printed (p50/p99), not asserted: the benchmark (hol_p99_ratio) carries the
// target. The copy must still be running when the small calls are done, or
// the test proves nothing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <thread>
#include <vector>

#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

using Clock = std::chrono::steady_clock;

double PercentileMs(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  return samples[static_cast<size_t>(p * (samples.size() - 1))];
}

class HeadOfLineTest : public DaemonTest {};

TEST_F(HeadOfLineTest, SmallCallsGoOnWhileALongCopyAndASlowUploadRun) {
  auto& storage = client_->storage();
  ASSERT_CK_OK(storage.CreateBucket(CreateBucketRequest("docs")));
  constexpr uint64_t kBig = 1ull << 30;
  ASSERT_CK_OK(storage.PutObject(PutRequest("docs", "big"), Zeros(kBig)));
  ASSERT_CK_OK(storage.PutObject(PutRequest("docs", "small", "tiny body")));

  std::unique_ptr<Client> copier = Connect();
  std::unique_ptr<Client> uploader = Connect();
  auto copy = std::async(std::launch::async, [&] {
    v1::CopyObjectRequest req;
    req.set_source_bucket("docs");
    req.set_source_key("big");
    req.set_bucket("docs");
    req.set_key("big-copy");
    return copier->storage().CopyObject(req);
  });
  // A client that sends a chunk every 20 ms until told to finish.
  std::atomic<bool> finish_upload{false};
  auto upload = std::async(std::launch::async, [&] {
    ByteSource slow = [&](char* buffer, size_t capacity) -> Result<size_t> {
      if (finish_upload) return size_t{0};
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      size_t n = std::min<size_t>(capacity, 64 << 10);
      std::memset(buffer, 'u', n);
      return n;
    };
    return uploader->storage().PutObject(PutRequest("docs", "slow-upload"), slow);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // both under way

  std::vector<double> head_ms, get_ms, list_ms;
  for (int i = 0; i < 50; ++i) {
    auto t0 = Clock::now();
    ASSERT_CK_OK(storage.HeadObject(HeadRequest("docs", "small")));
    auto t1 = Clock::now();
    auto got = storage.GetObject(GetRequest("docs", "small"));
    ASSERT_CK_OK(got);
    EXPECT_EQ(got->data(), "tiny body");
    auto t2 = Clock::now();
    v1::ListObjectsRequest list;
    list.set_bucket("docs");
    ASSERT_CK_OK(storage.ListObjects(list));
    auto t3 = Clock::now();
    head_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    get_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    list_ms.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
  }
  const bool copy_still_running = copy.wait_for(std::chrono::seconds(0)) == std::future_status::timeout;
  std::printf("during a 1 GiB copy and a slow upload: head p50 %.2f ms p99 %.2f ms; get p50 %.2f ms p99 %.2f ms; "
              "list p50 %.2f ms p99 %.2f ms\n",
              PercentileMs(head_ms, 0.5), PercentileMs(head_ms, 0.99), PercentileMs(get_ms, 0.5),
              PercentileMs(get_ms, 0.99), PercentileMs(list_ms, 0.5), PercentileMs(list_ms, 0.99));
  finish_upload = true;
  EXPECT_TRUE(copy_still_running) << "the copy finished before the small calls: nothing was tested";
  ASSERT_CK_OK(copy.get());
  ASSERT_CK_OK(upload.get());
  auto copied = storage.HeadObject(HeadRequest("docs", "big-copy"));
  ASSERT_CK_OK(copied);
  EXPECT_EQ(copied->object().size(), kBig);
}

}  // namespace
}  // namespace cloudkit::integration
