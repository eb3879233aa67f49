-- Adds spend that held no reservation (a key without a budget, or one served while Redis was away
-- with on_unavailable: open) to one key's day (RedisBudgets.charge): one batch of one gateway.
-- KEYS[1] day hash: spent, requests, reserved, open, and seq:<gateway instance> per gateway
-- ARGV: gateway instance, batch sequence number, nano-USD, requests, expire-at (unix seconds)
-- A gateway numbers its batches in increasing order and sends them in that order, each until Redis
-- took it; a batch at or below the gateway's last sequence number here was counted already (a
-- retry after a lost reply), so it is skipped. Returns 1 when counted now, 0 when skipped.
local day = KEYS[1]
local field = 'seq:' .. ARGV[1]
local last = tonumber(redis.call('HGET', day, field) or '0')
local seq = tonumber(ARGV[2])
if seq <= last then
  return 0
end
redis.call('HSET', day, field, ARGV[2])
redis.call('HINCRBY', day, 'spent', ARGV[3])
redis.call('HINCRBY', day, 'requests', ARGV[4])
redis.call('EXPIREAT', day, ARGV[5])
return 1
