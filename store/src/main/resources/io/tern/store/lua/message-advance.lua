-- Moves a message's status forward, never back (a late "sent" cannot undo "delivered").
-- Delivery itself is ack-apply.lua's: it also clears the device queue.
-- KEYS: 1 message hash
-- ARGV: 1 new status, 2 now ms
-- Returns 1 when the status changed.
local rank = {accepted = 0, offline = 1, sent = 2, expired = 3, delivered = 4}
local current = redis.call('HGET', KEYS[1], 'status')
if not current or rank[ARGV[1]] <= rank[current] then
  return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
if ARGV[1] == 'sent' then
  redis.call('HSETNX', KEYS[1], 'sentAt', ARGV[2])
end
return 1
