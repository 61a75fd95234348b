// The native HTTP port (runtime/ports/curl_http_client) against a real HTTP
// server process on a loopback port (http_test_server.mjs): statuses and
// headers, in-memory and streamed request bodies, a large response read with
// bounded memory, abandoned bodies, timeouts, refused connections, a body cut
// off mid-way, shutdown with requests in flight, connection reuse, and 256
// requests in flight at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/async.h"
#include "core/task.h"
#include "integration/http_test_server.h"
#include "ports/curl_http_client.h"
#include "ports/openssl_hash.h"
#include "support/run_task.h"
#include "support/sanitized.h"

namespace cloudkit::integration {
namespace {

using ports::HttpBodyReader;
using ports::HttpBodySource;
using ports::HttpClient;
using ports::HttpRequest;
using ports::HttpResponse;
using testing_util::RunTask;
using testing_util::RunTasks;
using testing_util::RunUntil;
using testing_util::ThisThreadExecutor;

constexpr size_t kMiB = size_t{1} << 20;

// ---- helpers ---------------------------------------------------------------

Task<Result<HttpResponse>> SendTask(HttpClient& http, HttpRequest request) {
  co_return co_await http.Send(std::move(request));
}
Result<HttpResponse> Send(HttpClient& http, HttpRequest request) {
  return RunTask(SendTask(http, std::move(request)));
}

Task<Result<std::string>> ReadTask(HttpBodyReader& body, size_t max_bytes) {
  co_return co_await body.Read(max_bytes);
}
Result<std::string> Read(HttpBodyReader& body, size_t max_bytes) { return RunTask(ReadTask(body, max_bytes)); }

Task<Result<std::string>> ReadAllTask(HttpBodyReader& body, size_t chunk) {
  std::string all;
  while (true) {
    Result<std::string> next = co_await body.Read(chunk);
    if (!next.ok()) co_return next.status();
    if (next->empty()) co_return all;
    all += *next;
  }
}
Result<std::string> ReadAll(HttpBodyReader& body, size_t chunk = 64 * 1024) {
  return RunTask(ReadAllTask(body, chunk));
}

template <typename T>
Task<void> StoreTask(Task<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}

HttpRequest Request(std::string method, std::string url) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  return request;
}

std::string Header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "(none)";
}

std::string Md5Hex(const std::string& data) {
  OpenSslHashPort hash;
  auto hasher = hash.NewMd5();
  hasher->Update(data);
  return hasher->FinishHex();
}

// A deterministic, incompressible-looking body of `size` bytes.
std::string MakeBody(size_t size) {
  std::string body(size, '\0');
  uint32_t x = 2654435761u;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    body[i] = static_cast<char>(x);
  }
  return body;
}

// The server's /bytes pattern.
bool MatchesPattern(const std::string& piece, uint64_t offset) {
  for (size_t i = 0; i < piece.size(); ++i) {
    if (static_cast<unsigned char>(piece[i]) != ((offset + i) * 31) % 251) return false;
  }
  return true;
}

// This process's resident set (VmRSS), in bytes.
uint64_t ResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// What a body source was asked for, kept apart from it: the client releases
// the source on a later turn, possibly after the test has ended.
struct SourceLog {
  int calls = 0;
  size_t largest_request = 0;
};

// Serves `data` in pieces; every other piece completes on a later turn, the
// way a source reading a port would. Fails with `fail_with` at call
// `fail_at` when set.
class SliceSource : public HttpBodySource {
 public:
  SliceSource(std::shared_ptr<const std::string> data, std::shared_ptr<SourceLog> log, int fail_at = -1)
      : data_(std::move(data)), log_(std::move(log)), fail_at_(fail_at) {}

  Async<Result<std::string>> Next(size_t max_bytes) override {
    ++log_->calls;
    log_->largest_request = std::max(log_->largest_request, max_bytes);
    if (log_->calls == fail_at_) return Async<Result<std::string>>::Ready(Status::Internal("source disk gone"));
    std::string piece = data_->substr(position_, std::min(max_bytes, data_->size() - position_));
    position_ += piece.size();
    if (log_->calls % 2) return Async<Result<std::string>>::Ready(std::move(piece));
    Completion<Result<std::string>> later;
    CurrentExecutor()->Post([later, piece]() { later.Complete(piece); });
    return later.async();
  }

 private:
  std::shared_ptr<const std::string> data_;
  std::shared_ptr<SourceLog> log_;
  int fail_at_;
  size_t position_ = 0;
};

// ---- the fixture: one server for the suite -----------------------------------

class HttpClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = HttpTestServer::Start();
    if (!started.ok()) {
      start_error_ = new std::string(started.status().message());
      return;
    }
    server_ = started->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << (start_error_ ? *start_error_ : "no server");
  }

  static std::string Url(const std::string& path) { return server_->Url(path); }

  static HttpTestServer* server_;
  static std::string* start_error_;
};
HttpTestServer* HttpClientTest::server_ = nullptr;
std::string* HttpClientTest::start_error_ = nullptr;

// ---- cases -------------------------------------------------------------------------

TEST_F(HttpClientTest, GetsStatusHeadersAndBody) {
  CurlHttpClient http;
  auto response = Send(http, Request("GET", Url("/hello")));
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(Header(*response, "content-type"), "text/plain");
  EXPECT_EQ(Header(*response, "x-mixed-case"), "Value");  // names in lower case, values as sent
  int twice = 0;
  for (const auto& [name, value] : response->headers) twice += name == "x-twice";
  EXPECT_EQ(twice, 2);
  auto body = ReadAll(*response->body);
  ASSERT_TRUE(body.ok()) << body.status().message();
  EXPECT_EQ(*body, "hello, world\n");
  auto after_end = Read(*response->body, 100);  // the end stays the end
  ASSERT_TRUE(after_end.ok());
  EXPECT_EQ(*after_end, "");
}

TEST_F(HttpClientTest, ErrorStatusesAndHeadAreResponses) {
  CurlHttpClient http;
  auto missing = Send(http, Request("GET", Url("/status?code=404")));
  ASSERT_TRUE(missing.ok()) << missing.status().message();
  EXPECT_EQ(missing->status, 404);
  auto body = ReadAll(*missing->body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "");

  auto head = Send(http, Request("HEAD", Url("/hello")));
  ASSERT_TRUE(head.ok()) << head.status().message();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(Header(*head, "content-type"), "text/plain");
  auto head_body = ReadAll(*head->body);
  ASSERT_TRUE(head_body.ok());
  EXPECT_EQ(*head_body, "");
}

TEST_F(HttpClientTest, SendsAnInMemoryBodyWithMethodAndHeaders) {
  CurlHttpClient http;
  for (const char* method : {"POST", "PUT"}) {
    HttpRequest request = Request(method, Url("/echo"));
    request.headers = {{"x-cloudkit-test", "yes"}, {"content-type", "application/octet-stream"}};
    request.body = std::string("binary\0body", 11) + MakeBody(100'000);
    std::string sent = request.body;
    auto response = Send(http, std::move(request));
    ASSERT_TRUE(response.ok()) << response.status().message();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(Header(*response, "x-echo-method"), method);
    EXPECT_EQ(Header(*response, "x-echo-header"), "yes");
    EXPECT_EQ(Header(*response, "x-echo-content-length"), std::to_string(sent.size()));
    auto body = ReadAll(*response->body, 4096);
    ASSERT_TRUE(body.ok()) << body.status().message();
    EXPECT_TRUE(*body == sent) << method << ": echoed " << body->size() << " bytes of " << sent.size();
  }
}

TEST_F(HttpClientTest, StreamsAnUploadWithContentLength) {
  CurlHttpClient http;
  auto data = std::make_shared<const std::string>(MakeBody(8 * kMiB));
  auto log = std::make_shared<SourceLog>();
  HttpRequest request = Request("PUT", Url("/digest"));
  request.body_source = std::make_unique<SliceSource>(data, log);
  request.content_length = static_cast<int64_t>(data->size());
  auto response = Send(http, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(Header(*response, "x-echo-content-length"), std::to_string(data->size()));
  EXPECT_EQ(Header(*response, "x-echo-transfer-encoding"), "");
  auto body = ReadAll(*response->body);
  ASSERT_TRUE(body.ok()) << body.status().message();
  EXPECT_EQ(*body, std::to_string(data->size()) + " " + Md5Hex(*data));
  EXPECT_GE(log->calls, 8);  // pieces, not the whole body at once
  EXPECT_LE(log->largest_request, 1 * kMiB);
}

TEST_F(HttpClientTest, StreamsAnUploadOfUnknownLengthChunked) {
  CurlHttpClient http;
  auto data = std::make_shared<const std::string>(MakeBody(kMiB + 7));
  auto log = std::make_shared<SourceLog>();
  HttpRequest request = Request("POST", Url("/digest"));
  request.body_source = std::make_unique<SliceSource>(data, log);
  auto response = Send(http, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(Header(*response, "x-echo-transfer-encoding"), "chunked");
  auto body = ReadAll(*response->body);
  ASSERT_TRUE(body.ok()) << body.status().message();
  EXPECT_EQ(*body, std::to_string(data->size()) + " " + Md5Hex(*data));
}

TEST_F(HttpClientTest, FailingBodySourceFailsTheRequest) {
  CurlHttpClient http;
  auto data = std::make_shared<const std::string>(MakeBody(4 * kMiB));
  HttpRequest request = Request("PUT", Url("/digest"));
  request.body_source = std::make_unique<SliceSource>(data, std::make_shared<SourceLog>(), /*fail_at=*/3);
  request.content_length = static_cast<int64_t>(data->size());
  auto response = Send(http, std::move(request));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), v1::INTERNAL) << response.status().message();
  EXPECT_NE(response.status().message().find("PUT " + Url("/digest") + ": request body"), std::string::npos)
      << response.status().message();
  EXPECT_NE(response.status().message().find("source disk gone"), std::string::npos) << response.status().message();
}

TEST_F(HttpClientTest, LargeResponseIsReadWithBoundedMemory) {
  constexpr uint64_t kSize = 64 * kMiB;
  constexpr size_t kChunk = 256 * 1024;
  CurlHttpClient http;
  // Start the peak (VmHWM) afresh, where the kernel allows it.
  std::ofstream("/proc/self/clear_refs") << "5";
  uint64_t baseline = ResidentBytes();
  uint64_t peak = baseline;
  auto response = Send(http, Request("GET", Url("/bytes?n=" + std::to_string(kSize))));
  ASSERT_TRUE(response.ok()) << response.status().message();
  ASSERT_EQ(response->status, 200);
  uint64_t offset = 0;
  size_t largest = 0;
  int reads = 0;
  while (true) {
    auto piece = Read(*response->body, kChunk);
    ASSERT_TRUE(piece.ok()) << piece.status().message();
    if (piece->empty()) break;
    ASSERT_TRUE(MatchesPattern(*piece, offset)) << "bytes at " << offset;
    offset += piece->size();
    largest = std::max(largest, piece->size());
    if (++reads % 16 == 0) peak = std::max(peak, ResidentBytes());
  }
  peak = std::max(peak, ResidentBytes());
  EXPECT_EQ(offset, kSize);
  EXPECT_LE(largest, kChunk);
  uint64_t growth = peak > baseline ? peak - baseline : 0;
  std::printf("64 MiB body in %d reads; RSS grew by %.1f MiB at most\n", reads,
              static_cast<double>(growth) / kMiB);
  if (testing_util::kRssBoundsHold) EXPECT_LT(growth, 16 * kMiB) << "the body is buffered instead of streamed";
}

TEST_F(HttpClientTest, AbandonedBodiesAbortTheirTransfers) {
  CurlHttpClient http;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; ++i) {
    auto response = Send(http, Request("GET", Url("/bytes?n=" + std::to_string(256 * kMiB))));
    ASSERT_TRUE(response.ok()) << response.status().message();
    auto first = Read(*response->body, 1000);
    ASSERT_TRUE(first.ok()) << first.status().message();
    EXPECT_EQ(first->size(), 1000u);
  }  // each body dropped unread: its transfer is aborted, not run to the end
  auto hello = Send(http, Request("GET", Url("/hello")));
  ASSERT_TRUE(hello.ok()) << hello.status().message();
  EXPECT_EQ(hello->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST_F(HttpClientTest, TimeoutIsDeadlineExceeded) {
  CurlHttpClient http;
  HttpRequest request = Request("GET", Url("/slow?ms=3000"));
  request.timeout_ms = 200;
  auto started = std::chrono::steady_clock::now();
  auto response = Send(http, std::move(request));
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), v1::DEADLINE_EXCEEDED) << response.status().message();
  EXPECT_NE(response.status().message().find("GET " + Url("/slow")), std::string::npos)
      << response.status().message();
  EXPECT_EQ(response.status().message().find("ms=3000"), std::string::npos) << "query string in the message";
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));

  CurlHttpClient quick({.default_timeout_ms = 200});
  auto by_default = Send(quick, Request("GET", Url("/slow?ms=3000")));
  EXPECT_EQ(by_default.status().code(), v1::DEADLINE_EXCEEDED) << by_default.status().message();
}

TEST_F(HttpClientTest, RefusedConnectionIsUnavailable) {
  CurlHttpClient http;
  std::string host = "127.0.0.1:" + std::to_string(testing_util::FreeLoopbackPort());
  auto response = Send(http, Request("GET", "http://user:hunter2@" + host + "/bucket/key?token=secret"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), v1::UNAVAILABLE) << response.status().message();
  EXPECT_TRUE(response.status().retryable());
  const std::string& message = response.status().message();
  EXPECT_NE(message.find("GET http://" + host + "/bucket/key"), std::string::npos) << message;
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;

  auto unresolvable = Send(http, Request("GET", "http://no-such-host.invalid/x"));
  EXPECT_EQ(unresolvable.status().code(), v1::UNAVAILABLE) << unresolvable.status().message();
}

TEST_F(HttpClientTest, BodyCutOffMidwayIsAnErrorOnRead) {
  CurlHttpClient http;
  auto response = Send(http, Request("GET", Url("/truncated?n=2000000")));
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(response->status, 200);
  auto body = ReadAll(*response->body);
  ASSERT_FALSE(body.ok()) << "read " << body->size() << " bytes of a body cut off at half";
  EXPECT_EQ(body.status().code(), v1::UNAVAILABLE) << body.status().message();
}

TEST_F(HttpClientTest, DestroyingTheClientFailsWhatIsOutstanding) {
  auto http = std::make_unique<CurlHttpClient>();
  // A body being read when the client goes.
  auto streaming = Send(*http, Request("GET", Url("/bytes?n=" + std::to_string(256 * kMiB))));
  ASSERT_TRUE(streaming.ok()) << streaming.status().message();
  ASSERT_TRUE(Read(*streaming->body, 1000).ok());
  // A request waiting for its answer when the client goes.
  std::optional<Result<HttpResponse>> waiting;
  {
    ExecutorScope scope(ThisThreadExecutor());
    Detach(StoreTask(SendTask(*http, Request("GET", Url("/slow?ms=5000"))), &waiting));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  http.reset();
  RunUntil([&] { return waiting.has_value(); });
  EXPECT_EQ(waiting->status().code(), v1::UNAVAILABLE) << waiting->status().message();
  auto rest = ReadAll(*streaming->body);  // what was buffered, then the failure
  EXPECT_EQ(rest.status().code(), v1::UNAVAILABLE) << rest.status().message();
}

TEST_F(HttpClientTest, ReusesConnections) {
  CurlHttpClient http;
  std::string port;
  for (int i = 0; i < 5; ++i) {
    auto response = Send(http, Request("GET", Url("/hello")));
    ASSERT_TRUE(response.ok()) << response.status().message();
    ASSERT_TRUE(ReadAll(*response->body).ok());
    if (i == 0) port = Header(*response, "x-client-port");
    EXPECT_EQ(Header(*response, "x-client-port"), port) << "request " << i << " opened a new connection";
  }
}

TEST_F(HttpClientTest, FansOut256RequestsFromOneActor) {
  constexpr int kRequests = 256;
  CurlHttpClient http;
  int ok = 0;
  std::vector<std::string> failures;
  auto one = [](HttpClient& client, std::string url, int* ok, std::vector<std::string>* failures) -> Task<void> {
    Result<HttpResponse> response = co_await client.Send(Request("GET", url));
    if (!response.ok()) {
      failures->push_back(response.status().message());
      co_return;
    }
    Result<std::string> body = co_await ReadAllTask(*response->body, 4096);
    if (response->status == 200 && body.ok() && *body == "slow") ++*ok;
    else failures->push_back("status " + std::to_string(response->status));
  };
  std::vector<Task<void>> tasks;
  for (int i = 0; i < kRequests; ++i) tasks.push_back(one(http, Url("/slow?ms=100"), &ok, &failures));
  auto started = std::chrono::steady_clock::now();
  RunTasks(std::move(tasks));
  double elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::printf("%d concurrent requests to a 100 ms endpoint: %.1f ms\n", kRequests, elapsed_ms);
  EXPECT_EQ(ok, kRequests) << (failures.empty() ? "" : failures.front());
  EXPECT_LT(elapsed_ms, 5000);  // a sanity bound; the target lives in cloudkit-bench (http_fanout)
}

TEST_F(HttpClientTest, MisuseIsReportedNotCrashed) {
  CurlHttpClient http;
  HttpRequest both = Request("POST", Url("/echo"));
  both.body = "x";
  both.body_source = std::make_unique<SliceSource>(std::make_shared<const std::string>("y"),
                                                   std::make_shared<SourceLog>());
  auto rejected = Send(http, std::move(both));
  EXPECT_EQ(rejected.status().code(), v1::INVALID_ARGUMENT) << rejected.status().message();

  auto bad_url = Send(http, Request("GET", "ftp://127.0.0.1/x"));
  EXPECT_EQ(bad_url.status().code(), v1::INVALID_ARGUMENT) << bad_url.status().message();

  // Outside an actor's turn there is nowhere to answer.
  auto outside = http.Send(Request("GET", Url("/hello")));
  EXPECT_TRUE(outside.await_ready());
  EXPECT_EQ(outside.await_resume().status().code(), v1::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace cloudkit::integration
