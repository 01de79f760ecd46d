-- A library, not a script: prepended to ack-task.lua (LuaScript.load's libraries).
-- The ack filter of a broadcast with a callback (those without one count through an exact set: CountedDevices.java):
-- a Bloom filter over device hashes (a bitmap, k probes by double hashing; size 'bf' = "m:k" in the task hash,
-- set when the broadcast starts). Adds the device; returns 1 when it was not in yet. A false positive (all k
-- bits already set by others) returns 0: a device may go uncounted, never counted twice. The bitmap lives as
-- long as the task hash.
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
