// Reading Redis replies in the `redis` provider: error replies become the
// Status a client should see, and the provider's expectations of a reply's
// shape are checked in one place (a reply of another shape is INTERNAL,
// naming the command).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ports/redis.h"

namespace cloudkit::redis {

// The Status for an error reply to `what` ("write script", "HMGET ..."): a
// server out of memory is RESOURCE_EXHAUSTED, one loading, busy or read-only
// (a replica) UNAVAILABLE (retryable), anything else INTERNAL.
Status ErrorReplyStatus(std::string_view what, const ports::RedisReply& reply);

// `reply` itself when the call succeeded with a reply other than an error.
Result<ports::RedisReply> NotAnError(std::string_view what, Result<ports::RedisReply> reply);

// INTERNAL: the reply to `what` is not of the shape the provider expects.
Status Unexpected(std::string_view what, const ports::RedisReply& reply);

// A decimal integer in a string reply (hash fields hold numbers as text).
std::optional<int64_t> ParseInteger(std::string_view text);

}  // namespace cloudkit::redis
