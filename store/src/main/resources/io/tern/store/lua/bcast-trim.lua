-- Step 4 of BroadcastLog.append: drops the entries whose task the caller found gone, expired or recalled,
-- then trims the log to its length bound (oldest first). Until it runs (a crash after step 3) the log may
-- hold dead or extra entries: reads skip dead tasks and are bounded, and the next append trims.
-- KEYS: 1 log zset. ARGV: 1 max length, then the taskIds to drop.
for i = 2, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
end
local n = redis.call('ZCARD', KEYS[1])
local max = tonumber(ARGV[1])
if n > max then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - max - 1)
end
return n
