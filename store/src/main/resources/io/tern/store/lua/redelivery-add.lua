-- Puts a single push up for a delivery check in its shard, unless the shard is full (the message then waits
-- for its device's reconnect, as without checks) or the check is there already (a repeated accept must not
-- move, nor later take back, the first accept's check).
-- KEYS: 1 shard zset. ARGV: 1 msgId, 2 due ms, 3 most entries in this shard.
-- Returns 1 added | 0 not.
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
return redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
