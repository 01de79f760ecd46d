-- Starts resolving a tag push: the task becomes 'resolving', owned by ARGV[2], its target and an empty cursor
-- saved in its hash. Its entry in the resolving index (another slot, scored by lease end), where any node's
-- sweeper finds it once its owner stops renewing, is written by the caller BEFORE this (ZADD NX) and taken
-- back when this refuses: a crash in between leaves an entry the sweeper drops (task not resolving).
-- KEYS: 1 task hash. ARGV: 1 target JSON, 2 owner.
-- Returns 1 started | 0 unknown or recalled task | 2 already being resolved.
local s = redis.call('HGET', KEYS[1], 'state')
if not s or s == 'recalled' then
  return 0
end
if s == 'resolving' then
  return 2
end
redis.call('HDEL', KEYS[1], 'rsources', 'reason')
redis.call('HSET', KEYS[1], 'state', 'resolving', 'target', ARGV[1], 'rsrc', 0, 'rcur', '0', 'rjobs', 0,
  'owner', ARGV[2], 'attempts', 0)
return 1
