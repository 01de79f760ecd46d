-- The device's queued messages still worth delivering, oldest first; drops from the queue
-- what is gone, delivered or past its TTL (marking the latter expired).
-- KEYS: 1 device queue. ARGV: 1 now ms, 2 limit.
-- Returns a flat list: msgId, kind, payload, expiresAt, ...
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local now = tonumber(ARGV[1])
local out = {}
for _, id in ipairs(ids) do
  local key = 'tern:msg:' .. id
  local f = redis.call('HMGET', key, 'kind', 'payload', 'expires', 'status')
  if not f[1] or f[4] == 'delivered' or f[4] == 'expired' then
    redis.call('ZREM', KEYS[1], id)
  elseif tonumber(f[3]) <= now then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HSET', key, 'status', 'expired')
  else
    out[#out + 1] = id
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
    out[#out + 1] = f[3]
  end
end
return out
