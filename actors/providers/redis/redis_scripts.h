// The Lua scripts the `redis` provider runs on the server (EVALSHA): each
// check-then-write is one script, and Redis runs a script with nothing else
// in between, so conditional writes are atomic, a batch put is all or
// nothing, and an item, its index entry and its expiry entry never disagree.
// Keys follow providers/redis/redis_layout.h; times are the server's (TIME),
// the clock Redis expires items by.
#pragma once

#include <string_view>

namespace cloudkit::redis {

struct LuaScript {
  std::string_view name;    // for messages
  std::string_view source;
};

// Writes items, after an optional check of the first.
// KEYS: etag counter, expiries, the table's index, then the items.
// ARGV: if_absent ("1" or ""), if_match ("" = none), table, then per item its
// key, value and ttl_ms ("0" = none).
// Returns {"ok", etag, expires_at_ms, ...} per item, {"exists"},
// {"missing"}, or {"mismatch", current etag}.
extern const LuaScript kWriteScript;

// Deletes an item, if it matches. KEYS: the item, the table's index,
// expiries. ARGV: key, if_match ("" = none), table.
// Returns {"ok", 1 if it existed else 0}, {"missing"} or {"mismatch", etag}.
extern const LuaScript kDeleteScript;

// Reads items at once. KEYS: the items. Returns per item {value, etag,
// expires_at_ms}, each nil when the item is absent.
extern const LuaScript kBatchGetScript;

// One page of a table in key order, dropping the index entries of items that
// expired. KEYS: the table's index, expiries. ARGV: the table's item key
// base, the start ("-" or "(" last key seen, ZRANGEBYLEX style), the end
// ("+" or "(" successor of the prefix), page size, "1" for keys only, table,
// how many index entries it may look at.
// Returns {{key, value, etag, expires_at_ms, ...}, last key seen when more
// may follow, else ""}.
extern const LuaScript kListScript;

// Drops the index and expiry entries of up to `budget` items whose expiry has
// passed (Redis removed the items themselves). KEYS: expiries. ARGV: item key
// root, index key root, budget.
// Returns {entries dropped, 1 when nothing due is left else 0, earliest
// expiry still ahead or 0}.
extern const LuaScript kSweepScript;

}  // namespace cloudkit::redis
