-- Counts devices' acks of a broadcast without a callback exactly once (CountedDevices.java): the broadcast's
-- counted devices are its set string, 8 bytes (a DeviceHash, big-endian) a device, appended to and never rewritten.
-- The caller holds the set as it read it up to some length and sends only the devices new to it; they are
-- appended, and counted, only if the string still has that length. Otherwise another node (a rebalance, a
-- per-device ack read elsewhere) or a lost key changed it: the caller reads what it missed and tries again.
-- So no device is counted twice, whoever applies it and however often a record is replayed.
-- KEYS: 1 task hash, 2 the set string. ARGV: 1 the length the caller's set was built from, 2 the new devices'
-- hashes (one argument, raw bytes: no per-device argument to encode or parse).
-- Returns the string's new length; -1 when the task is unknown (never creates a key without a TTL); -2 - length
-- when the string's length is not ARGV[1].
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local len = redis.call('STRLEN', KEYS[2])
if len ~= tonumber(ARGV[1]) then
  return -2 - len
end
local n = #ARGV[2] / 8
if n < 1 or n % 1 ~= 0 then
  return redis.error_reply('device hashes are not 8 bytes each')
end
local after = redis.call('APPEND', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'n:delivered', n)
if redis.call('PTTL', KEYS[2]) < 0 then
  -- The set lives as long as the task hash (as the ack filter does: ack-filter.lua).
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
return after
