-- Replaces the region policy if it is still at the expected version, logs the change and tells watchers.
-- KEYS[1] policy hash {v, json}, KEYS[2] audit log list
-- ARGV[1] expected version, ARGV[2] new version, ARGV[3] new policy JSON, ARGV[4] change JSON,
-- ARGV[5] log length bound, ARGV[6] change channel
-- Returns 1 when replaced, 0 when the expectation was stale. (Not the stored version: a stale writer of
-- version N+1 finds N+1 stored by the writer that beat it, and must not take that for its own success.)
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'json', ARGV[3])
redis.call('LPUSH', KEYS[2], ARGV[4])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
redis.call('PUBLISH', ARGV[6], ARGV[2])
return 1
