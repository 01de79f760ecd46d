-- Applies device acks, in order, to whatever each acknowledges: a single-push message (status
-- delivered) or a task copy (counter delivered, once per device: counted only when the copy
-- was still queued, or for broadcasts, which are never queued). Always clears the queue entry.
-- Many acks per call: one round trip and one script run for a whole consumer batch.
-- KEYS: per ack i (from 0): 3i+1 message hash, 3i+2 device queue, 3i+3 task hash.
-- ARGV: 1 now ms, then per ack i: i+2 id.
-- Returns per ack 4 values: kind 0 unknown | 1 message | 2 task, counted 0|1, callbackUrl|false, callbackParam|false
local out = {}
local function put(kind, counted, url, param)
  out[#out + 1] = kind
  out[#out + 1] = counted
  out[#out + 1] = url
  out[#out + 1] = param
end
for i = 0, #ARGV - 2 do
  local msg, queue, task, id = KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3], ARGV[i + 2]
  local removed = redis.call('ZREM', queue, id)
  local status = redis.call('HGET', msg, 'status')
  if status then
    if status == 'delivered' then
      put(1, 0, false, false)
    else
      redis.call('HSET', msg, 'status', 'delivered')
      redis.call('HSETNX', msg, 'deliveredAt', ARGV[1])
      local cb = redis.call('HMGET', msg, 'cbUrl', 'cbParam')
      put(1, 1, cb[1], cb[2])
    end
  else
    local t = redis.call('HMGET', task, 'state', 'bcast', 'cbUrl', 'cbParam')
    if not t[1] then
      put(0, 0, false, false)
    elseif removed == 1 or t[2] == '1' then
      redis.call('HINCRBY', task, 'n:delivered', 1)
      put(2, 1, t[3], t[4])
    else
      put(2, 0, false, false)
    end
  end
end
return out
