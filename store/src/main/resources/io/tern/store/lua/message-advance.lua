-- Moves message statuses forward, never back (a late "sent" cannot undo "delivered"), several
-- messages per call (StatusMarks batches them): one device's on a cluster (the caller groups the batch by device),
-- any devices' on one Redis.
-- Delivery itself is ack-device.lua's: it also clears the device queue. Taking a message marked sent or
-- expired out of the delivery checks is the caller's, in the same flush (the check shard is another slot).
-- KEYS: the message hashes. ARGV: 1 now ms, then the new status of each message key in order
-- Returns how many statuses changed.
local rank = {queued = -1, accepted = 0, offline = 1, sent = 2, expired = 3, delivered = 4}
local changed = 0
for i = 1, #KEYS do
  local status = ARGV[i + 1]
  local current = redis.call('HGET', KEYS[i], 'status')
  if current and rank[status] > rank[current] then
    if status == 'sent' then
      -- Below 'sent' until now (statuses never move back), so sentAt is not set yet: one HSET.
      redis.call('HSET', KEYS[i], 'status', status, 'sentAt', ARGV[1])
    else
      redis.call('HSET', KEYS[i], 'status', status)
    end
    changed = changed + 1
  end
end
return changed
