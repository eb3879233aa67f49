-- Ends a granted reservation with its actual cost (RedisBudgets.settle); idempotent per id.
-- KEYS as reserve.lua. ARGV: id, actual (nano-USD).
-- Returns 1 when it ended the hold, 2 when the hold had lapsed (its money was released already, so
-- only the charge is added), 0 when the reservation had ended before (nothing changes).
local day, holds, deadlines, lapsed = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id = ARGV[1]
local held = redis.call('HGET', holds, id)
if held then
  redis.call('HDEL', holds, id)
  redis.call('ZREM', deadlines, id)
  redis.call('HINCRBY', day, 'reserved', '-' .. held)
  redis.call('HINCRBY', day, 'open', '-1')
  redis.call('HINCRBY', day, 'spent', ARGV[2])
  redis.call('HINCRBY', day, 'requests', '1')
  return 1
end
if redis.call('SREM', lapsed, id) == 1 then
  redis.call('HINCRBY', day, 'spent', ARGV[2])
  redis.call('HINCRBY', day, 'requests', '1')
  return 2
end
return 0
