// The browser HTTP port (wasm/fetch_http) against the tests' loopback server
// (tests/static_server.mjs): statuses and headers, request bodies, a response
// body read in bounded chunks, a streamed request body, and network failures
// and timeouts as statuses. Calls go through RunTask, as an operation would;
// here every port answers at once, so nothing ever waits in it.
#include <emscripten.h>
#include <emscripten/em_js.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <cstdio>
#include <string>
#include <vector>

#include "fetch_http.h"
#include "support/run_task.h"

EM_JS(char*, ck_test_origin, (), {
  const origin = self.location.origin;
  const size = lengthBytesUTF8(origin) + 1;
  const ptr = _malloc(size);
  stringToUTF8(origin, ptr, size);
  return ptr;
});

namespace cloudkit::web {
namespace {

std::string Origin() {
  char* raw = ck_test_origin();
  std::string origin(raw);
  free(raw);
  return origin;
}

using testing_util::RunTask;

Task<Result<ports::HttpResponse>> SendTask(FetchHttpClient& http, ports::HttpRequest request) {
  co_return co_await http.Send(std::move(request));
}
Result<ports::HttpResponse> Send(FetchHttpClient& http, ports::HttpRequest request) {
  return RunTask(SendTask(http, std::move(request)));
}

Task<Result<std::string>> ReadTask(ports::HttpBodyReader& body, size_t max_bytes) {
  co_return co_await body.Read(max_bytes);
}
Result<std::string> Read(ports::HttpBodyReader& body, size_t max_bytes) {
  return RunTask(ReadTask(body, max_bytes));
}

// A request body given in pieces of at most `piece` bytes.
class PieceSource : public ports::HttpBodySource {
 public:
  PieceSource(std::string data, size_t piece) : data_(std::move(data)), piece_(piece) {}
  Async<Result<std::string>> Next(size_t max_bytes) override {
    std::string next = data_.substr(at_, std::min({max_bytes, piece_, data_.size() - at_}));
    at_ += next.size();
    return Async<Result<std::string>>::Ready(std::move(next));
  }

 private:
  std::string data_;
  size_t piece_;
  size_t at_ = 0;
};

std::string Header(const ports::HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

std::string ReadAll(ports::HttpResponse& response, size_t chunk, size_t* largest = nullptr) {
  std::string body;
  while (true) {
    auto next = Read(*response.body, chunk);
    EXPECT_TRUE(next.ok()) << next.status().message();
    if (!next.ok() || next->empty()) return body;
    if (largest) *largest = std::max(*largest, next->size());
    body += *next;
  }
}

TEST(FetchHttpClientTest, GetsAStaticFileWithStatusAndHeaders) {
  FetchHttpClient http;
  ports::HttpRequest request;
  request.url = Origin() + "/web/package.json";
  auto response = Send(http, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(Header(*response, "content-type"), "application/json");
  EXPECT_NE(ReadAll(*response, 1 << 16).find("\"cloudkit-web\""), std::string::npos);
}

TEST(FetchHttpClientTest, SendsMethodHeadersAndBody) {
  FetchHttpClient http;
  ports::HttpRequest request;
  request.method = "PUT";
  request.url = Origin() + "/echo";
  request.headers = {{"x-cloudkit-test", "yes"}, {"content-type", "application/octet-stream"}};
  request.body = std::string("binary\0body", 11);
  std::string sent = request.body;
  auto response = Send(http, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(Header(*response, "x-echo-method"), "PUT");
  EXPECT_EQ(Header(*response, "x-echo-header"), "yes");
  EXPECT_EQ(ReadAll(*response, 4), sent);
}

// What a signer adds that a page may not set (Host, Content-Length...) is
// dropped, not refused; the browser sends the same Host (the URL's), the
// value a Signature V4 over `host` covers.
TEST(FetchHttpClientTest, DropsHeadersTheBrowserSetsItself) {
  FetchHttpClient http;
  const std::string origin = Origin();
  const std::string host = origin.substr(origin.find("://") + 3);
  ports::HttpRequest request;
  request.method = "PUT";
  request.url = origin + "/echo";
  request.headers = {{"host", host}, {"content-length", "999"}, {"connection", "keep-alive"},
                     {"expect", "100-continue"}, {"x-cloudkit-test", "signed"}};
  request.body = "12345";
  auto response = Send(http, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(Header(*response, "x-echo-host"), host);
  EXPECT_EQ(Header(*response, "x-echo-content-length"), "5");
  EXPECT_EQ(Header(*response, "x-echo-header"), "signed");
  EXPECT_EQ(ReadAll(*response, 1 << 16), "12345");
}

TEST(FetchHttpClientTest, SendsAStreamedBody) {
  FetchHttpClient http;
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>('a' + i % 26);
  ports::HttpRequest request;
  request.method = "PUT";
  request.url = Origin() + "/echo";
  request.body_source = std::make_unique<PieceSource>(data, 7000);
  request.content_length = static_cast<int64_t>(data.size());
  auto response = Send(http, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(ReadAll(*response, 1 << 16), data);
}

TEST(FetchHttpClientTest, LargeBodiesArriveInBoundedChunks) {
  FetchHttpClient http;
  ports::HttpRequest request;
  request.url = Origin() + "/bytes?n=3000000";
  auto response = Send(http, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().message();
  size_t largest = 0;
  std::string body = ReadAll(*response, 64 * 1024, &largest);
  ASSERT_EQ(body.size(), 3000000u);
  EXPECT_LE(largest, 64u * 1024);
  for (size_t i = 0; i < body.size(); i += 9973) {
    ASSERT_EQ(static_cast<unsigned char>(body[i]), (i * 31) % 251) << "byte " << i;
  }
}

TEST(FetchHttpClientTest, ErrorStatusesAreResponses) {
  FetchHttpClient http;
  ports::HttpRequest request;
  request.url = Origin() + "/no/such/file";
  auto response = Send(http, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(response->status, 404);
}

TEST(FetchHttpClientTest, UnreachableServerIsUnavailable) {
  FetchHttpClient http;
  ports::HttpRequest request;
  request.url = "http://127.0.0.1:9/";  // the discard port: nothing listens
  auto response = Send(http, std::move(request));
  EXPECT_EQ(response.status().code(), ::cloudkit::v1::UNAVAILABLE) << response.status().message();
  EXPECT_TRUE(response.status().retryable());
}

TEST(FetchHttpClientTest, SlowServerHitsTheTimeout) {
  FetchHttpClient http;
  ports::HttpRequest request;
  request.url = Origin() + "/slow?ms=3000";
  request.timeout_ms = 200;
  auto response = Send(http, std::move(request));
  EXPECT_EQ(response.status().code(), ::cloudkit::v1::DEADLINE_EXCEEDED) << response.status().message();
}

// The native fan-out scenario, through fetch: 256 requests in flight at once
// from one actor to a server that answers each after 100 ms. All complete;
// the elapsed time is printed, not asserted (a browser opens at most six
// HTTP/1.1 connections per origin, so here they queue in the browser).
TEST(FetchHttpClientTest, FansOut256RequestsFromOneActor) {
  FetchHttpClient http;
  constexpr int kRequests = 256;
  int ok = 0;
  std::vector<Task<void>> tasks;
  for (int i = 0; i < kRequests; ++i) {
    tasks.push_back([](FetchHttpClient* client, std::string url, int* done) -> Task<void> {
      ports::HttpRequest request;
      request.url = std::move(url);
      Result<ports::HttpResponse> response = co_await client->Send(std::move(request));
      if (response.ok() && response->status == 200) ++*done;
    }(&http, Origin() + "/slow?ms=100&n=" + std::to_string(i), &ok));
  }
  const double started = emscripten_get_now();
  testing_util::RunTasks(std::move(tasks));
  std::printf("fetch fan-out: %d requests to a 100 ms server in %.0f ms\n", kRequests, emscripten_get_now() - started);
  EXPECT_EQ(ok, kRequests);
}

TEST(FetchHttpClientTest, AbandonedBodyIsReleased) {
  FetchHttpClient http;
  for (int i = 0; i < 20; ++i) {
    ports::HttpRequest request;
    request.url = Origin() + "/bytes?n=2000000";
    auto response = Send(http, std::move(request));
    ASSERT_TRUE(response.ok()) << response.status().message();
    auto first = Read(*response->body, 1000);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->size(), 1000u);
  }  // each body is closed unread
}

}  // namespace
}  // namespace cloudkit::web
