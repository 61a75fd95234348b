// The emulator harness (support/emulator.h) against each real emulator: it
// starts on free ports, answers a real request, stops leaving no process,
// restarts on the same ports with its data, goes away with the test, and
// says why when it cannot start. The official SDKs are checked against each
// Node emulator by tests/emulators/sdk-check.mjs.
#include "support/emulator.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <ctime>
#include <filesystem>

#include "support/child_process.h"
#include "support/http_request.h"
#include "support/loopback_connection.h"

namespace cloudkit::testing_util {
namespace {

::testing::AssertionResult Succeeded(const Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.message();
}

bool ProcessExists(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }
bool ProcessGroupExists(pid_t group) { return ::kill(-group, 0) == 0 || errno == EPERM; }

std::unique_ptr<Emulator> StartEmulator(EmulatorKind kind, EmulatorOptions options = {}) {
  Result<std::unique_ptr<Emulator>> emulator = Emulator::Start(kind, std::move(options));
  EXPECT_TRUE(emulator.ok()) << emulator.status().message();
  return emulator.ok() ? std::move(*emulator) : nullptr;
}

HttpResponse Send(const std::string& url, HttpRequestOptions options = {}) {
  Result<HttpResponse> response = SendHttpRequest(url, options);
  EXPECT_TRUE(response.ok()) << response.status().message();
  return response.ok() ? *response : HttpResponse{};
}

HttpRequestOptions Method(const std::string& method, std::string body = "", std::vector<std::string> headers = {}) {
  HttpRequestOptions options;
  options.method = method;
  options.body = std::move(body);
  options.headers = std::move(headers);
  return options;
}

bool Refused(const std::string& url) {
  HttpRequestOptions options;
  options.timeout = std::chrono::milliseconds(2'000);
  return !SendHttpRequest(url, options).ok();
}

// Stopped or killed: the emulator and its whole process group are gone.
void ExpectGone(pid_t pid) {
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(ProcessExists(pid)) << "pid " << pid << " still exists";
  EXPECT_FALSE(ProcessGroupExists(pid)) << "process group " << pid << " still exists";
}

// An x-amz-date for now (s3rver refuses requests more than 15 minutes off).
std::string AmzDateNow() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

// A well-formed SigV4 Authorization header with a made-up signature.
std::vector<std::string> MadeUpSigV4Headers(const std::string& access_key_id, const std::string& service) {
  std::string date = AmzDateNow();
  return {"X-Amz-Date: " + date, "X-Amz-Content-Sha256: UNSIGNED-PAYLOAD",
          "Authorization: AWS4-HMAC-SHA256 Credential=" + access_key_id + "/" + date.substr(0, 8) + "/us-east-1/" +
              service + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + std::string(64, '0')};
}

std::vector<std::string> DynamoHeaders(const std::string& operation, bool with_authorization = true) {
  std::vector<std::string> headers = {"Content-Type: application/x-amz-json-1.0",
                                      "X-Amz-Target: DynamoDB_20120810." + operation};
  if (with_authorization) {
    for (auto& header : MadeUpSigV4Headers("anyone", "dynamodb")) headers.push_back(header);
  }
  return headers;
}

// The first line of Redis's reply, or the error.
std::string RedisReply(int port, const std::string& command) {
  Result<std::string> reply = RedisCommand(port, command);
  return reply.ok() ? *reply : "error: " + reply.status().message();
}

// Runs tests/emulators/sdk-check.mjs against `emulator`.
void ExpectSdkChecksPass(Emulator& emulator, const std::string& kind) {
  ChildProcessOptions options;
  options.argv = {NodeExecutable(), EmulatorsPackageDir() + "/sdk-check.mjs", kind};
  options.env = {{"EMULATOR_ENDPOINT", emulator.endpoint()},
                 {"AZURE_STORAGE_CONNECTION_STRING", emulator.connection_string()}};
  options.unset_env = {"NODE_OPTIONS", "NODE_PATH", "HTTP_PROXY", "http_proxy"};
  options.stdout_path = emulator.data_dir() + "/sdk-check.log";
  options.stderr_path = options.stdout_path;
  Result<std::unique_ptr<ChildProcess>> check = ChildProcess::Start(options);
  ASSERT_TRUE(check.ok()) << check.status().message();
  ASSERT_TRUE((*check)->WaitForExit(std::chrono::seconds(120))) << ReadWholeFile(options.stdout_path);
  EXPECT_EQ((*check)->exit_code(), 0) << ReadWholeFile(options.stdout_path) << "\n--- " << emulator.name() << " ---\n"
                                      << emulator.Log();
}

TEST(EmulatorTest, S3rverAnswersStopsAndRestartsOnTheSamePortWithItsData) {
  auto s3 = StartEmulator(EmulatorKind::kS3rver);
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->endpoint(), "http://127.0.0.1:" + std::to_string(s3->port()));
  EXPECT_EQ(s3->credentials().access_key_id, "S3RVER");
  EXPECT_EQ(s3->credentials().secret_access_key, "S3RVER");

  HttpResponse buckets = Send(s3->endpoint() + "/");  // ListBuckets, anonymous
  EXPECT_EQ(buckets.status, 200);
  EXPECT_NE(buckets.body.find("ListAllMyBucketsResult"), std::string::npos) << buckets.body;
  EXPECT_EQ(Send(s3->endpoint() + "/kept", Method("PUT")).status, 200);
  EXPECT_EQ(Send(s3->endpoint() + "/kept/a.txt", Method("PUT", "hello")).status, 200);

  const int port = s3->port();
  const pid_t pid = s3->pid();
  s3->Stop();
  ExpectGone(pid);
  EXPECT_EQ(s3->pid(), -1);
  EXPECT_FALSE(s3->running());
  EXPECT_TRUE(Refused(s3->endpoint() + "/"));

  ASSERT_TRUE(Succeeded(s3->Restart()));
  EXPECT_EQ(s3->port(), port);
  EXPECT_NE(s3->pid(), pid);
  HttpResponse object = Send(s3->endpoint() + "/kept/a.txt");
  EXPECT_EQ(object.status, 200);
  EXPECT_EQ(object.body, "hello");
}

TEST(EmulatorTest, S3rverKilledMidRunRestartsWithItsData) {
  auto s3 = StartEmulator(EmulatorKind::kS3rver);
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(Send(s3->endpoint() + "/kept", Method("PUT")).status, 200);
  EXPECT_EQ(Send(s3->endpoint() + "/kept/a.txt", Method("PUT", "hello")).status, 200);
  const pid_t pid = s3->pid();
  s3->Kill();
  ExpectGone(pid);
  ASSERT_TRUE(Succeeded(s3->Restart()));
  EXPECT_EQ(Send(s3->endpoint() + "/kept/a.txt").body, "hello");
}

TEST(EmulatorTest, S3rverPagesListObjectsV2) {
  auto s3 = StartEmulator(EmulatorKind::kS3rver);
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(Send(s3->endpoint() + "/listed", Method("PUT")).status, 200);
  for (const char* key : {"k1", "k2", "k3"}) {
    EXPECT_EQ(Send(s3->endpoint() + "/listed/" + key, Method("PUT", "x")).status, 200);
  }
  HttpResponse page = Send(s3->endpoint() + "/listed?list-type=2&max-keys=2");
  EXPECT_EQ(page.status, 200) << page.body;  // 500 when Node lacks OpenSSL's legacy provider
  EXPECT_NE(page.body.find("<NextContinuationToken>"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("<IsTruncated>true</IsTruncated>"), std::string::npos) << page.body;
}

TEST(EmulatorTest, S3rverChecksTheAccessKeyIdButNotTheSignature) {
  auto s3 = StartEmulator(EmulatorKind::kS3rver);
  ASSERT_NE(s3, nullptr);
  HttpResponse unknown = Send(s3->endpoint() + "/", Method("GET", "", MadeUpSigV4Headers("NOBODY", "s3")));
  EXPECT_EQ(unknown.status, 403);
  EXPECT_NE(unknown.body.find("InvalidAccessKeyId"), std::string::npos) << unknown.body;
  HttpResponse made_up = Send(s3->endpoint() + "/", Method("GET", "", MadeUpSigV4Headers("S3RVER", "s3")));
  EXPECT_EQ(made_up.status, 200) << made_up.body;
}

TEST(EmulatorTest, S3rverBucketsConfiguredAtStartAllowEveryOrigin) {
  EmulatorOptions options;
  options.cors_allow_all = true;
  options.buckets = {"web-files"};
  auto s3 = StartEmulator(EmulatorKind::kS3rver, options);
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(Send(s3->endpoint() + "/web-files").status, 200);  // created at start
  HttpResponse preflight = Send(s3->endpoint() + "/web-files/a.txt",
                                Method("OPTIONS", "",
                                       {"Origin: http://app.example", "Access-Control-Request-Method: PUT",
                                        "Access-Control-Request-Headers: content-type, x-amz-date"}));
  EXPECT_EQ(preflight.status, 200) << preflight.body;
  EXPECT_EQ(preflight.Header("access-control-allow-origin"), "*");
  HttpResponse list = Send(s3->endpoint() + "/web-files", Method("GET", "", {"Origin: http://app.example"}));
  EXPECT_EQ(list.Header("access-control-allow-origin"), "*");
  // What the `s3` provider reads from answers, a page sees only when exposed.
  const std::string exposed = list.Header("access-control-expose-headers");
  for (const char* header : {"ETag", "Content-Range", "Last-Modified", "Date", "x-amz-meta-owner"}) {
    EXPECT_NE(exposed.find(header), std::string::npos) << header << " not in " << exposed;
  }
}

TEST(EmulatorTest, AzuriteAnswersOnItsThreePortsAndRefusesUnsignedRequests) {
  auto azurite = StartEmulator(EmulatorKind::kAzurite);
  ASSERT_NE(azurite, nullptr);
  EXPECT_EQ(azurite->port(), azurite->blob_port());
  EXPECT_EQ(azurite->blob_endpoint(), "http://127.0.0.1:" + std::to_string(azurite->blob_port()) + "/devstoreaccount1");
  EXPECT_EQ(azurite->credentials().account_name, "devstoreaccount1");
  EXPECT_NE(azurite->connection_string().find("TableEndpoint=" + azurite->table_endpoint()), std::string::npos);

  HttpResponse containers = Send(azurite->blob_endpoint() + "?comp=list");
  EXPECT_EQ(containers.status, 403);
  EXPECT_EQ(containers.Header("x-ms-error-code"), "AuthorizationFailure");
  EXPECT_EQ(Send(azurite->queue_endpoint() + "?comp=list").status, 403);
  EXPECT_EQ(Send(azurite->table_endpoint() + "/Tables").status, 403);

  const std::vector<int> ports = {azurite->blob_port(), azurite->queue_port(), azurite->table_port()};
  const pid_t pid = azurite->pid();
  azurite->Stop();
  ExpectGone(pid);
  EXPECT_TRUE(Refused(azurite->blob_endpoint()));
  ASSERT_TRUE(Succeeded(azurite->Restart()));
  EXPECT_EQ((std::vector<int>{azurite->blob_port(), azurite->queue_port(), azurite->table_port()}), ports);
  EXPECT_EQ(Send(azurite->table_endpoint() + "/Tables").status, 403);
}

TEST(EmulatorTest, AzuriteCorsAllowAllAnswersPreflightsOnBlobAndTable) {
  EmulatorOptions options;
  options.cors_allow_all = true;
  auto azurite = StartEmulator(EmulatorKind::kAzurite, options);
  ASSERT_NE(azurite, nullptr);
  std::vector<std::string> preflight = {"Origin: http://app.example", "Access-Control-Request-Method: PUT",
                                        "Access-Control-Request-Headers: authorization, x-ms-date, x-ms-version"};
  HttpResponse blob = Send(azurite->blob_endpoint() + "/files/a.txt", Method("OPTIONS", "", preflight));
  EXPECT_EQ(blob.status, 200) << blob.body;
  EXPECT_EQ(blob.Header("access-control-allow-origin"), "http://app.example");
  HttpResponse table = Send(azurite->table_endpoint() + "/Tables", Method("OPTIONS", "", preflight));
  EXPECT_EQ(table.status, 200) << table.body;
  EXPECT_EQ(table.Header("access-control-allow-origin"), "http://app.example");
}

TEST(EmulatorTest, DynaliteAnswersListTablesAndWantsAnAuthorizationHeaderOfAnyKey) {
  auto dynamo = StartEmulator(EmulatorKind::kDynalite);
  ASSERT_NE(dynamo, nullptr);
  HttpResponse tables = Send(dynamo->endpoint() + "/", Method("POST", "{}", DynamoHeaders("ListTables")));
  EXPECT_EQ(tables.status, 200) << tables.body;
  EXPECT_EQ(tables.body, R"({"TableNames":[]})");
  HttpResponse anonymous =
      Send(dynamo->endpoint() + "/", Method("POST", "{}", DynamoHeaders("ListTables", /*with_authorization=*/false)));
  EXPECT_EQ(anonymous.status, 400);
  EXPECT_NE(anonymous.body.find("MissingAuthenticationTokenException"), std::string::npos) << anonymous.body;

  const std::string create =
      R"({"TableName":"kept","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],)"
      R"("KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"})";
  EXPECT_EQ(Send(dynamo->endpoint() + "/", Method("POST", create, DynamoHeaders("CreateTable"))).status, 200);
  const pid_t pid = dynamo->pid();
  dynamo->Stop();
  ExpectGone(pid);
  ASSERT_TRUE(Succeeded(dynamo->Restart()));
  EXPECT_EQ(Send(dynamo->endpoint() + "/", Method("POST", "{}", DynamoHeaders("ListTables"))).body,
            R"({"TableNames":["kept"]})");
}

TEST(EmulatorTest, RedisAnswersPingAndRestartsEmpty) {
  auto redis = StartEmulator(EmulatorKind::kRedis);
  ASSERT_NE(redis, nullptr);
  EXPECT_EQ(redis->endpoint(), "redis://127.0.0.1:" + std::to_string(redis->port()));
  EXPECT_EQ(RedisReply(redis->port(), "PING"), "+PONG");
  EXPECT_EQ(RedisReply(redis->port(), "SET greeting hello"), "+OK");

  const int port = redis->port();
  const pid_t pid = redis->pid();
  redis->Stop();
  ExpectGone(pid);
  EXPECT_FALSE(RedisCommand(port, "PING").ok());
  ASSERT_TRUE(Succeeded(redis->Restart()));
  EXPECT_EQ(redis->port(), port);
  EXPECT_EQ(RedisReply(port, "GET greeting"), "$-1");  // no persistence
}

TEST(EmulatorTest, DestroyingAnEmulatorLeavesNoProcessNorData) {
  for (EmulatorKind kind : {EmulatorKind::kS3rver, EmulatorKind::kRedis}) {
    auto emulator = StartEmulator(kind);
    ASSERT_NE(emulator, nullptr);
    const pid_t pid = emulator->pid();
    const std::string dir = emulator->data_dir();
    EXPECT_TRUE(ProcessExists(pid));
    emulator.reset();
    ExpectGone(pid);
    EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
  }
}

TEST(EmulatorTest, AnEmulatorThatCannotStartSaysWhyWithItsOutput) {
  EmulatorOptions options;
  options.extra_args = {"--no-such-option", "1"};
  Result<std::unique_ptr<Emulator>> redis = Emulator::Start(EmulatorKind::kRedis, options);
  ASSERT_FALSE(redis.ok());
  const std::string& message = redis.status().message();
  EXPECT_NE(message.find("redis-server exited during start-up"), std::string::npos) << message;
  EXPECT_NE(message.find("no-such-option"), std::string::npos) << message;  // from its output
}

TEST(EmulatorSdkTest, S3ClientWorksAgainstS3rver) {
  auto s3 = StartEmulator(EmulatorKind::kS3rver);
  ASSERT_NE(s3, nullptr);
  ExpectSdkChecksPass(*s3, "s3rver");
}

TEST(EmulatorSdkTest, DynamoDbClientWorksAgainstDynalite) {
  auto dynamo = StartEmulator(EmulatorKind::kDynalite);
  ASSERT_NE(dynamo, nullptr);
  ExpectSdkChecksPass(*dynamo, "dynalite");
}

TEST(EmulatorSdkTest, BlobAndTableClientsWorkAgainstAzurite) {
  auto azurite = StartEmulator(EmulatorKind::kAzurite);
  ASSERT_NE(azurite, nullptr);
  ExpectSdkChecksPass(*azurite, "azurite");
}

}  // namespace
}  // namespace cloudkit::testing_util
