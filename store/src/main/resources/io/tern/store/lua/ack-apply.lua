-- Applies device acks, in order, to whatever each acknowledges, and only when the acking device
-- is the one the message was for: a single-push message whose app and regId are the acking
-- device's (status delivered), or a task copy of the acking device's app (counter delivered, once
-- per device: counted only when the copy was still in this device's queue, or for broadcasts,
-- which are never queued, when this device is new in the broadcast's acked set). A forged or
-- foreign msgId changes no status, no counter and returns no callback. Always clears the acking
-- device's own queue entry. Many acks per call: one round trip and one script run for a batch.
-- KEYS: per ack i (from 0): 4i+1 message hash, 4i+2 device queue, 4i+3 task hash, 4i+4 task's ack filter.
-- ARGV: 1 now ms, then per ack i: 4i+2 id, 4i+3 appId, 4i+4 regId, 4i+5 device hash (16 hex digits).
-- Returns per ack 4 values: kind 0 unknown | 1 message | 2 task, counted 0|1, callbackUrl|false, callbackParam|false
-- filter_size / filter_add: ack-filter.lua, prepended.
local out = {}
local function put(kind, counted, url, param)
  out[#out + 1] = kind
  out[#out + 1] = counted
  out[#out + 1] = url
  out[#out + 1] = param
end
for i = 0, (#ARGV - 1) / 4 - 1 do
  local msg, queue, task, filter = KEYS[4 * i + 1], KEYS[4 * i + 2], KEYS[4 * i + 3], KEYS[4 * i + 4]
  local id, app, reg, hash = ARGV[4 * i + 2], ARGV[4 * i + 3], ARGV[4 * i + 4], ARGV[4 * i + 5]
  local removed = redis.call('ZREM', queue, id)
  local m = redis.call('HMGET', msg, 'status', 'app', 'reg')
  if m[1] then
    if m[2] ~= app or m[3] ~= reg then
      put(0, 0, false, false) -- another device's message: not this device's to ack
    elseif m[1] == 'delivered' then
      put(1, 0, false, false)
    else
      redis.call('HSET', msg, 'status', 'delivered')
      redis.call('HSETNX', msg, 'deliveredAt', ARGV[1])
      local cb = redis.call('HMGET', msg, 'cbUrl', 'cbParam')
      put(1, 1, cb[1], cb[2])
    end
  else
    local t = redis.call('HMGET', task, 'state', 'bcast', 'cbUrl', 'cbParam', 'app')
    if not t[1] or t[5] ~= app then
      put(0, 0, false, false)
    elseif removed == 1 then
      redis.call('HINCRBY', task, 'n:delivered', 1)
      put(2, 1, t[3], t[4])
    elseif t[2] == '1' and filter_add(filter, task, hash, filter_size(task)) == 1 then
      -- At most once per device per broadcast: replayed, acked again after catch-up, or counted by a broker.
      redis.call('HINCRBY', task, 'n:delivered', 1)
      put(2, 1, t[3], t[4])
    else
      put(2, 0, false, false)
    end
  end
end
return out
