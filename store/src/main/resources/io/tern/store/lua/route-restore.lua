-- KEYS[1] route key, KEYS[2] device key; ARGV[1] the route to restore, ARGV[2] its broker id followed by '|',
-- ARGV[3] now ms, ARGV[4] device retention ms.
-- A broker re-writing its live sessions' routes after a Redis outage: written when the route is missing or
-- still this broker's (any epoch: the local connection map already keeps one session per device); a route of
-- another broker is newer (the device moved there) and is left alone and returned.
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] and string.sub(current, 1, string.len(ARGV[2])) ~= ARGV[2] then
  return current
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return ''
