-- Evicts the oldest entries of a device queue beyond its bound (found by message-accept.lua or queue-add.lua):
-- a message evicted this way is marked expired (and evicted) rather than vanish, unless delivered.
-- Entries already gone (acked, or evicted by a concurrent call) are skipped.
-- KEYS: 1 device queue, then the message hash of each id (same order). ARGV: the ids.
-- Returns the evicted ids that are not messages (task copies): the caller adds them to their tasks'
-- n:expired (another slot; a crash before that leaves the counter one short, never double).
local tasks = {}
for i, id in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local msg = KEYS[i + 1]
    local status = redis.call('HGET', msg, 'status')
    if status then
      if status ~= 'delivered' then
        redis.call('HSET', msg, 'status', 'expired', 'evicted', '1')
      end
    else
      tasks[#tasks + 1] = id
    end
  end
end
return tasks
