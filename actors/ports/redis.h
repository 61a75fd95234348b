// Redis port: how the `redis` provider talks to a Redis server. A command is
// its arguments, sent as they are (binary-safe); its answer is the reply as a
// plain value tree. Each host implements it with its own client: hiredis's
// asynchronous API natively (runtime/ports/hiredis_client); the browser has
// none. Every call is asynchronous (core/async.h): many commands may be in
// flight on one connection (pipelined), none blocks the asking actor, and
// replies come back in the order the commands were sent.
//
// Failures: a Redis error reply ("ERR ...", "NOSCRIPT ...") is a reply, of
// type kError, not a failed call. The call fails with UNAVAILABLE (retryable)
// when the server cannot be reached or the connection drops before the reply,
// and with DEADLINE_EXCEEDED when the reply does not come in time.
//
// REQUIRES: Command is called from an actor's turn (the answer goes to its
// executor).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/async.h"
#include "core/status.h"

namespace cloudkit::ports {

// A reply, as RESP2 has them.
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;              // kInteger
  std::string text;                 // kString, kStatus ("OK") and kError ("ERR ...")
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  bool is_array() const { return type == Type::kArray; }
};

// One connection to one database of one server, opened when first needed and
// opened again by the next command after it was lost.
class RedisClient {
 public:
  virtual ~RedisClient() = default;
  // Sends `argv` ("HGET", key, field); completes with the server's reply.
  virtual Async<Result<RedisReply>> Command(std::vector<std::string> argv) = 0;
};

// Where a client connects, and how long it waits.
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;                           // SELECTed after each connect
  // AUTHenticated after each connect when `password` is set (with `username`
  // too: Redis 6 ACLs). Secrets: never shown.
  std::string username;
  std::string password;
  uint32_t timeout_ms = 5'000;          // for a reply, counted from the call; > 0
  uint32_t connect_timeout_ms = 5'000;  // for a connection and its SELECT; > 0
};

// Made by the host, since where to connect comes from a binding's options.
class RedisConnector {
 public:
  virtual ~RedisConnector() = default;
  // A client for `endpoint`. It connects on its first command: an unreachable
  // server fails commands, not this.
  virtual std::unique_ptr<RedisClient> Connect(const RedisEndpoint& endpoint) = 0;
};

}  // namespace cloudkit::ports
