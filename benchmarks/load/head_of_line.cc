#include "load/head_of_line.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <vector>

#include "client/client.h"
#include "load/load_clients.h"

namespace cloudkit::bench {
namespace {

using Clock = std::chrono::steady_clock;

Status TimeHeads(Client& client, uint64_t count, const std::function<bool()>& go_on, std::vector<double>* micros) {
  v1::HeadObjectRequest head;
  head.set_bucket("hol");
  head.set_key("small");
  for (uint64_t i = 0; i < count && go_on(); ++i) {
    auto start = Clock::now();
    auto headed = client.storage().HeadObject(head);
    if (!headed.ok()) return headed.status();
    micros->push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return Status::Ok();
}

}  // namespace

Result<HeadOfLineFigures> MeasureHeadOfLine(const std::string& endpoint, uint64_t copy_bytes, uint64_t samples) {
  auto client = Client::Connect(endpoint);
  if (!client.ok()) return client.status();
  auto copier = Client::Connect(endpoint);
  if (!copier.ok()) return copier.status();
  auto& storage = (*client)->storage();
  v1::CreateBucketRequest create;
  create.set_bucket("hol");
  if (auto created = storage.CreateBucket(create); !created.ok()) return created.status();
  v1::PutObjectRequest small;
  small.set_bucket("hol");
  small.set_key("small");
  small.set_data("a small object");
  if (auto put = storage.PutObject(small); !put.ok()) return put.status();
  v1::PutObjectRequest big;
  big.set_bucket("hol");
  big.set_key("big");
  uint64_t produced = 0;
  ByteSource zeros = [&](char* buffer, size_t capacity) -> Result<size_t> {
    size_t n = static_cast<size_t>(std::min<uint64_t>(capacity, copy_bytes - produced));
    std::memset(buffer, 0, n);
    produced += n;
    return n;
  };
  if (auto put = storage.PutObject(big, zeros); !put.ok()) return put.status();

  HeadOfLineFigures figures;
  std::vector<double> idle, busy;
  CK_RETURN_IF_ERROR(TimeHeads(**client, samples, [] { return true; }, &idle));

  std::atomic<bool> copying{true};
  auto started = Clock::now();
  auto copy = std::async(std::launch::async, [&] {
    v1::CopyObjectRequest req;
    req.set_source_bucket("hol");
    req.set_source_key("big");
    req.set_bucket("hol");
    req.set_key("big-copy");
    auto copied = (*copier)->storage().CopyObject(req);
    figures.copy_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    copying = false;
    return copied.ok() ? Status::Ok() : copied.status();
  });
  Status heads = TimeHeads(**client, samples, [&] { return copying.load(); }, &busy);
  Status copied = copy.get();
  CK_RETURN_IF_ERROR(heads);
  CK_RETURN_IF_ERROR(copied);
  if (busy.size() < 20) {
    return Status::FailedPrecondition("the copy ended after " + std::to_string(busy.size()) +
                                      " heads: use a larger --hol-bytes");
  }
  figures.busy_samples = busy.size();
  figures.idle_p50_us = Percentile(idle, 0.5);
  figures.idle_p99_us = Percentile(idle, 0.99);
  figures.busy_p50_us = Percentile(busy, 0.5);
  figures.busy_p99_us = Percentile(busy, 0.99);
  return figures;
}

}  // namespace cloudkit::bench
