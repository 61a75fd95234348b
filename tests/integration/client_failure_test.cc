// Transport failures through the client library: a daemon that is not there,
// one that dies mid-call or stops, a malformed endpoint, and a client closed
// with calls in flight. Each must end every call with a clear status.
#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include "integration/daemon_fixture.h"
#include "integration/test_helpers.h"

namespace cloudkit::integration {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(ClientWithoutDaemon, MalformedEndpointIsInvalidArgument) {
  auto client = Client::Connect("not-an-endpoint");
  EXPECT_CK_CODE(client, v1::INVALID_ARGUMENT);
  EXPECT_NE(client.status().message().find("not-an-endpoint"), std::string::npos);
}

TEST(ClientWithoutDaemon, UnreachableDaemonIsUnavailableQuickly) {
  const std::string endpoint = UnusedEndpoint();
  ClientOptions options;
  options.connect_timeout = milliseconds(300);
  auto client = Client::Connect(endpoint, options);
  ASSERT_CK_OK(client);
  auto started = Clock::now();
  auto status = (*client)->runtime().GetStatus();
  EXPECT_CK_CODE(status, v1::UNAVAILABLE);
  EXPECT_NE(status.status().message().find(endpoint), std::string::npos) << status.status().message();
  EXPECT_LT(Clock::now() - started, milliseconds(3'000));

  // Streamed calls too.
  auto put = (*client)->storage().PutObject(PutRequest("b", "k", MakeBody(1 << 20)));
  EXPECT_CK_CODE(put, v1::UNAVAILABLE);
  auto get = (*client)->storage().GetObject(GetRequest("b", "k"));
  EXPECT_CK_CODE(get, v1::UNAVAILABLE);
}

TEST(ClientWithoutDaemon, ShortTimeoutWithoutDaemonIsStillUnavailable) {
  ClientOptions options;
  options.timeout = milliseconds(100);  // shorter than connect_timeout
  auto client = Client::Connect(UnusedEndpoint(), options);
  ASSERT_CK_OK(client);
  EXPECT_CK_CODE((*client)->kv().Get(KvGet("t", "k")), v1::UNAVAILABLE);
}

using ClientFailureTest = DaemonTest;

TEST_F(ClientFailureTest, CallsAfterTheDaemonDiedAreUnavailable) {
  ASSERT_CK_OK(client_->kv().Put(KvPut("t", "k", "v")));
  daemon_->Kill();
  auto started = Clock::now();
  EXPECT_CK_CODE(client_->kv().Get(KvGet("t", "k")), v1::UNAVAILABLE);
  EXPECT_LT(Clock::now() - started, milliseconds(5'000));
}

TEST_F(ClientFailureTest, DownloadInFlightWhenTheDaemonDiesIsUnavailable) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  ASSERT_CK_OK(client_->storage().PutObject(PutRequest("docs", "big", MakeBody(8 << 20))));
  bool killed = false;
  auto got = client_->storage().GetObject(GetRequest("docs", "big"), [&](std::string_view) {
    if (!killed) daemon_->Kill();
    killed = true;
    return Status::Ok();
  });
  EXPECT_CK_CODE(got, v1::UNAVAILABLE);
}

TEST_F(ClientFailureTest, UploadInFlightWhenTheDaemonDiesIsUnavailable) {
  ASSERT_CK_OK(client_->storage().CreateBucket(CreateBucketRequest("docs")));
  int calls = 0;
  ByteSource source = [&](char* buffer, size_t capacity) -> Result<size_t> {
    if (++calls == 3) daemon_->Kill();
    if (calls > 40) return size_t{0};
    std::memset(buffer, 'z', capacity);
    return capacity;
  };
  EXPECT_CK_CODE(client_->storage().PutObject(PutRequest("docs", "big"), source), v1::UNAVAILABLE);
}

TEST_F(ClientFailureTest, ClosingTheClientEndsEveryCallInFlight) {
  std::vector<std::future<KeyValueClient::PutResult>> puts;
  for (int i = 0; i < 200; ++i) puts.push_back(client_->kv().PutAsync(KvPut("t", std::to_string(i), "v")));
  client_.reset();
  for (auto& put : puts) {
    ASSERT_EQ(put.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    auto result = put.get();
    if (!result.ok()) EXPECT_CK_CODE(result, v1::UNAVAILABLE);
  }
}

TEST_F(ClientFailureTest, OversizedRequestsAreRefusedWithoutHurtingOtherCalls) {
  // Over the daemon's 4 MiB body limit: its RESOURCE_EXHAUSTED.
  auto too_big = client_->kv().Put(KvPut("t", "k", std::string(5 << 20, 'v')));
  EXPECT_CK_CODE(too_big, v1::RESOURCE_EXHAUSTED);
  EXPECT_FALSE(too_big.status().retryable()) << "a body over the limit is over it again when sent again";
  // Over the 8 MiB message limit: refused by the client, since the daemon
  // would drop the connection and with it every call in flight.
  auto in_flight = client_->kv().PutAsync(KvPut("t", "other", "v"));
  EXPECT_CK_CODE(client_->kv().Put(KvPut("t", "k", std::string(9 << 20, 'v'))), v1::RESOURCE_EXHAUSTED);
  ASSERT_CK_OK(in_flight.get());
  ASSERT_CK_OK(client_->kv().Get(KvGet("t", "other")));
}

TEST_F(ClientFailureTest, DaemonStopsCleanlyOnSigterm) {
  ASSERT_CK_OK(client_->runtime().GetStatus());
  EXPECT_EQ(daemon_->Stop(), 0) << daemon_->Log();
}

}  // namespace
}  // namespace cloudkit::integration
