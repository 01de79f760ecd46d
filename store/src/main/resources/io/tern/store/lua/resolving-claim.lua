-- Step 1 of a sweeper's takeover of a resolution (or of a broadcast fan-out, on tern:{fanout}): wins its index entry if its lease ran out, by
-- moving the entry to the new lease end, so of two sweepers only one goes on to the task (step 2,
-- task-resolve-claim.lua). A crash after this leaves the entry due again at the new lease end.
-- KEYS: 1 resolving index. ARGV: 1 taskId, 2 now ms, 3 new lease end ms.
-- Returns 1 won | 0 not due or gone.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
