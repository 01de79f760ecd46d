-- Applies a broker's count record of a broadcast: the devices (as 16-hex-digit hashes) that acked
-- it there. Each device new in the broadcast's ack filter adds one to the delivered counter, so a
-- replayed or resent record, or a device already counted (live elsewhere, per device after a
-- catch-up, on another broker), adds nothing.
-- KEYS: 1 task hash, 2 the task's ack filter. ARGV: 1 device hashes, concatenated.
-- Returns the acks added, or -1 when the task is unknown (never creates a key without a TTL).
-- filter_size / filter_add: ack-filter.lua, prepended.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local hashes = ARGV[1]
local m, k = filter_size(KEYS[1])
local added = 0
for at = 1, #hashes - 15, 16 do
  added = added + filter_add(KEYS[2], KEYS[1], string.sub(hashes, at, at + 15), m, k)
end
if added > 0 then
  redis.call('HINCRBY', KEYS[1], 'n:delivered', added)
end
return added
