// ScriptRunner: runs the provider's Lua scripts (redis_scripts.h) by their
// SHA (EVALSHA), so a call sends its arguments and not the script. A script's
// SHA comes from SCRIPT LOAD the first time it runs; when the server has
// forgotten it (restarted, SCRIPT FLUSH) the NOSCRIPT error loads it again and
// the call is repeated, which is safe since a refused EVALSHA ran nothing.
//
// REQUIRES: used from the turns of one actor.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/task.h"
#include "ports/redis.h"
#include "providers/redis/redis_scripts.h"
#include "providers/redis/redis_service.h"

namespace cloudkit::redis {

class ScriptRunner {
 public:
  explicit ScriptRunner(RedisService* redis) : redis_(redis) {}

  // The script's reply; an error reply is a Status (redis_replies.h).
  // `repeatable`: whether running it twice does no harm (redis_service.h).
  Task<Result<ports::RedisReply>> Run(int64_t deadline_ms, const LuaScript& script, std::vector<std::string> keys,
                                      std::vector<std::string> args, Repeatable repeatable);

 private:
  RedisService* redis_;
  std::map<const LuaScript*, std::string> shas_;  // scripts loaded so far
};

}  // namespace cloudkit::redis
