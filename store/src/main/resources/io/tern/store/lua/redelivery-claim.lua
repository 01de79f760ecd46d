-- Claims the delivery checks of one shard that are due, for one sweeper: each claimed entry is pushed a lease
-- ahead, so no other sweeper takes it meanwhile, and comes due again if this one dies. Entries past their
-- last attempt are dropped (the message stays queued for its device's reconnect). Whether the message still
-- needs delivering is the sweeper's to read (the message lives in its device's slot).
-- KEYS: 1 shard zset, 2 the shard's attempts hash (msgId -> redeliveries so far)
-- ARGV: 1 now ms, 2 lease ms, 3 most entries, 4 most attempts
-- Returns a flat list: msgId, attempt (1 = first redelivery), ...; an attempt of -1 means the
-- entry gave up (removed) on this claim.
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(due) do
  local attempt = redis.call('HINCRBY', KEYS[2], id, 1)
  if attempt > tonumber(ARGV[4]) then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    attempt = -1
  else
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
  end
  out[#out + 1] = id
  out[#out + 1] = attempt
end
return out
