-- The device's queued messages and tasks still worth delivering, oldest first; drops from the
-- queue what is gone, delivered, recalled or past its TTL (marking / counting the last expired).
-- KEYS: 1 device queue. ARGV: 1 now ms, 2 limit.
-- Returns a flat list: id, kind, payload, expiresAt, ...
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local now = tonumber(ARGV[1])
local out = {}
for _, id in ipairs(ids) do
  local key = 'tern:msg:' .. id
  local f = redis.call('HMGET', key, 'kind', 'payload', 'expires', 'status')
  if f[1] then
    if f[4] == 'delivered' or f[4] == 'expired' then
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
  else
    local task = 'tern:task:' .. id
    local t = redis.call('HMGET', task, 'kind', 'payload', 'expires', 'state')
    if not t[1] or t[4] == 'recalled' then
      redis.call('ZREM', KEYS[1], id)
    elseif tonumber(t[3]) <= now then
      redis.call('ZREM', KEYS[1], id)
      redis.call('HINCRBY', task, 'n:expired', 1)
    else
      out[#out + 1] = id
      out[#out + 1] = t[1]
      out[#out + 1] = t[2]
      out[#out + 1] = t[3]
    end
  end
end
return out
