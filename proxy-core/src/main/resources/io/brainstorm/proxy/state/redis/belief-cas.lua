-- Writes one learning entry if nobody wrote it since the writer read it (RedisCellStore.update): an
-- optimistic compare-and-set on the entry's version, and at most once per write id.
-- KEYS[1] the entry: "<version>:<base64 of the longs>" (absent: version 0)
-- KEYS[2] this writer's marker for the entry: the id of its last write that landed (same hash tag)
-- ARGV: the version read, the new value (version + 1), the write id, the marker's ttl (s)
-- Returns {1} written; {0, current value or false} someone wrote first, nothing done;
-- {2, current value or false} this write id landed before (its answer was lost), nothing done.
if redis.call('GET', KEYS[2]) == ARGV[3] then
  return {2, redis.call('GET', KEYS[1]) or false}
end
local current = redis.call('GET', KEYS[1])
local version = 0
if current then
  version = tonumber(string.match(current, '^(%d+):')) or -1
end
if version ~= tonumber(ARGV[1]) then
  return {0, current or false}
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
return {1}
