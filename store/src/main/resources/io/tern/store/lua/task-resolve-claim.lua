-- Step 2 of a takeover (the sweeper won the index entry, resolving-claim.lua): from now on it is the owner,
-- and continues from the saved sources, source index and cursor. A task taken over too often, or past its
-- TTL, is failed with a reason instead (shown by GET task). On 0 or 2 the caller drops the index entry.
-- KEYS: 1 task hash. ARGV: 1 now ms, 2 new owner, 3 max takeovers.
-- Returns {0} not resolving or gone | {1, target, sources|false, source index, cursor} taken | {2, reason} failed.
local t = redis.call('HMGET', KEYS[1], 'state', 'expires', 'attempts', 'target', 'rsources', 'rsrc', 'rcur', 'reason')
if t[1] ~= 'resolving' then
  return {0}
end
local reason = false
local attempts = tonumber(t[3] or '0') + 1
if tonumber(t[2] or '0') <= tonumber(ARGV[1]) then
  reason = 'expired before its tag expression was resolved'
elseif attempts > tonumber(ARGV[3]) then
  reason = 'tag resolution taken over ' .. (attempts - 1) .. ' times without finishing'
  if t[8] then
    reason = reason .. ' (last: ' .. t[8] .. ')'
  end
end
if reason then
  redis.call('HDEL', KEYS[1], 'owner')
  redis.call('HSET', KEYS[1], 'state', 'failed', 'reason', reason)
  return {2, reason}
end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'attempts', attempts)
return {1, t[4], t[5], t[6] or '0', t[7] or '0'}
