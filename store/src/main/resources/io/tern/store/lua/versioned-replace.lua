-- Replaces a versioned document (the region policy, the throttle directive) if it is still at the expected
-- version, logs the change and tells watchers.
-- KEYS[1] document hash {v, json}, KEYS[2] audit log list, KEYS[3] (optional) the writer's leader lease
-- ARGV[1] expected version, ARGV[2] new version, ARGV[3] new document JSON, ARGV[4] change JSON,
-- ARGV[5] log length bound, ARGV[6] change channel, ARGV[7] (with KEYS[3]) the lease holder the writer must be
-- Returns 1 when replaced, 0 when the expectation was stale. (Not the stored version: a stale writer of
-- version N+1 finds N+1 stored by the writer that beat it, and must not take that for its own success.)
-- Returns -1 when KEYS[3] is given and no longer holds ARGV[7]: a deposed leader writes nothing.
if KEYS[3] and redis.call('GET', KEYS[3]) ~= ARGV[7] then
  return -1
end
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'json', ARGV[3])
redis.call('LPUSH', KEYS[2], ARGV[4])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
redis.call('PUBLISH', ARGV[6], ARGV[2])
return 1
