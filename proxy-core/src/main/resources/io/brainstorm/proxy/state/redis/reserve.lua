-- Reserves a request's worst case on one key's day, or says why not (RedisBudgets.reserve).
-- KEYS[1] day hash: spent, requests, reserved, open    KEYS[2] holds: reservation id -> amount
-- KEYS[3] deadlines: reservation id -> unix ms         KEYS[4] lapsed: ids whose hold ran out
-- ARGV: id, amount, budget (nano-USD), expire-at (unix seconds), hold ttl (ms)
-- Returns {verdict (0 granted, 1 busy, 2 exceeded), spent, reserved, open}: the figures read
-- before this reservation was added. Lua numbers are doubles, exact below 2^53 nano-USD; every
-- stored value changes by HINCRBY on its decimal string, so it stays an exact 64-bit integer.
local day, holds, deadlines, lapsed = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- holds past their deadline belong to a gateway that died (or lost Redis that long): release them,
-- and remember them so that a late settle still charges once
local overdue = redis.call('ZRANGEBYSCORE', deadlines, '-inf', now, 'LIMIT', 0, 64)
for _, old in ipairs(overdue) do
  local held = redis.call('HGET', holds, old)
  if held then
    redis.call('HDEL', holds, old)
    redis.call('HINCRBY', day, 'reserved', '-' .. held)
    redis.call('HINCRBY', day, 'open', '-1')
    redis.call('SADD', lapsed, old)
    redis.call('EXPIREAT', lapsed, ARGV[4])
  end
  redis.call('ZREM', deadlines, old)
end

local f = redis.call('HMGET', day, 'spent', 'reserved', 'open')
local spent, reserved, open = f[1] or '0', f[2] or '0', f[3] or '0'
local held = redis.call('HGET', holds, id)
if held then
  -- the same reserve again (a retry after a reconnect): granted once, reported as before it
  return {0, spent, string.format('%d', tonumber(reserved) - tonumber(held)), string.format('%d', tonumber(open) - 1)}
end

local amount, budget = tonumber(ARGV[2]), tonumber(ARGV[3])
local s, r = tonumber(spent), tonumber(reserved)
if amount > budget - s - r then
  if amount > budget - s then
    return {2, spent, reserved, open}
  end
  return {1, spent, reserved, open}
end
redis.call('HINCRBY', day, 'reserved', ARGV[2])
redis.call('HINCRBY', day, 'open', '1')
redis.call('HSET', holds, id, ARGV[2])
redis.call('ZADD', deadlines, now + tonumber(ARGV[5]), id)
redis.call('EXPIREAT', day, ARGV[4])
redis.call('EXPIREAT', holds, ARGV[4])
redis.call('EXPIREAT', deadlines, ARGV[4])
return {0, spent, reserved, open}
