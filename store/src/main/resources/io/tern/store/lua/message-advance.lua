-- Moves a message's status forward, never back (a late "sent" cannot undo "delivered").
-- On delivered, also takes the message off its device queue.
-- KEYS: 1 message hash, 2 device queue
-- ARGV: 1 new status, 2 now ms, 3 msgId
-- Returns 1 when the status changed.
local rank = {accepted = 0, offline = 1, sent = 2, expired = 3, delivered = 4}
local current = redis.call('HGET', KEYS[1], 'status')
if ARGV[1] == 'delivered' then
  redis.call('ZREM', KEYS[2], ARGV[3])
end
if not current or rank[ARGV[1]] <= rank[current] then
  return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
if ARGV[1] == 'sent' or ARGV[1] == 'delivered' then
  redis.call('HSETNX', KEYS[1], ARGV[1] .. 'At', ARGV[2])
end
return 1
