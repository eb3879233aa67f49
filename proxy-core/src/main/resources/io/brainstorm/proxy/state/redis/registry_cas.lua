-- Replaces the registry's state if nobody changed it since the caller read it (RedisRegistry.compareAndSet),
-- and tells every gateway: one atomic step, so two gateways' changes never overwrite each other.
-- KEYS[1] the registry hash: version, state
-- ARGV: the version the caller read (0: none yet), the new state (JSON), the change channel
-- Returns the new version, or -(the current version) - 1 when it was changed meanwhile (nothing written).
local registry = KEYS[1]
local current = tonumber(redis.call('HGET', registry, 'version') or '0')
if current ~= tonumber(ARGV[1]) then
  return -current - 1
end
local next = current + 1
redis.call('HSET', registry, 'version', next, 'state', ARGV[2])
redis.call('PUBLISH', ARGV[3], tostring(next))
return next
