#include "providers/redis/script_runner.h"

#include <utility>

#include "providers/redis/redis_replies.h"

namespace cloudkit::redis {

using ports::RedisReply;

Task<Result<RedisReply>> ScriptRunner::Run(int64_t deadline_ms, const LuaScript& script,
                                           std::vector<std::string> keys, std::vector<std::string> args,
                                           Repeatable repeatable) {
  const std::string what = std::string(script.name) + " script";
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(shas_[&script]);
  argv.push_back(std::to_string(keys.size()));
  for (std::string& key : keys) argv.push_back(std::move(key));
  for (std::string& arg : args) argv.push_back(std::move(arg));
  // Once to load the script when it is unknown here, and once more when the
  // server turns out not to know it.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool loaded_now = false;
    if (argv[1].empty()) {
      const std::string loading = "SCRIPT LOAD " + what;
      std::vector<std::string> load = {"SCRIPT", "LOAD", std::string(script.source)};
      Result<RedisReply> loaded = NotAnError(loading, co_await redis_->Command(deadline_ms, std::move(load), Repeatable::kYes));
      if (!loaded.ok()) co_return loaded.status();
      if (loaded->type != RedisReply::Type::kString || loaded->text.empty()) co_return Unexpected(loading, *loaded);
      shas_[&script] = loaded->text;
      argv[1] = loaded->text;
      loaded_now = true;
    }
    // The arguments are copied for a second attempt only when one may follow:
    // not after the script was loaded a moment ago.
    const bool may_retry = attempt == 0 && !loaded_now;
    // Chosen before the await: g++ 12 mishandles a conditional's temporary
    // kept across a suspension.
    std::vector<std::string> sent = may_retry ? argv : std::move(argv);
    Result<RedisReply> reply = co_await redis_->Command(deadline_ms, std::move(sent), repeatable);
    if (may_retry && reply.ok() && reply->is_error() && reply->text.rfind("NOSCRIPT", 0) == 0) {
      shas_[&script].clear();
      argv[1].clear();
      continue;
    }
    co_return NotAnError(what, std::move(reply));
  }
  co_return Status::Internal("redis: " + what + ": the server keeps forgetting the script");
}

}  // namespace cloudkit::redis
