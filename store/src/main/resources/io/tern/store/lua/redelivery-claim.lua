-- Claims the delivery checks that are due, for one sweeper: each claimed entry is pushed a lease
-- ahead, so no other sweeper takes it meanwhile, and comes due again if this one dies. Entries
-- whose message is gone, sent, delivered or expired are dropped; so are those past their last
-- attempt (the message stays queued for its device's reconnect).
-- KEYS: 1 redelivery due zset
-- ARGV: 1 now ms, 2 lease ms, 3 most entries, 4 most attempts
-- Returns a flat list: msgId, attempt (1 = first redelivery), ...; an attempt of -1 means the
-- entry gave up (removed) on this claim.
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(due) do
  local key = 'tern:msg:' .. id
  local status = redis.call('HGET', key, 'status')
  if status == 'accepted' or status == 'offline' then
    local attempt = redis.call('HINCRBY', key, 'redeliveries', 1)
    if attempt > tonumber(ARGV[4]) then
      redis.call('ZREM', KEYS[1], id)
      attempt = -1
    else
      redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
    end
    out[#out + 1] = id
    out[#out + 1] = attempt
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
