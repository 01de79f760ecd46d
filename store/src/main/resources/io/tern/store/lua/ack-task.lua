-- Step 2 of applying device acks: the acks (from any devices) of one task that step 1 found no message for.
-- A copy counts when it was of the acking device's app and was in its queue (step 1 removed it), or, for
-- broadcasts with a callback (never queued), when the device is new in the broadcast's ack filter: once per device.
-- A crash between step 1 and this one leaves that copy uncounted (a replay finds it out of the queue), never
-- counted twice. A counted ack with a callback URL keeps its receipt owed in the task hash ('owed:' .. receipt id)
-- until the caller parked and cleared it, as in ack-device.lua. A broadcast without a callback is counted by the
-- caller, through its set of counted devices (counted 2: CountedDevices.java).
-- KEYS: 1 task hash, 2 the task's ack filter.
-- ARGV: 1 taskId, then per ack i (from 0): 5i+2 appId, 5i+3 regId, 5i+4 device hash (16 hex digits),
--       5i+5 removed from the queue 1|0, 5i+6 acked-at ms.
-- Returns per ack 3 values: kind 0 unknown | 2 task, counted 0|1|2 (the caller counts it), the receipt to park | false.
-- filter_size / filter_add: ack-filter.lua, prepended.
local SEP = '\31'
local task, filter, id = KEYS[1], KEYS[2], ARGV[1]
local t = redis.call('HMGET', task, 'state', 'bcast', 'cbUrl', 'cbParam', 'app')
local out = {}
local seen = {} -- a receipt is returned once per call
for i = 0, (#ARGV - 1) / 5 - 1 do
  local app, reg, hash, removed, at = ARGV[5 * i + 2], ARGV[5 * i + 3], ARGV[5 * i + 4], ARGV[5 * i + 5], ARGV[5 * i + 6]
  local kind, counted, receipt = 0, 0, false
  if t[1] and t[5] == app then
    kind = 2
    if removed == '1' then
      counted = 1
    elseif t[2] == '1' then
      if t[3] and t[3] ~= '' then
        -- At most once per device per broadcast: replayed, or acked again after catch-up.
        counted = filter_add(filter, task, hash, filter_size(task))
      else
        -- No callback: brokers count this broadcast's acks in count records, through its set of counted
        -- devices; so must this one be (the caller does: CountedDevices.java), or a device could count twice.
        counted = 2
      end
    end
    local owed = 'owed:' .. app .. SEP .. 't' .. id .. SEP .. reg
    if counted == 1 then
      redis.call('HINCRBY', task, 'n:delivered', 1)
      if t[3] and t[3] ~= '' then
        receipt = table.concat({app, t[3], id, 't', reg, t[4] or '', at}, SEP)
        redis.call('HSET', task, owed, receipt)
      end
    elseif t[3] and t[3] ~= '' and not seen[owed] then
      receipt = redis.call('HGET', task, owed)
    end
    seen[owed] = true
  end
  out[#out + 1] = kind
  out[#out + 1] = counted
  out[#out + 1] = receipt
end
return out
