// How the `redis` provider lays a binding's tables out in Redis, under the
// binding's prefix P (default "cloudkit:"), so that bindings with different
// prefixes share a server without seeing each other:
//   P "item:" table ":" key   hash {v: value, e: ETag, x: expires_at_ms ("0" = never)};
//                             with a TTL it also carries that expiry (PEXPIREAT),
//                             so Redis removes it by itself
//   P "index:" table          sorted set of the table's keys, all at score 0: the
//                             key order List pages through (ZRANGEBYLEX)
//   P "expiries"              sorted set of "table:key" by expires_at_ms, for the
//                             items with a TTL: what the sweep reads to drop the
//                             index entries of items Redis has expired
//   P "etag"                  counter: each write takes the next value, in hex, as
//                             its ETag
// Table names never contain ':' (providers/names), so "table:key" splits at
// its first ':'.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace cloudkit::redis {

class RedisLayout {
 public:
  explicit RedisLayout(std::string prefix) : prefix_(std::move(prefix)) {}

  std::string Item(std::string_view table, std::string_view key) const { return ItemBase(table) + std::string(key); }
  // What the keys of a table's items start with.
  std::string ItemBase(std::string_view table) const { return prefix_ + "item:" + std::string(table) + ":"; }
  // What every item key starts with, before "table:key".
  std::string ItemRoot() const { return prefix_ + "item:"; }
  std::string Index(std::string_view table) const { return IndexRoot() + std::string(table); }
  std::string IndexRoot() const { return prefix_ + "index:"; }
  std::string Expiries() const { return prefix_ + "expiries"; }
  std::string EtagCounter() const { return prefix_ + "etag"; }

 private:
  std::string prefix_;
};

// List's page tokens: the hex of table "\0" the last key a page looked at,
// so a token is opaque, printable, and refused by another table's listing.
std::string EncodeListToken(std::string_view table, std::string_view last_key);
// The last key, or nullopt when `token` is not one of `table`'s.
std::optional<std::string> DecodeListToken(std::string_view table, std::string_view token);

}  // namespace cloudkit::redis
