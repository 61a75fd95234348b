// The delay proxy (support/delay_proxy.h): bytes pass intact both ways, each
// direction adds the latency, a changed latency applies, a refused target
// closes the client, and Stop closes what is open. Also in front of a real
// Redis, as a fault test would use it.
#include "support/delay_proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "support/child_process.h"
#include "support/emulator.h"
#include "support/loopback_connection.h"

namespace cloudkit::testing_util {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A TCP echo server on a free port of 127.0.0.1: each connection gets back
// what it sends until it closes its side; connections are served one after
// the other, on a thread of its own.
class EchoServer {
 public:
  EchoServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listen_fd_, 8) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "echo server: cannot listen";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~EchoServer() {
    stopping_ = true;
    shutdown(listen_fd_, SHUT_RDWR);  // wakes accept
    if (thread_.joinable()) thread_.join();
    close(listen_fd_);
  }
  int port() const { return port_; }

 private:
  void Serve() {
    while (!stopping_) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      char buffer[64 * 1024];
      ssize_t n;
      while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) {
        for (ssize_t sent = 0; sent < n;) {
          ssize_t m = send(fd, buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
          if (m <= 0) break;
          sent += m;
        }
      }
      close(fd);
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

std::unique_ptr<DelayProxy> StartProxy(int target_port, milliseconds latency) {
  Result<std::unique_ptr<DelayProxy>> proxy = DelayProxy::Start("127.0.0.1", target_port, latency);
  EXPECT_TRUE(proxy.ok()) << proxy.status().message();
  return proxy.ok() ? std::move(*proxy) : nullptr;
}

std::unique_ptr<LoopbackConnection> ConnectTo(int port) {
  Result<std::unique_ptr<LoopbackConnection>> connection = LoopbackConnection::Connect(port);
  EXPECT_TRUE(connection.ok()) << connection.status().message();
  return connection.ok() ? std::move(*connection) : nullptr;
}

// The time one line takes to go through `connection` and come back.
milliseconds RoundTrip(LoopbackConnection& connection, const std::string& line) {
  auto start = Clock::now();
  EXPECT_TRUE(connection.SendAll(line).ok());
  Result<std::string> echoed = connection.ReceiveUntil("\n");
  EXPECT_TRUE(echoed.ok()) << echoed.status().message();
  if (echoed.ok()) EXPECT_EQ(*echoed, line);
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

TEST(DelayProxyTest, ForwardsEveryByteIntactBothWaysAndPassesOnTheEnd) {
  EchoServer echo;
  auto proxy = StartProxy(echo.port(), milliseconds(20));
  ASSERT_NE(proxy, nullptr);
  auto connection = ConnectTo(proxy->port());
  ASSERT_NE(connection, nullptr);

  std::string data(3 * 1024 * 1024 + 17, '\0');
  std::mt19937 random(7);
  for (char& byte : data) byte = static_cast<char>(random());
  // Sent from another thread: the echo comes back while we still send.
  std::thread sender([&] {
    EXPECT_TRUE(connection->SendAll(data, std::chrono::seconds(60)).ok());
    connection->ShutdownSending();  // the echo server sees the end, closes, and the proxy passes that on
  });
  Result<std::string> echoed = connection->ReceiveToEnd(std::chrono::seconds(60));
  sender.join();
  ASSERT_TRUE(echoed.ok()) << echoed.status().message();
  EXPECT_EQ(echoed->size(), data.size());
  EXPECT_TRUE(*echoed == data) << "the bytes came back changed";
  EXPECT_EQ(proxy->connections_accepted(), 1u);
}

TEST(DelayProxyTest, EachDirectionAddsTheLatencyInOrder) {
  EchoServer echo;
  auto proxy = StartProxy(echo.port(), milliseconds(200));
  ASSERT_NE(proxy, nullptr);
  auto connection = ConnectTo(proxy->port());
  ASSERT_NE(connection, nullptr);

  milliseconds slow = RoundTrip(*connection, "ping\n");
  EXPECT_GE(slow, milliseconds(400)) << "200 ms each way";
  EXPECT_LT(slow, milliseconds(2'000));

  // Several chunks sent 50 ms apart come back in order, each 400 ms later.
  auto start = Clock::now();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(connection->SendAll("chunk" + std::to_string(i) + ";").ok());
    std::this_thread::sleep_for(milliseconds(50));
  }
  Result<std::string> chunks = connection->ReceiveUntil("chunk3;");
  ASSERT_TRUE(chunks.ok()) << chunks.status().message();
  EXPECT_EQ(*chunks, "chunk0;chunk1;chunk2;chunk3;");
  EXPECT_GE(Clock::now() - start, milliseconds(150 + 400));

  proxy->set_latency(milliseconds(0));
  EXPECT_LT(RoundTrip(*connection, "quick\n"), milliseconds(200));
}

TEST(DelayProxyTest, SlowsARealRedisDown) {
  Result<std::unique_ptr<Emulator>> redis = Emulator::Start(EmulatorKind::kRedis);
  ASSERT_TRUE(redis.ok()) << redis.status().message();
  auto proxy = StartProxy((*redis)->port(), milliseconds(200));
  ASSERT_NE(proxy, nullptr);
  auto start = Clock::now();
  Result<std::string> pong = RedisCommand(proxy->port(), "PING");
  ASSERT_TRUE(pong.ok()) << pong.status().message();
  EXPECT_EQ(*pong, "+PONG");
  EXPECT_GE(Clock::now() - start, milliseconds(400));
}

TEST(DelayProxyTest, ARefusedTargetClosesTheClient) {
  auto proxy = StartProxy(FreeLoopbackPort(), milliseconds(100));
  ASSERT_NE(proxy, nullptr);
  auto connection = ConnectTo(proxy->port());
  ASSERT_NE(connection, nullptr);
  Result<std::string> rest = connection->ReceiveToEnd(std::chrono::seconds(5));
  // Closed (an end of file or a reset), never left hanging.
  if (rest.ok()) EXPECT_EQ(*rest, "");
  else EXPECT_NE(rest.status().code(), v1::DEADLINE_EXCEEDED) << rest.status().message();
}

TEST(DelayProxyTest, StopClosesOpenConnectionsAndTheListener) {
  EchoServer echo;
  auto proxy = StartProxy(echo.port(), milliseconds(10));
  ASSERT_NE(proxy, nullptr);
  auto connection = ConnectTo(proxy->port());
  ASSERT_NE(connection, nullptr);
  EXPECT_GE(RoundTrip(*connection, "hello\n"), milliseconds(20));
  const int port = proxy->port();
  proxy.reset();
  Result<std::string> rest = connection->ReceiveToEnd(std::chrono::seconds(5));
  if (rest.ok()) EXPECT_EQ(*rest, "");
  else EXPECT_NE(rest.status().code(), v1::DEADLINE_EXCEEDED) << rest.status().message();
  EXPECT_FALSE(LoopbackConnection::Connect(port, milliseconds(500)).ok());
}

}  // namespace
}  // namespace cloudkit::testing_util
