-- Recalls a task: from now on no copy is delivered (queues and broadcast catch-up skip it).
-- KEYS: 1 task hash. ARGV: 1 now ms.
-- Returns {0} unknown task, else {1 recalled now | 2 already recalled, copies still pending}.
local t = redis.call('HMGET', KEYS[1], 'state', 'n:targeted', 'n:delivered', 'n:expired')
if not t[1] then
  return {0, 0}
end
local pending = (tonumber(t[2]) or 0) - (tonumber(t[3]) or 0) - (tonumber(t[4]) or 0)
if pending < 0 then
  pending = 0
end
if t[1] == 'recalled' then
  return {2, pending}
end
redis.call('HSET', KEYS[1], 'state', 'recalled', 'recalledAt', ARGV[1], 'n:recalled', pending)
return {1, pending}
