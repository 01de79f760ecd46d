-- Ends a resolution this owner still holds: state 'sending' (every job published) or 'failed'
-- with a reason; 'abandon' instead hands it back (no owner) for a sweeper to retry. The caller then drops
-- the resolving index entry, or for 'abandon' makes it due now (another slot): a crash before that leaves an
-- entry the sweeper drops (not resolving) or takes over at its old lease end.
-- KEYS: 1 task hash. ARGV: 1 owner, 2 outcome sending|failed|abandon, 3 reason (failed, abandon).
-- Returns 1 done | 0 not this owner's (lost, or no longer resolving).
local t = redis.call('HMGET', KEYS[1], 'state', 'owner')
if t[1] ~= 'resolving' or t[2] ~= ARGV[1] then
  return 0
end
if ARGV[2] == 'abandon' then
  redis.call('HSET', KEYS[1], 'reason', ARGV[3])
  redis.call('HDEL', KEYS[1], 'owner')
  return 1
end
redis.call('HDEL', KEYS[1], 'owner')
redis.call('HSET', KEYS[1], 'state', ARGV[2])
if ARGV[2] == 'failed' then
  redis.call('HSET', KEYS[1], 'reason', ARGV[3])
else
  redis.call('HDEL', KEYS[1], 'reason')
end
return 1
