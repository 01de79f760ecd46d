-- Step 1 of applying device acks (AckRepository.applyAll): one device's acks, in order, on its slot.
-- Always clears the device's queue entry (reporting whether it was there: a task copy counts only then).
-- A single push of this device (its message key is the device's own, so a foreign msgId finds nothing here)
-- becomes delivered, a first receipt once; one with a callback URL keeps its receipt in 'owed' until the
-- caller parked it in the callback outbox (step 3) and cleared it (step 4): an ack replayed after a crash or a
-- full outbox finds it owed and returns it again, so no callback is lost.
-- The receipt's id and encoding are ParkedReceipt's (idOf / decode): fields joined by \31.
-- KEYS: 1 device queue, then the message hash of each ack (same order).
-- ARGV: 1 now ms, 2 appId, 3 regId, then per ack i (from 0): 2i+4 id, 2i+5 acked-at ms.
-- Returns per ack 4 values: kind 0 not a message | 1 message, counted 0|1, removed from the queue 0|1,
-- the receipt to park (encoded) | false.
local SEP = '\31'
local app, reg = ARGV[2], ARGV[3]
local out = {}
local seen = {} -- a receipt is returned once per call
for i = 0, #KEYS - 2 do
  local msg = KEYS[i + 2]
  local id, at = ARGV[2 * i + 4], ARGV[2 * i + 5]
  local removed = redis.call('ZREM', KEYS[1], id)
  local m = redis.call('HMGET', msg, 'status', 'cbUrl', 'cbParam', 'owed')
  local kind, counted, receipt = 0, 0, false
  if m[1] then
    kind = 1
    if m[1] ~= 'delivered' then
      redis.call('HSET', msg, 'status', 'delivered')
      redis.call('HSETNX', msg, 'deliveredAt', ARGV[1])
      counted = 1
      if m[2] and m[2] ~= '' then
        receipt = table.concat({app, m[2], id, 'm', reg, m[3] or '', at}, SEP)
        redis.call('HSET', msg, 'owed', receipt)
      end
    elseif m[4] and not seen[msg] then
      receipt = m[4]
    end
    seen[msg] = true
  end
  out[#out + 1] = kind
  out[#out + 1] = counted
  out[#out + 1] = removed
  out[#out + 1] = receipt
end
return out
