-- Applies a broker's count record of a broadcast: the devices that acked it there. Each device new in the
-- broadcast's ack filter adds one to the delivered counter, so a replayed or resent record, or a device already
-- counted (live elsewhere, per device after a catch-up, on another broker), adds nothing.
-- The caller computed each device's k bit positions for the filter size it read (AckFilter.java, the same bits as
-- filter_add): they are set with BITFIELD, a few calls a record instead of k SETBITs a device, and a device is
-- new when any of its bits was 0 (as filter_add decides).
-- KEYS: 1 task hash, 2 the task's ack filter. ARGV: 1 the filter size "m:k" the positions are for, 2 the
-- positions, k per device, as decimal numbers separated by one space (one argument: the caller writes one string
-- instead of ~1,000 arguments a record, and each position reaches BITFIELD as the string it already is).
-- Returns the acks added, -1 when the task is unknown (never creates a key without a TTL), -2 when the filter's
-- size is not ARGV[1] (the caller read it before the task was marked: read it again).
-- filter_size: ack-filter.lua, prepended.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local m, k = filter_size(KEYS[1])
if ARGV[1] ~= m .. ':' .. k then
  return -2
end
-- Every position first, so that a wrong count refuses the record before a bit is set; a malformed number is
-- refused by BITFIELD itself, which checks all its offsets before it sets any (one call for a record of 256
-- devices at k <= 7).
local args, n = {}, 0
for p in string.gmatch(ARGV[2], '%S+') do
  -- '1', not 1: redis.call formats a Lua number into a string on every call (a third of the cost, measured)
  args[n + 1], args[n + 2], args[n + 3], args[n + 4] = 'SET', 'u1', p, '1'
  n = n + 4
end
if n == 0 or (n / 4) % k ~= 0 then
  return redis.error_reply('positions are not k per device')
end
-- Positions per BITFIELD: 4 arguments each, under Lua's unpack limit (8000).
local CHUNK = 4 * 1900
local added, fresh, probe = 0, 0, 0
for from = 1, n, CHUNK do
  local old = redis.call('BITFIELD', KEYS[2], unpack(args, from, math.min(from + CHUNK - 1, n)))
  for j = 1, #old do
    if old[j] == 0 then
      fresh = 1
    end
    probe = probe + 1
    if probe == k then
      added, fresh, probe = added + fresh, 0, 0
    end
  end
end
if added > 0 then
  redis.call('HINCRBY', KEYS[1], 'n:delivered', added)
  if redis.call('PTTL', KEYS[2]) < 0 then
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl > 0 then
      redis.call('PEXPIRE', KEYS[2], ttl)
    end
  end
end
return added
