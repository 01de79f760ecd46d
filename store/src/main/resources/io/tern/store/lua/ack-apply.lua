-- Applies one device ack to whatever it acknowledges: a single-push message (status
-- delivered) or a task copy (counter delivered, once per device: counted only when the copy
-- was still queued, or for broadcasts, which are never queued). Always clears the queue entry.
-- KEYS: 1 message hash, 2 device queue, 3 task hash. ARGV: 1 id, 2 now ms.
-- Returns {kind 0 unknown | 1 message | 2 task, counted 0|1, callbackUrl|false, callbackParam|false}
local removed = redis.call('ZREM', KEYS[2], ARGV[1])
local status = redis.call('HGET', KEYS[1], 'status')
if status then
  if status == 'delivered' then
    return {1, 0, false, false}
  end
  redis.call('HSET', KEYS[1], 'status', 'delivered')
  redis.call('HSETNX', KEYS[1], 'deliveredAt', ARGV[2])
  local cb = redis.call('HMGET', KEYS[1], 'cbUrl', 'cbParam')
  return {1, 1, cb[1], cb[2]}
end
local t = redis.call('HMGET', KEYS[3], 'state', 'bcast', 'cbUrl', 'cbParam')
if t[1] then
  if removed == 1 or t[2] == '1' then
    redis.call('HINCRBY', KEYS[3], 'n:delivered', 1)
    return {2, 1, t[3], t[4]}
  end
  return {2, 0, false, false}
end
return {0, 0, false, false}
