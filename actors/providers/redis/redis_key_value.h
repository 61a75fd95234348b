// The KeyValue provider behind `redis`: the semantics of the embedded
// provider (proto/cloudkit/v1/key_value.proto) over a Redis server, through
// the Redis port. Items, their key index and their expiries are laid out as
// providers/redis/redis_layout.h says; every write is one Lua script
// (redis_scripts.h), so its check and its write are atomic on the server
// whatever other clients of the server do, and a batch put is all or nothing.
//
// Redis expires items by itself (PEXPIREAT), by its own clock: expires_at_ms
// is the server's time plus the TTL, and an expired item is absent at once.
// What it cannot remove is the item's entry in its table's index: List drops
// those it meets, and SweepExpired drops the rest in bounded steps, driven by
// the actor's timer like the embedded provider's sweep.
//
// REQUIRES: called from the turns of one actor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ports/redis.h"
#include "providers/redis/redis_layout.h"
#include "providers/redis/redis_service.h"
#include "providers/redis/script_runner.h"
#include "services/key_value_provider.h"

namespace cloudkit::redis {

class RedisKeyValue : public KeyValueProvider {
 public:
  // `prefix` starts every Redis key of this binding.
  RedisKeyValue(std::unique_ptr<RedisService> redis, std::string prefix);

  Task<Result<v1::GetResponse>> Get(const v1::GetRequest& req) override;
  Task<Result<v1::PutResponse>> Put(const v1::PutRequest& req) override;
  Task<Result<v1::DeleteResponse>> Delete(const v1::DeleteRequest& req) override;
  Task<Result<v1::ExistsResponse>> Exists(const v1::ExistsRequest& req) override;
  Task<Result<v1::ListResponse>> List(const v1::ListRequest& req) override;
  Task<Result<v1::BatchGetResponse>> BatchGet(const v1::BatchGetRequest& req) override;
  Task<Result<v1::BatchPutResponse>> BatchPut(const v1::BatchPutRequest& req) override;
  Task<Result<SweepStep>> SweepExpired(size_t budget) override;
  int64_t TakeNewExpiry() override;

 private:
  struct Entry {
    const std::string* key;
    const std::string* value;
    uint64_t ttl_ms;
  };
  // Runs the write script for `entries` of `table` (the conditions apply to
  // the first); the reply's array, checked to hold an answer per entry.
  Task<Result<ports::RedisReply>> Write(int64_t deadline_ms, const std::string& table, const std::vector<Entry>& entries,
                                        bool if_absent, const std::string& if_match);
  void NoteExpiry(int64_t expires_at_ms);

  std::unique_ptr<RedisService> redis_;
  RedisLayout layout_;
  ScriptRunner scripts_;
  int64_t new_expiry_ = 0;  // the earliest expiry written since TakeNewExpiry (0 = none)
};

}  // namespace cloudkit::redis
