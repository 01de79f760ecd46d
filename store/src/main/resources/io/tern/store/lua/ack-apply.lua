-- Applies device acks, in order, to whatever each acknowledges, and only when the acking device
-- is the one the message was for: a single-push message whose app and regId are the acking
-- device's (status delivered), or a task copy of the acking device's app (counter delivered, once
-- per device: counted only when the copy was still in this device's queue, or for broadcasts,
-- which are never queued, when this device is new in the broadcast's acked set). A forged or
-- foreign msgId changes no status, no counter and parks nothing. Always clears the acking
-- device's own queue entry. Many acks per call: one round trip and one script run for a batch.
-- A counted ack whose message or task has a callback URL parks its receipt in the callback outbox
-- in the same run (as CallbackOutbox reads it: HSET items id receipt, ZADD due leaseUntil id), so
-- no node's death between recording an ack and parking its receipt loses the callback. The
-- receipt's id and encoding are ParkedReceipt's (idOf / decode): fields joined by \31.
-- All or nothing: when the new receipts would take the outbox past its max, nothing is applied.
-- KEYS: 1 outbox due (zset), 2 outbox items (hash), then per ack i (from 0): 4i+3 message hash,
--       4i+4 device queue, 4i+5 task hash, 4i+6 task's ack filter.
-- ARGV: 1 now ms, 2 lease-until ms of parked receipts, 3 outbox max, then per ack i: 5i+4 id,
--       5i+5 appId, 5i+6 regId, 5i+7 device hash (16 hex digits), 5i+8 acked-at ms.
-- Returns {-1} when the outbox is full (nothing changed); else per ack 3 values:
-- kind 0 unknown | 1 message | 2 task, counted 0|1, the parked receipt (encoded) | false.
-- filter_size / filter_has / filter_add: ack-filter.lua, prepended.
local SEP = '\31'
local due, items = KEYS[1], KEYS[2]
local n = (#ARGV - 3) / 5

-- Decide first, reading only (earlier acks of this run count as applied), so a full outbox
-- leaves everything untouched; then write what was decided.
local plan = {}
local removes, delivers, adds, parks = {}, {}, {}, {}
local new = 0
for i = 0, n - 1 do
  local msg, queue, task, filter = KEYS[4 * i + 3], KEYS[4 * i + 4], KEYS[4 * i + 5], KEYS[4 * i + 6]
  local id, app, reg, hash, at = ARGV[5 * i + 4], ARGV[5 * i + 5], ARGV[5 * i + 6], ARGV[5 * i + 7], ARGV[5 * i + 8]
  local qid = queue .. SEP .. id
  local removed = not removes[qid] and redis.call('ZSCORE', queue, id) ~= false
  removes[qid] = true
  local p = {kind = 0, counted = 0}
  local m = redis.call('HMGET', msg, 'status', 'app', 'reg')
  if m[1] then
    if m[2] == app and m[3] == reg then
      p.kind = 1
      if m[1] ~= 'delivered' and not delivers[msg] then
        delivers[msg] = true
        local cb = redis.call('HMGET', msg, 'cbUrl', 'cbParam')
        p.counted, p.deliver, p.url, p.param = 1, true, cb[1], cb[2]
      end
    end -- else another device's message: not this device's to ack
  else
    local t = redis.call('HMGET', task, 'state', 'bcast', 'cbUrl', 'cbParam', 'app')
    if t[1] and t[5] == app then
      p.kind = 2
      if removed then
        p.counted = 1
      elseif t[2] == '1' then
        -- At most once per device per broadcast: replayed, acked again after catch-up, or counted by a broker.
        local fid = filter .. SEP .. hash
        if not adds[fid] and filter_has(filter, hash, filter_size(task)) == 0 then
          adds[fid] = true
          p.counted, p.filter = 1, true
        end
      end
      if p.counted == 1 then
        p.url, p.param = t[3], t[4]
      end
    end
  end
  if p.url and p.url ~= '' then
    local kind = p.kind == 2 and 't' or 'm'
    p.pid = app .. SEP .. kind .. id .. SEP .. reg
    p.receipt = table.concat({app, p.url, id, kind, reg, p.param or '', at}, SEP)
    if not parks[p.pid] and redis.call('HEXISTS', items, p.pid) == 0 then
      new = new + 1
    end
    parks[p.pid] = true
  end
  plan[i] = p
end
if new > 0 and redis.call('ZCARD', due) + new > tonumber(ARGV[3]) then
  return {-1}
end

local out = {}
for i = 0, n - 1 do
  local msg, queue, task, filter = KEYS[4 * i + 3], KEYS[4 * i + 4], KEYS[4 * i + 5], KEYS[4 * i + 6]
  local id, hash = ARGV[5 * i + 4], ARGV[5 * i + 7]
  local p = plan[i]
  redis.call('ZREM', queue, id)
  if p.deliver then
    redis.call('HSET', msg, 'status', 'delivered')
    redis.call('HSETNX', msg, 'deliveredAt', ARGV[1])
  elseif p.counted == 1 then
    if p.filter then
      filter_add(filter, task, hash, filter_size(task))
    end
    redis.call('HINCRBY', task, 'n:delivered', 1)
  end
  if p.receipt then
    redis.call('HSET', items, p.pid, p.receipt)
    redis.call('ZADD', due, ARGV[2], p.pid)
  end
  out[#out + 1] = p.kind
  out[#out + 1] = p.counted
  out[#out + 1] = p.receipt or false
end
return out
