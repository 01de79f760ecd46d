-- Step 4 of BroadcastLog.append, off the broadcast's path: drops the entries whose task the caller found gone,
-- expired or recalled (the append cut the log to its length already). Until it runs (a crash after step 3) the log
-- may hold dead entries: reads skip dead tasks, and the next append looks again.
-- KEYS: 1 log zset. ARGV: the taskIds to drop.
for i = 1, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
end
return #ARGV
