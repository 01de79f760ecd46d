-- Applies a broker's count record of a broadcast: the devices (as 16-hex-digit hashes) that acked
-- it there. Each device new in the broadcast's ack filter adds one to the delivered counter, so a
-- replayed or resent record, or a device already counted (live elsewhere, per device after a
-- catch-up, on another broker), adds nothing.
-- KEYS: 1 task hash, 2 the task's ack filter. ARGV: 1 device hashes, concatenated.
-- Returns the acks added, or -1 when the task is unknown (never creates a key without a TTL).
-- The broadcast's ack filter: a Bloom filter over device hashes (a bitmap, k probes by double
-- hashing; size 'bf' = "m:k" in the task hash, set when the broadcast starts). Adds the device;
-- returns 1 when it was not in yet. A false positive (all k bits already set by others) returns 0:
-- a device may go uncounted, never counted twice. The bitmap lives as long as the task hash.
local function filter_size(task)
  local bf = redis.call('HGET', task, 'bf')
  if bf then
    local m, k = string.match(bf, '^(%d+):(%d+)$')
    return tonumber(m), tonumber(k)
  end
  return 8388608, 7 -- a broadcast marked before filters were sized: 1 MiB
end
local function filter_add(filter, task, hex, m, k)
  local h1 = tonumber(string.sub(hex, 1, 8), 16)
  local h2 = tonumber(string.sub(hex, 9, 16), 16)
  h2 = h2 - (h2 % 2) + 1 -- odd: the k probes never collapse onto one bit
  local new = 0
  for i = 0, k - 1 do
    if redis.call('SETBIT', filter, (h1 + i * h2) % m, 1) == 0 then
      new = 1
    end
  end
  if new == 1 and redis.call('PTTL', filter) < 0 then
    local ttl = redis.call('PTTL', task)
    if ttl > 0 then
      redis.call('PEXPIRE', filter, ttl)
    end
  end
  return new
end
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
