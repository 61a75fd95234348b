// HiredisClient: the native Redis port over hiredis's asynchronous API.
//
// One I/O thread owns the connection (a redisAsyncContext) and runs poll() on
// its socket and on an eventfd: Command hands the command to it through a
// mutex-protected queue and wakes it through the eventfd, hiredis formats it
// (RESP) into the connection's output buffer, and every reply, parsed by
// hiredis, goes back as a message to the executor of the actor that asked
// (core/async.h), as CurlHttpClient does for HTTP. Commands are pipelined:
// thousands may be in flight on the one connection, their replies coming back
// in order.
//
// The connection is opened by the first command, and after it is lost, by the
// next one: commands that were in flight when it dropped fail with
// UNAVAILABLE (retryable: whether they ran is unknown) and later ones wait
// for the new connection. Each connection first SELECTs the endpoint's
// database; commands queued meanwhile are sent once it answered. Opening it
// (connect and SELECT) must take less than the connect timeout, or the
// commands waiting for it fail with UNAVAILABLE. A command whose reply does
// not come within the reply timeout fails with DEADLINE_EXCEEDED, and the
// connection is dropped (a server that answers nothing in that time is taken
// as lost; the commands behind it fail with UNAVAILABLE).
//
// Host names are resolved on the I/O thread, blocking it while they resolve.
// Pub/sub and MONITOR are refused: their replies do not answer commands.
//
// Destroying the client fails every outstanding command with UNAVAILABLE and
// joins the thread.
//
// REQUIRES: Command is called on an actor's turn (CurrentExecutor set).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ports/redis.h"

namespace cloudkit {

class HiredisClient : public ports::RedisClient {
 public:
  explicit HiredisClient(ports::RedisEndpoint endpoint);
  ~HiredisClient() override;
  HiredisClient(const HiredisClient&) = delete;
  HiredisClient& operator=(const HiredisClient&) = delete;

  Async<Result<ports::RedisReply>> Command(std::vector<std::string> argv) override;

  class IoThread;  // the I/O thread and the connection (hiredis_client.cc)

 private:
  std::unique_ptr<IoThread> io_;
};

// The connector the daemon lends to `redis` bindings: a HiredisClient each.
class HiredisConnector : public ports::RedisConnector {
 public:
  std::unique_ptr<ports::RedisClient> Connect(const ports::RedisEndpoint& endpoint) override {
    return std::make_unique<HiredisClient>(endpoint);
  }
};

}  // namespace cloudkit
