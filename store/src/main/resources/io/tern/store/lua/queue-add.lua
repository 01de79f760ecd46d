-- Queues one id (a task copy) for one device, bounded like message-accept.lua's queue.
-- KEYS: 1 device queue. ARGV: 1 member id, 2 score (created ms), 3 queueMax, 4 queueTtlMs
-- Returns {1 when the id was added | 0 when it was already there, the oldest entries beyond queueMax...}:
-- a device already holding the task (a repeated list push, a replayed job, a duplicate from SSCAN) is not
-- sent or counted again; the entries beyond the bound are the caller's to evict (queue-evict.lua).
local out = {redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])}
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, over - 1)) do
    out[#out + 1] = id
  end
end
return out
