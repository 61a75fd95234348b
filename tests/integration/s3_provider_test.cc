// The `s3` provider through a real cloudkitd against a real s3rver: what
// cloudkitd writes, the official SDKs (AWS's for JavaScript and boto3) read,
// and the other way round; presigned URLs work with a plain HTTP client; a
// stopped emulator gives UNAVAILABLE within the call's deadline, opens the
// breaker, and everything recovers once it is back; wrong credentials give
// UNAUTHENTICATED; a slow backend on one binding slows neither another
// binding nor the other calls on its own.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "integration/daemon_fixture.h"
#include "providers/aws/sigv4.h"
#include "integration/subprocess.h"
#include "integration/test_helpers.h"
#include "support/delay_proxy.h"
#include "support/emulator.h"
#include "support/http_request.h"

namespace cloudkit::integration {
namespace {

using std::chrono::milliseconds;
using testing_util::Emulator;
using testing_util::EmulatorKind;

constexpr char kS3Bucket[] = "shared";

// A URL's query values percent-encoded (the SigV4 encoder: every byte but the unreserved ones).

std::string Pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

class S3ProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing_util::EmulatorOptions options;
    options.buckets = {kS3Bucket};
    auto s3rver = Emulator::Start(EmulatorKind::kS3rver, options);
    ASSERT_TRUE(s3rver.ok()) << s3rver.status().message();
    s3rver_ = std::move(*s3rver);
    auto proxy = testing_util::DelayProxy::Start("127.0.0.1", s3rver_->port(), milliseconds(0));
    ASSERT_TRUE(proxy.ok()) << proxy.status().message();
    proxy_ = std::move(*proxy);

    const std::string common = "conditional_writes=false&breaker_failures=3&breaker_open_ms=1000&max_attempts=3";
    DaemonOptions daemon;
    daemon.extra_bindings =
        "  - {name: files, url: 's3://shared?endpoint=" + UrlEscape(s3rver_->endpoint()) + "&" + common + "'}\n" +
        "  - {name: slow, url: 's3://shared/slow?endpoint=" + UrlEscape("http://" + proxy_->address()) + "&" +
        common + "'}\n" +
        "  - name: wrong\n"
        "    url: 's3://shared?endpoint=" + UrlEscape(s3rver_->endpoint()) + "&" + common + "'\n"
        "    credentials: {access_key_id: NOBODY, secret_access_key: nothing}\n";
    daemon.env = {{"AWS_ACCESS_KEY_ID", s3rver_->credentials().access_key_id},
                  {"AWS_SECRET_ACCESS_KEY", s3rver_->credentials().secret_access_key}};
    auto started = DaemonProcess::Start(daemon);
    ASSERT_TRUE(started.ok()) << started.status().message();
    daemon_ = std::move(*started);
    auto client = Client::Connect(daemon_->endpoint());
    ASSERT_TRUE(client.ok()) << client.status().message();
    client_ = std::move(*client);
    for (const char* binding : {"files", "slow"}) {
      v1::CreateBucketRequest create;
      create.set_bucket("docs");
      auto created = client_->storage().CreateBucket(create, On(binding));
      ASSERT_TRUE(created.ok()) << created.status().message();
    }
  }

  static CallOptions On(const std::string& binding, milliseconds timeout = milliseconds(20'000)) {
    CallOptions options;
    options.binding = binding;
    options.timeout = timeout;
    return options;
  }

  Result<v1::PutObjectResponse> Put(const std::string& key, const std::string& content,
                                    const std::string& binding = "files") {
    v1::PutObjectRequest put;
    put.set_bucket("docs");
    put.set_key(key);
    put.set_data(content);
    put.set_content_type("text/plain");
    (*put.mutable_metadata())["owner"] = "ada";
    TransferOptions options;
    options.call = On(binding);
    return client_->storage().PutObject(put, options);
  }

  Result<std::string> Get(const std::string& key, const std::string& binding = "files",
                          milliseconds timeout = milliseconds(20'000)) {
    v1::GetObjectRequest get;
    get.set_bucket("docs");
    get.set_key(key);
    TransferOptions options;
    options.call = On(binding, timeout);
    auto got = client_->storage().GetObject(get, options);
    if (!got.ok()) return got.status();
    return got->data();
  }

  // Runs an official SDK's cross-check script; its JSON answer.
  nlohmann::json Sdk(const std::vector<std::string>& args, bool python) {
    std::vector<std::string> argv;
    if (python) {
      argv = {"/usr/bin/python3", testing_util::EmulatorsPackageDir() + "/s3_cross_check.py"};
    } else {
      argv = {testing_util::NodeExecutable(), testing_util::EmulatorsPackageDir() + "/s3-cross-check.mjs"};
    }
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.env = {{"EMULATOR_ENDPOINT", s3rver_->endpoint()},
                   {"AWS_ACCESS_KEY_ID", s3rver_->credentials().access_key_id},
                   {"AWS_SECRET_ACCESS_KEY", s3rver_->credentials().secret_access_key}};
    ProcessResult result = RunProcess(argv, options);
    EXPECT_EQ(result.exit_code, 0) << (python ? "boto3: " : "aws-sdk: ") << result.err;
    if (result.exit_code != 0) return nlohmann::json::object();
    return nlohmann::json::parse(result.out);
  }

  std::string Sha256(const std::string& content) {
    std::string path = daemon_->dir() + "/sha-input";
    std::ofstream(path, std::ios::binary) << content;
    ProcessResult result = RunProcess({"/usr/bin/sha256sum", path});
    return result.out.substr(0, 64);
  }

  std::unique_ptr<Emulator> s3rver_;
  std::unique_ptr<testing_util::DelayProxy> proxy_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<Client> client_;
};

TEST_F(S3ProviderTest, WhatCloudKitWritesTheOfficialSdksRead) {
  ASSERT_TRUE(Put("a.txt", "hello from cloudkit").ok());
  const std::string big = Pattern(12 * 1024 * 1024 + 5, 9);  // a multipart upload
  ASSERT_TRUE(Put("big.bin", big).ok());
  for (bool python : {false, true}) {
    nlohmann::json small = Sdk({"get", kS3Bucket, "docs/a.txt"}, python);
    EXPECT_EQ(small.value("sha256", ""), Sha256("hello from cloudkit"));
    EXPECT_EQ(small.value("contentType", ""), "text/plain");
    EXPECT_EQ(small["metadata"].value("owner", ""), "ada");
    nlohmann::json large = Sdk({"get", kS3Bucket, "docs/big.bin"}, python);
    EXPECT_EQ(large.value("size", 0u), big.size());
    EXPECT_EQ(large.value("sha256", ""), Sha256(big));
  }
}

TEST_F(S3ProviderTest, WhatTheOfficialSdksWriteCloudKitReads) {
  const std::string path = daemon_->dir() + "/upload";
  std::ofstream(path, std::ios::binary) << "written by the SDK";
  Sdk({"put", kS3Bucket, "docs/from-node.txt", path, "text/markdown", "team=web"}, false);
  Sdk({"put", kS3Bucket, "docs/from-python.txt", path, "text/csv", "team=data"}, true);
  for (const auto& [key, type] : {std::pair{"from-node.txt", "text/markdown"}, std::pair{"from-python.txt", "text/csv"}}) {
    v1::HeadObjectRequest head;
    head.set_bucket("docs");
    head.set_key(key);
    auto headed = client_->storage().HeadObject(head, On("files"));
    ASSERT_TRUE(headed.ok()) << headed.status().message();
    EXPECT_EQ(headed->object().content_type(), type);
    EXPECT_EQ(headed->object().size(), 18u);
    auto got = Get(key);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(*got, "written by the SDK");
  }
  v1::ListObjectsRequest list;
  list.set_bucket("docs");
  auto listed = client_->storage().ListObjects(list, On("files"));
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  EXPECT_EQ(listed->objects_size(), 2);
}

TEST_F(S3ProviderTest, PresignedUrlsWorkWithAPlainHttpClient) {
  ASSERT_TRUE(Put("shared.txt", "presigned content").ok());
  v1::PresignObjectRequest presign;
  presign.set_bucket("docs");
  presign.set_key("shared.txt");
  auto url = client_->storage().PresignObject(presign, On("files"));
  ASSERT_TRUE(url.ok()) << url.status().message();
  auto fetched = testing_util::SendHttpRequest(url->url());
  ASSERT_TRUE(fetched.ok()) << fetched.status().message();
  EXPECT_EQ(fetched->status, 200);
  EXPECT_EQ(fetched->body, "presigned content");

  presign.set_key("uploaded.txt");
  presign.set_method("PUT");
  auto put_url = client_->storage().PresignObject(presign, On("files"));
  ASSERT_TRUE(put_url.ok()) << put_url.status().message();
  testing_util::HttpRequestOptions put;
  put.method = "PUT";
  put.body = "sent with the URL alone";
  auto uploaded = testing_util::SendHttpRequest(put_url->url(), put);
  ASSERT_TRUE(uploaded.ok()) << uploaded.status().message();
  EXPECT_EQ(uploaded->status, 200);
  auto got = Get("uploaded.txt");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, "sent with the URL alone");

  presign.set_method("DELETE");
  auto refused = client_->storage().PresignObject(presign, On("files"));
  EXPECT_EQ(refused.status().code(), v1::INVALID_ARGUMENT);
  presign.set_method("GET");
  auto on_local = client_->storage().PresignObject(presign, On("default"));
  EXPECT_EQ(on_local.status().code(), v1::UNIMPLEMENTED) << on_local.status().message();
}

TEST_F(S3ProviderTest, WrongCredentialsAreUnauthenticated) {
  v1::ListObjectsRequest list;
  list.set_bucket("docs");
  auto listed = client_->storage().ListObjects(list, On("wrong"));
  EXPECT_EQ(listed.status().code(), v1::UNAUTHENTICATED) << listed.status().message();
  EXPECT_NE(listed.status().message().find("credentials"), std::string::npos) << listed.status().message();
  EXPECT_EQ(daemon_->Log().find("nothing"), std::string::npos) << "a secret reached the log";
}

TEST_F(S3ProviderTest, AStoppedServiceIsUnavailableThenRecovers) {
  ASSERT_TRUE(Put("k", "v").ok());
  s3rver_->Stop();
  const auto started = std::chrono::steady_clock::now();
  auto down = Get("k", "files", milliseconds(3'000));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(down.status().code(), v1::UNAVAILABLE) << down.status().message();
  EXPECT_LT(took, milliseconds(3'000)) << "retries stay within the call's deadline";
  // Three failures in a row open the breaker: calls fail at once, saying so.
  for (int i = 0; i < 3; ++i) (void)Get("k", "files", milliseconds(3'000));
  auto paused = Get("k", "files", milliseconds(3'000));
  EXPECT_EQ(paused.status().code(), v1::UNAVAILABLE);
  EXPECT_NE(paused.status().message().find("paused"), std::string::npos) << paused.status().message();

  ASSERT_TRUE(s3rver_->Restart().ok());
  Result<std::string> back = Status::Unavailable("not tried");
  for (int i = 0; i < 50 && !back.ok(); ++i) {
    back = Get("k");
    if (!back.ok()) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, "v");
}

TEST_F(S3ProviderTest, ASlowBackendSlowsNeitherAnotherBindingNorOtherCalls) {
  ASSERT_TRUE(Put("k", "fast").ok());
  ASSERT_TRUE(Put("k", "slow", "slow").ok());
  const milliseconds latency(500);
  proxy_->set_latency(latency);
  // Eight calls on the slow binding at once: they wait together, not in turn.
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::future<Result<std::string>>> slow;
  for (int i = 0; i < 8; ++i) slow.push_back(std::async(std::launch::async, [&] { return Get("k", "slow"); }));
  // Meanwhile the other binding answers as fast as ever.
  milliseconds slowest_fast(0);
  for (int i = 0; i < 20; ++i) {
    const auto call = std::chrono::steady_clock::now();
    auto got = Get("k");
    ASSERT_TRUE(got.ok()) << got.status().message();
    slowest_fast = std::max(slowest_fast, std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - call));
  }
  for (auto& call : slow) {
    auto got = call.get();
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(*got, "slow");
  }
  const auto slow_took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(slowest_fast, latency) << "a call on the fast binding waited for the slow one";
  // One call through the proxy takes at least two latencies (request, answer);
  // eight in turn would take sixteen.
  EXPECT_LT(slow_took, 8 * latency) << "calls on the slow binding waited for each other";
}

}  // namespace
}  // namespace cloudkit::integration
