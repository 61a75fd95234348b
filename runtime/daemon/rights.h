// Rights: what a client key may do on a binding (read, write, admin), and
// which of them each method of the protocol needs. docs/daemon.md, "Keys and
// rights", is the table this file implements.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cloudkit {

enum Right : uint8_t {
  kRead = 1,   // gets, lists, heads, receives
  kWrite = 2,  // puts, deletes of items, sends, publishes, acks
  kAdmin = 4,  // creating and deleting buckets, queues, topics, subscriptions; purging
};
using Rights = uint8_t;  // a set of Right bits
inline constexpr Rights kAllRights = kRead | kWrite | kAdmin;

std::optional<Right> ParseRight(std::string_view name);
const char* RightName(Right right);
// "read, write" (empty set: "none").
std::string RightsNames(Rights rights);

// The rights a call of `method` ("cloudkit.v1.KeyValue/Put") needs on its
// binding; nullopt for a method the table does not know (the front door then
// asks for every right).
std::optional<Rights> RightsNeededBy(std::string_view method);

// The first right in `needed` that `held` lacks.
Right FirstMissing(Rights held, Rights needed);

}  // namespace cloudkit
