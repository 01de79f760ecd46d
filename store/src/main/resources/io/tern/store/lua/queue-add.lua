-- Queues one id (a task) for many devices, each queue bounded like message-accept.lua's.
-- KEYS: device queues. ARGV: 1 member id, 2 score (created ms), 3 queueMax, 4 queueTtlMs
-- Returns, per queue in KEYS order, 1 when the id was added and 0 when it was already there:
-- a device already holding the task (a repeated list push, a replayed job, a duplicate from
-- SSCAN) is not sent or counted again.
local max = tonumber(ARGV[3])
local added = {}
for i, queue in ipairs(KEYS) do
  added[i] = redis.call('ZADD', queue, ARGV[2], ARGV[1])
  local size = redis.call('ZCARD', queue)
  if size > max then
    local evicted = redis.call('ZPOPMIN', queue, size - max)
    for i = 1, #evicted, 2 do
      local msg = 'tern:msg:' .. evicted[i]
      local status = redis.call('HGET', msg, 'status')
      if status then
        if status ~= 'delivered' then
          redis.call('HSET', msg, 'status', 'expired', 'evicted', '1')
        end
      elseif redis.call('EXISTS', 'tern:task:' .. evicted[i]) == 1 then
        redis.call('HINCRBY', 'tern:task:' .. evicted[i], 'n:expired', 1)
      end
    end
  end
  redis.call('PEXPIRE', queue, ARGV[4])
end
return added
