-- Applies one broker's count of a broadcast's acks to the task's delivered counter. Totals are
-- cumulative per counter, and the task remembers the last total applied per counter: only the
-- increase is added, so a replayed, resent or reordered count record adds nothing twice.
-- KEYS: 1 task hash. ARGV: 1 counter id, 2 total.
-- Returns the acks added, or -1 when the task is unknown (never creates a hash without a TTL).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local field = 'ackc:' .. ARGV[1]
local seen = tonumber(redis.call('HGET', KEYS[1], field) or '0')
local total = tonumber(ARGV[2])
if total <= seen then
  return 0
end
redis.call('HSET', KEYS[1], field, ARGV[2])
redis.call('HINCRBY', KEYS[1], 'n:delivered', total - seen)
return total - seen
