-- Counts one request against one key's minute if its limits allow (RedisRates.tryAcquire), as
-- state.RateCells.tryAcquire does: requests and tokens per minute decided together, in one step.
-- KEYS[1] the minute's hash: requests, tokens (created here)
-- ARGV: rpm, tokens, tpm (<= 0: unlimited), ttl (ms: until the minute ends, plus the margin)
-- Returns {granted (1) or refused (0), requests, tokens}: the counts read before this request.
-- A request whose tokens alone exceed tpm is granted as the first tokens of an empty minute.
local minute = KEYS[1]
local f = redis.call('HMGET', minute, 'requests', 'tokens')
local requests, tokens = tonumber(f[1] or '0'), tonumber(f[2] or '0')
local rpm, cost, tpm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if (rpm > 0 and requests + 1 > rpm) or (tpm > 0 and tokens > 0 and tokens + cost > tpm) then
  return {0, requests, tokens}
end
redis.call('HINCRBY', minute, 'requests', 1)
redis.call('HINCRBY', minute, 'tokens', ARGV[2])
redis.call('PEXPIRE', minute, ARGV[4])
return {1, requests, tokens}
