-- A sweeper takes over a resolution whose lease ran out: from then on it is the owner, and
-- continues from the saved sources, source index and cursor. A task taken over too often, or
-- past its TTL, is failed with a reason instead (shown by GET task).
-- KEYS: 1 task hash, 2 resolving index. ARGV: 1 taskId, 2 now ms, 3 new owner, 4 lease end ms,
--       5 max takeovers.
-- Returns {0} not due or gone | {1, target, sources|false, source index, cursor} taken | {2, reason} failed.
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then
  return {0}
end
local t = redis.call('HMGET', KEYS[1], 'state', 'expires', 'attempts', 'target', 'rsources', 'rsrc', 'rcur', 'reason')
if t[1] ~= 'resolving' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {0}
end
local reason = false
local attempts = tonumber(t[3] or '0') + 1
if tonumber(t[2] or '0') <= tonumber(ARGV[2]) then
  reason = 'expired before its tag expression was resolved'
elseif attempts > tonumber(ARGV[5]) then
  reason = 'tag resolution taken over ' .. (attempts - 1) .. ' times without finishing'
  if t[8] then
    reason = reason .. ' (last: ' .. t[8] .. ')'
  end
end
if reason then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[1], 'owner')
  redis.call('HSET', KEYS[1], 'state', 'failed', 'reason', reason)
  return {2, reason}
end
redis.call('HSET', KEYS[1], 'owner', ARGV[3], 'attempts', attempts)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return {1, t[4], t[5], t[6] or '0', t[7] or '0'}
