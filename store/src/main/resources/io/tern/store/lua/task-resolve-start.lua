-- Starts resolving a tag push: the task becomes 'resolving', owned by ARGV[3] until ARGV[4], its
-- target and an empty cursor saved in its hash, and it is listed in the resolving index (scored by
-- lease end) where any node's sweeper finds it once its owner stops renewing.
-- KEYS: 1 task hash, 2 resolving index (zset). ARGV: 1 taskId, 2 target JSON, 3 owner, 4 lease end ms.
-- Returns 1 started | 0 unknown or recalled task | 2 already being resolved.
local s = redis.call('HGET', KEYS[1], 'state')
if not s or s == 'recalled' then
  return 0
end
if s == 'resolving' then
  return 2
end
redis.call('HDEL', KEYS[1], 'rsources', 'reason')
redis.call('HSET', KEYS[1], 'state', 'resolving', 'target', ARGV[2], 'rsrc', 0, 'rcur', '0', 'rjobs', 0,
  'owner', ARGV[3], 'attempts', 0)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
