#include "providers/redis/redis_scripts.h"

namespace cloudkit::redis {

// Numbers handed to redis.call are formatted with '%.0f': they are whole
// milliseconds below 2^53, which a Lua number holds exactly.

const LuaScript kWriteScript{"write", R"lua(
local first = KEYS[4]
if ARGV[1] == '1' and redis.call('EXISTS', first) == 1 then
  return {'exists'}
end
if ARGV[2] ~= '' then
  local current = redis.call('HGET', first, 'e')
  if not current then return {'missing'} end
  if current ~= ARGV[2] then return {'mismatch', current} end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {'ok'}
for i = 4, #KEYS do
  local arg = 4 + (i - 4) * 3
  local key, value, ttl = ARGV[arg], ARGV[arg + 1], tonumber(ARGV[arg + 2])
  -- A counter that starts, when absent, at the server's time in microseconds:
  -- ETags stay unique even after the server lost its data.
  local sequence = redis.call('INCR', KEYS[1])
  if sequence == 1 then
    sequence = now * 1000
    redis.call('SET', KEYS[1], string.format('%.0f', sequence))
  end
  local etag = string.format('%x', sequence)
  local expires = 0
  if ttl > 0 then expires = now + ttl end
  local item = KEYS[i]
  local member = ARGV[3] .. ':' .. key
  redis.call('HSET', item, 'v', value, 'e', etag, 'x', string.format('%.0f', expires))
  if expires > 0 then
    redis.call('PEXPIREAT', item, string.format('%.0f', expires))
    redis.call('ZADD', KEYS[2], string.format('%.0f', expires), member)
  else
    redis.call('PERSIST', item)
    redis.call('ZREM', KEYS[2], member)
  end
  redis.call('ZADD', KEYS[3], 0, key)
  out[#out + 1] = etag
  out[#out + 1] = expires
end
return out
)lua"};

const LuaScript kDeleteScript{"delete", R"lua(
local current = redis.call('HGET', KEYS[1], 'e')
if ARGV[2] ~= '' then
  if not current then return {'missing'} end
  if current ~= ARGV[2] then return {'mismatch', current} end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[3] .. ':' .. ARGV[1])
if current then return {'ok', 1} end
return {'ok', 0}
)lua"};

const LuaScript kBatchGetScript{"batch-get", R"lua(
local out = {}
for i, item in ipairs(KEYS) do
  out[i] = redis.call('HMGET', item, 'v', 'e', 'x')
end
return out
)lua"};

const LuaScript kListScript{"list", R"lua(
local base, cursor, stop = ARGV[1], ARGV[2], ARGV[3]
local limit, keys_only, table_name = tonumber(ARGV[4]), ARGV[5] == '1', ARGV[6]
local budget, max_bytes = tonumber(ARGV[7]), tonumber(ARGV[8])
local items, count, scanned, last, exhausted, bytes = {}, 0, 0, '', false, 0
while count < limit and scanned < budget and bytes < max_bytes do
  local want = math.min(limit - count, budget - scanned)
  local keys = redis.call('ZRANGEBYLEX', KEYS[1], cursor, stop, 'LIMIT', 0, want)
  for _, key in ipairs(keys) do
    scanned = scanned + 1
    last = key
    local fields
    if keys_only then
      fields = redis.call('HMGET', base .. key, 'e', 'x')
    else
      fields = redis.call('HMGET', base .. key, 'e', 'x', 'v')
    end
    if fields[1] then
      items[#items + 1] = key
      items[#items + 1] = fields[3] or ''
      items[#items + 1] = fields[1]
      items[#items + 1] = fields[2]
      count = count + 1
      bytes = bytes + #key + #(fields[3] or '')
      if bytes >= max_bytes then break end
    else
      -- Expired (Redis removed the item): its index entry goes too.
      redis.call('ZREM', KEYS[1], key)
      redis.call('ZREM', KEYS[2], table_name .. ':' .. key)
    end
  end
  if bytes >= max_bytes then break end
  if #keys < want then
    exhausted = true
    break
  end
  cursor = '(' .. last
end
if exhausted or #redis.call('ZRANGEBYLEX', KEYS[1], '(' .. last, stop, 'LIMIT', 0, 1) == 0 then
  last = ''
end
return {items, last}
)lua"};

const LuaScript kSweepScript{"sweep", R"lua(
local item_root, index_root, budget = ARGV[1], ARGV[2], tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
-- Redis holds a key expired once its time is past (now > expiry), not at it.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now), 'LIMIT', 0, budget)
local dropped = 0
for _, member in ipairs(due) do
  local item = item_root .. member
  local left = redis.call('PTTL', item)
  if left == -2 then
    local table_name = string.match(member, '^[^:]*')
    redis.call('ZREM', index_root .. table_name, string.sub(member, #table_name + 2))
    redis.call('ZREM', KEYS[1], member)
    dropped = dropped + 1
  elseif left == -1 then
    -- Writes keep this set in step with the items; an item still there had
    -- its expiry changed behind the provider's back, and it now decides.
    redis.call('ZREM', KEYS[1], member)
  else
    redis.call('ZADD', KEYS[1], string.format('%.0f', now + left), member)
  end
end
local next_expiry = 0
local complete = #due < budget
if complete then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if first[2] then next_expiry = tonumber(first[2]) end
end
return {dropped, complete and 1 or 0, next_expiry}
)lua"};

}  // namespace cloudkit::redis
