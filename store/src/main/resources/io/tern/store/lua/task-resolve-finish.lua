-- Ends a resolution this owner still holds: state 'sending' (every job published) or 'failed'
-- with a reason; 'abandon' instead hands it back at once (lease end now) for a sweeper to retry.
-- KEYS: 1 task hash, 2 resolving index. ARGV: 1 taskId, 2 owner, 3 outcome sending|failed|abandon,
--       4 reason (failed, abandon), 5 now ms.
-- Returns 1 done | 0 not this owner's (lost, or no longer resolving).
local t = redis.call('HMGET', KEYS[1], 'state', 'owner')
if t[1] ~= 'resolving' or t[2] ~= ARGV[2] then
  return 0
end
if ARGV[3] == 'abandon' then
  redis.call('HSET', KEYS[1], 'reason', ARGV[4])
  redis.call('HDEL', KEYS[1], 'owner')
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
  return 1
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], 'owner')
redis.call('HSET', KEYS[1], 'state', ARGV[3])
if ARGV[3] == 'failed' then
  redis.call('HSET', KEYS[1], 'reason', ARGV[4])
else
  redis.call('HDEL', KEYS[1], 'reason')
end
return 1
