-- Records that a learning entry reached a version (RedisCellStore), so that every gateway's
-- refresh reads only the entries that changed. Versions only go up: a late announcement of an
-- older version is ignored.
-- KEYS[1] the hash entry name -> latest version
-- ARGV: the entry name, its version
-- Returns 1 when recorded, 0 when a newer one was there.
local known = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > known then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
