-- Moves message statuses forward, never back (a late "sent" cannot undo "delivered"), several
-- messages per call so a logic node marks a burst of pushes in one round trip.
-- Delivery itself is ack-apply.lua's: it also clears the device queue.
-- A message marked sent or expired needs no delivery check any more: it leaves the due set.
-- KEYS: 1 redelivery due zset, then the message hashes ('tern:msg:' .. msgId)
-- ARGV: 1 now ms, then the new status of each message key in order
-- Returns how many statuses changed.
local rank = {queued = -1, accepted = 0, offline = 1, sent = 2, expired = 3, delivered = 4}
local changed = 0
for i = 2, #KEYS do
  local status = ARGV[i]
  if status == 'sent' or status == 'expired' then
    redis.call('ZREM', KEYS[1], string.sub(KEYS[i], 10))
  end
  local current = redis.call('HGET', KEYS[i], 'status')
  if current and rank[status] > rank[current] then
    redis.call('HSET', KEYS[i], 'status', status)
    if status == 'sent' then
      redis.call('HSETNX', KEYS[i], 'sentAt', ARGV[1])
    end
    changed = changed + 1
  end
end
return changed
