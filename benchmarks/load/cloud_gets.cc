#include "load/cloud_gets.h"

#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <map>
#include <vector>

#include "client/client.h"
#include "load/daemon_process.h"
#include "load/load_clients.h"
#include "support/emulator.h"

namespace cloudkit::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testing_util::Emulator;
using testing_util::EmulatorKind;

constexpr char kS3Bucket[] = "bench";

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

size_t Discard(char*, size_t size, size_t count, void* bytes) {
  *static_cast<uint64_t*>(bytes) += size * count;
  return size * count;
}

// A plain libcurl client: one handle, its connection kept between gets.
class DirectGetter {
 public:
  DirectGetter() : curl_(curl_easy_init()) {
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Discard);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &bytes_);
  }
  ~DirectGetter() { curl_easy_cleanup(curl_); }
  bool Get(const std::string& url) {
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    long status = 0;
    bool ok = curl_easy_perform(curl_) == CURLE_OK &&
              curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200;
    return ok;
  }

 private:
  CURL* curl_;
  uint64_t bytes_ = 0;
};

Result<std::string> CloudkitGet(Client& client, const std::string& key) {
  v1::GetObjectRequest get;
  get.set_bucket("docs");
  get.set_key(key);
  TransferOptions options;
  options.call.binding = "files";
  uint64_t bytes = 0;
  auto got = client.storage().GetObject(get, [&bytes](std::string_view chunk) -> Status {
    bytes += chunk.size();
    return Status::Ok();
  }, options);
  if (!got.ok()) return got.status();
  return std::string();
}

// p50 of `samples` timed runs of `call`, after a few untimed ones.
template <typename Call>
Result<double> MedianMicros(uint64_t samples, Call call) {
  std::vector<double> micros;
  for (uint64_t i = 0; i < samples + samples / 10 + 1; ++i) {
    const auto start = Clock::now();
    Status done = call();
    if (!done.ok()) return done;
    if (i > samples / 10) micros.push_back(MicrosSince(start));
  }
  return Percentile(micros, 0.5);
}

Status MeasureS3(const CloudGetOptions& options, CloudGetFigures* figures) {
  testing_util::EmulatorOptions emulator_options;
  emulator_options.buckets = {kS3Bucket};
  auto s3rver = Emulator::Start(EmulatorKind::kS3rver, emulator_options);
  if (!s3rver.ok()) return s3rver.status();
  const std::string endpoint = (*s3rver)->endpoint();
  auto daemon = DaemonUnderTest::Start(
      options.cloudkitd, options.work_dir, "s3",
      "  - name: files\n"
      "    url: 's3://bench?endpoint=" + endpoint + "&conditional_writes=false'\n"
      "    credentials: {access_key_id: S3RVER, secret_access_key: S3RVER}\n");
  if (!daemon.ok()) return daemon.status();
  auto client = Client::Connect((*daemon)->endpoint());
  if (!client.ok()) return client.status();
  CallOptions on_files;
  on_files.binding = "files";
  v1::CreateBucketRequest create;
  create.set_bucket("docs");
  if (auto created = (*client)->storage().CreateBucket(create, on_files); !created.ok()) return created.status();
  for (auto [key, size] : {std::pair<std::string, uint64_t>{"small", 1024}, {"large", options.large_bytes}}) {
    v1::PutObjectRequest put;
    put.set_bucket("docs");
    put.set_key(key);
    put.set_data(std::string(size, 'x'));
    TransferOptions transfer;
    transfer.call = on_files;
    if (auto stored = (*client)->storage().PutObject(put, transfer); !stored.ok()) return stored.status();
  }
  // The direct client sends the same signed request: a presigned URL for
  // each object (s3rver spends as long on a signed request as cloudkitd's).
  std::map<std::string, std::string> signed_url;
  for (const char* key : {"small", "large"}) {
    v1::PresignObjectRequest presign;
    presign.set_bucket("docs");
    presign.set_key(key);
    auto presigned = (*client)->storage().PresignObject(presign, on_files);
    if (!presigned.ok()) return presigned.status();
    signed_url[key] = presigned->url();
  }
  DirectGetter direct;
  auto direct_get = [&](const std::string& key) {
    return [&, key] {
      return direct.Get(signed_url[key]) ? Status::Ok() : Status::Unavailable("direct get of " + key);
    };
  };
  auto daemon_get = [&](const std::string& key) {
    return [&, key]() -> Status {
      auto got = CloudkitGet(**client, key);
      return got.ok() ? Status::Ok() : got.status();
    };
  };
  // Alternate the sides, twice, so both see the same moments of the machine.
  std::vector<double> small, small_direct, large, large_direct;
  for (int round = 0; round < 2; ++round) {
    auto a = MedianMicros(options.samples / 2, direct_get("small"));
    auto b = MedianMicros(options.samples / 2, daemon_get("small"));
    auto c = MedianMicros(options.large_samples / 2, direct_get("large"));
    auto d = MedianMicros(options.large_samples / 2, daemon_get("large"));
    for (auto* r : {&a, &b, &c, &d}) {
      if (!r->ok()) return r->status();
    }
    small_direct.push_back(*a);
    small.push_back(*b);
    large_direct.push_back(*c);
    large.push_back(*d);
  }
  figures->s3_small_direct_p50_us = (small_direct[0] + small_direct[1]) / 2;
  figures->s3_small_p50_us = (small[0] + small[1]) / 2;
  figures->s3_large_direct_p50_ms = (large_direct[0] + large_direct[1]) / 2000;
  figures->s3_large_p50_ms = (large[0] + large[1]) / 2000;

  auto direct_rate = CallsPerSecond(options.in_flight, options.throughput_seconds, [&](int) -> Result<Call> {
    return Call([getter = std::make_shared<DirectGetter>(), url = signed_url["small"]] {
      return getter->Get(url) ? Status::Ok() : Status::Unavailable("direct get");
    });
  });
  if (!direct_rate.ok()) return direct_rate.status();
  const std::string daemon_endpoint = (*daemon)->endpoint();
  auto daemon_rate = CallsPerSecond(options.in_flight, options.throughput_seconds, [&](int) -> Result<Call> {
    auto connected = Client::Connect(daemon_endpoint);
    if (!connected.ok()) return connected.status();
    std::shared_ptr<Client> own = std::move(*connected);
    return Call([own]() -> Status {
      auto got = CloudkitGet(*own, "small");
      return got.ok() ? Status::Ok() : got.status();
    });
  });
  if (!daemon_rate.ok()) return daemon_rate.status();
  figures->s3_in_flight_direct_per_s = *direct_rate;
  figures->s3_in_flight_per_s = *daemon_rate;
  const int exit_code = (*daemon)->Stop();
  return exit_code == 0 ? Status::Ok() : Status::Internal("s3 cloudkitd exited " + std::to_string(exit_code));
}

Status MeasureRedis(const CloudGetOptions& options, CloudGetFigures* figures) {
  auto redis = Emulator::Start(EmulatorKind::kRedis);
  if (!redis.ok()) return redis.status();
  const std::string address = (*redis)->host() + ":" + std::to_string((*redis)->port());
  auto daemon = DaemonUnderTest::Start(options.cloudkitd, options.work_dir, "redis",
                                       "  - {name: cache, url: 'redis://" + address + "/0'}\n");
  if (!daemon.ok()) return daemon.status();
  auto client = Client::Connect((*daemon)->endpoint());
  if (!client.ok()) return client.status();
  CallOptions on_cache;
  on_cache.binding = "cache";
  v1::PutRequest put;
  put.set_table("bench");
  put.set_key("k");
  put.set_value(std::string(64, 'v'));
  if (auto stored = (*client)->kv().Put(put, on_cache); !stored.ok()) return stored.status();

  redisContext* direct = redisConnect((*redis)->host().c_str(), (*redis)->port());
  if (direct == nullptr || direct->err) return Status::Unavailable("hiredis could not connect");
  auto* reply = static_cast<redisReply*>(redisCommand(direct, "SET bench:k %b", put.value().data(), put.value().size()));
  freeReplyObject(reply);
  auto direct_get = [&]() -> Status {
    auto* got = static_cast<redisReply*>(redisCommand(direct, "GET bench:k"));
    const bool ok = got != nullptr && got->type == REDIS_REPLY_STRING;
    freeReplyObject(got);
    return ok ? Status::Ok() : Status::Unavailable("direct redis get");
  };
  v1::GetRequest get;
  get.set_table("bench");
  get.set_key("k");
  auto daemon_get = [&]() -> Status {
    auto got = (*client)->kv().Get(get, on_cache);
    return got.ok() ? Status::Ok() : got.status();
  };
  std::vector<double> via, straight;
  for (int round = 0; round < 2; ++round) {
    auto a = MedianMicros(options.samples, direct_get);
    auto b = MedianMicros(options.samples, daemon_get);
    if (!a.ok()) return a.status();
    if (!b.ok()) return b.status();
    straight.push_back(*a);
    via.push_back(*b);
  }
  redisFree(direct);
  figures->redis_direct_p50_us = (straight[0] + straight[1]) / 2;
  figures->redis_p50_us = (via[0] + via[1]) / 2;
  const int exit_code = (*daemon)->Stop();
  return exit_code == 0 ? Status::Ok() : Status::Internal("redis cloudkitd exited " + std::to_string(exit_code));
}

// A plain libcurl client POSTing one fixed GetItem: dynalite checks no
// signature, so the request is built once (what cloudkitd adds, signing
// included, is the figure).
class DirectDynamoGetter {
 public:
  DirectDynamoGetter(const std::string& endpoint, const std::string& body) : curl_(curl_easy_init()), body_(body) {
    for (const char* header : {"Content-Type: application/x-amz-json-1.0", "X-Amz-Target: DynamoDB_20120810.GetItem",
                               "X-Amz-Date: 20260101T000000Z",
                               "Authorization: AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/dynamodb/"
                               "aws4_request, SignedHeaders=host, Signature=0"}) {
      headers_ = curl_slist_append(headers_, header);
    }
    curl_easy_setopt(curl_, CURLOPT_URL, endpoint.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body_.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Discard);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &bytes_);
  }
  ~DirectDynamoGetter() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }
  Status Get() {
    const uint64_t before = bytes_;
    long status = 0;
    bool ok = curl_easy_perform(curl_) == CURLE_OK &&
              curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200;
    return ok && bytes_ > before + 2 ? Status::Ok() : Status::Unavailable("direct GetItem");
  }

 private:
  CURL* curl_;
  curl_slist* headers_ = nullptr;
  std::string body_;
  uint64_t bytes_ = 0;
};

Status MeasureDynamoDb(const CloudGetOptions& options, CloudGetFigures* figures) {
  testing_util::EmulatorOptions emulator_options;
  emulator_options.extra_args = {"--createTableMs", "0"};
  auto dynalite = Emulator::Start(EmulatorKind::kDynalite, emulator_options);
  if (!dynalite.ok()) return dynalite.status();
  const std::string endpoint = (*dynalite)->endpoint();
  auto daemon = DaemonUnderTest::Start(
      options.cloudkitd, options.work_dir, "dynamodb",
      "  - name: items\n"
      "    url: 'dynamodb://bench?endpoint=" + endpoint + "&create_table=true&transactions=false'\n"
      "    credentials: {access_key_id: bench, secret_access_key: bench}\n");
  if (!daemon.ok()) return daemon.status();
  auto client = Client::Connect((*daemon)->endpoint());
  if (!client.ok()) return client.status();
  CallOptions on_items;
  on_items.binding = "items";
  v1::PutRequest put;
  put.set_table("bench");
  put.set_key("k");
  put.set_value(std::string(64, 'v'));
  if (auto stored = (*client)->kv().Put(put, on_items); !stored.ok()) return stored.status();
  // The provider's layout (providers/dynamodb/dynamodb_items.h): pk = table, sk = key.
  DirectDynamoGetter direct(endpoint, "{\"TableName\":\"bench\",\"Key\":{\"pk\":{\"S\":\"bench\"},"
                                      "\"sk\":{\"S\":\"k\"}},\"ConsistentRead\":true}");
  v1::GetRequest get;
  get.set_table("bench");
  get.set_key("k");
  auto daemon_get = [&]() -> Status {
    auto got = (*client)->kv().Get(get, on_items);
    return got.ok() ? Status::Ok() : got.status();
  };
  std::vector<double> via, straight;
  for (int round = 0; round < 2; ++round) {
    auto a = MedianMicros(options.samples / 2, [&] { return direct.Get(); });
    auto b = MedianMicros(options.samples / 2, daemon_get);
    if (!a.ok()) return a.status();
    if (!b.ok()) return b.status();
    straight.push_back(*a);
    via.push_back(*b);
  }
  figures->dynamodb_direct_p50_us = (straight[0] + straight[1]) / 2;
  figures->dynamodb_p50_us = (via[0] + via[1]) / 2;
  const int exit_code = (*daemon)->Stop();
  return exit_code == 0 ? Status::Ok() : Status::Internal("dynamodb cloudkitd exited " + std::to_string(exit_code));
}

}  // namespace

Result<CloudGetFigures> MeasureCloudGets(const CloudGetOptions& options) {
  CloudGetFigures figures;
  CK_RETURN_IF_ERROR(MeasureS3(options, &figures));
  CK_RETURN_IF_ERROR(MeasureRedis(options, &figures));
  CK_RETURN_IF_ERROR(MeasureDynamoDb(options, &figures));
  return figures;
}

}  // namespace cloudkit::bench
