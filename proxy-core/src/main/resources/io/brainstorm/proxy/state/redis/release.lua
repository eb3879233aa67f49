-- Ends a granted reservation without charge (RedisBudgets.release); idempotent per id.
-- KEYS as reserve.lua. ARGV: id.
-- Returns 1 when it ended the hold, 2 when the hold had lapsed already, 0 when it had ended before.
local day, holds, deadlines, lapsed = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id = ARGV[1]
local held = redis.call('HGET', holds, id)
if held then
  redis.call('HDEL', holds, id)
  redis.call('ZREM', deadlines, id)
  redis.call('HINCRBY', day, 'reserved', '-' .. held)
  redis.call('HINCRBY', day, 'open', '-1')
  return 1
end
if redis.call('SREM', lapsed, id) == 1 then
  return 2
end
return 0
