-- Step 1 of applying device acks (AckRepository.applyAll): devices' acks, in order, each device on its slot.
-- One call takes one device on a cluster, every device of the batch on one Redis (a script call per ack was most
-- of the receipt path's Redis time).
-- Always clears the device's queue entry (reporting whether it was there: a task copy counts only then).
-- A single push of this device (its message key is the device's own, so a foreign msgId finds nothing here)
-- becomes delivered, a first receipt once; one with a callback URL keeps its receipt in 'owed' until the
-- caller parked it in the callback outbox (step 3) and cleared it (step 4): an ack replayed after a crash or a
-- full outbox finds it owed and returns it again, so no callback is lost.
-- The receipt's id and encoding are ParkedReceipt's (idOf / decode): fields joined by \31.
-- KEYS: per device, its queue, then the message hash of each of its acks (same order).
-- ARGV: 1 now ms, then per device appId, regId, n (its acks), then per ack id, acked-at ms.
-- Returns per ack, devices in order, 4 values: kind 0 not a message | 1 message, counted 0|1, removed from the
-- queue 0|1, the receipt to park (encoded) | false.
local SEP = '\31'
local out = {}
local seen = {} -- a receipt is returned once per call
local k, a = 1, 2
while a <= #ARGV do
  local app, reg, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local queue = KEYS[k]
  a, k = a + 3, k + 1
  for _ = 1, n do
    local msg, id, at = KEYS[k], ARGV[a], ARGV[a + 1]
    a, k = a + 2, k + 1
    local removed = redis.call('ZREM', queue, id)
    local m = redis.call('HMGET', msg, 'status', 'cbUrl', 'cbParam', 'owed')
    local kind, counted, receipt = 0, 0, false
    if m[1] then
      kind = 1
      if m[1] ~= 'delivered' then
        -- Only this script writes 'delivered' or deliveredAt, so the time is not set yet: one HSET.
        redis.call('HSET', msg, 'status', 'delivered', 'deliveredAt', ARGV[1])
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
end
return out
