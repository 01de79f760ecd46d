-- Step 3 of applying device acks: parks their callback receipts in the outbox (as CallbackOutbox reads it:
-- HSET items id receipt, ZADD due leaseUntil id). All or nothing: when the new receipts would take the outbox
-- past its max, none is parked (they stay owed where their acks were recorded, and the acks are read again).
-- KEYS: 1 outbox due (zset), 2 outbox items (hash). ARGV: 1 lease-until ms, 2 outbox max, then pairs of
-- receipt id, receipt.
-- Returns 1 parked | -1 the outbox is full.
local new = 0
local seen = {}
for i = 3, #ARGV, 2 do
  if not seen[ARGV[i]] and redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
    new = new + 1
  end
  seen[ARGV[i]] = true
end
if new > 0 and redis.call('ZCARD', KEYS[1]) + new > tonumber(ARGV[2]) then
  return -1
end
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
end
return 1
