#include "providers/redis/redis_replies.h"

#include <charconv>

namespace cloudkit::redis {
namespace {

using ports::RedisReply;

bool StartsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// Where a script's error names the Redis error inside it ("ERR Error running
// script ...: @user_script:5: OOM ...") the inner one decides.
bool Mentions(std::string_view text, std::string_view code) {
  return StartsWith(text, code) || text.find(": " + std::string(code)) != std::string_view::npos;
}

const char* TypeName(RedisReply::Type type) {
  switch (type) {
    case RedisReply::Type::kNil: return "nil";
    case RedisReply::Type::kInteger: return "integer";
    case RedisReply::Type::kString: return "string";
    case RedisReply::Type::kStatus: return "status";
    case RedisReply::Type::kError: return "error";
    case RedisReply::Type::kArray: return "array";
  }
  return "unknown";
}

}  // namespace

Status ErrorReplyStatus(std::string_view what, const RedisReply& reply) {
  const std::string message = "redis: " + std::string(what) + ": " + reply.text;
  if (Mentions(reply.text, "OOM")) return Status::ResourceExhausted(message);
  for (std::string_view transient : {"LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"}) {
    if (Mentions(reply.text, transient)) return Status::Unavailable(message);
  }
  return Status::Internal(message);
}

Result<RedisReply> NotAnError(std::string_view what, Result<RedisReply> reply) {
  if (reply.ok() && reply->is_error()) return ErrorReplyStatus(what, *reply);
  return reply;
}

Status Unexpected(std::string_view what, const RedisReply& reply) {
  std::string shape = TypeName(reply.type);
  if (reply.is_array()) shape += " of " + std::to_string(reply.elements.size());
  return Status::Internal("redis: " + std::string(what) + ": unexpected reply (" + shape + ")");
}

std::optional<int64_t> ParseInteger(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [at, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || at != end) return std::nullopt;
  return value;
}

}  // namespace cloudkit::redis
