-- The single-push messages among a device's queued ids (read by the caller with ZRANGE) still worth
-- delivering; drops from the queue what is delivered, expired or past its TTL (marking the last expired).
-- Ids without a message hash here are task copies (or gone): left alone for the caller, which reads their
-- tasks in the same flush (another slot).
-- KEYS: 1 device queue, then the message hash of each id (same order). ARGV: 1 now ms, then the ids.
-- Returns, per id in order, kind, payload, expiresAt (false, false, false: not a live message: a task
-- copy when the second is 't', else dropped).
local now = tonumber(ARGV[1])
local out = {}
for i = 2, #ARGV do
  local id, key = ARGV[i], KEYS[i]
  local f = redis.call('HMGET', key, 'kind', 'payload', 'expires', 'status')
  local live = false
  if f[1] then
    if f[4] == 'delivered' or f[4] == 'expired' then
      redis.call('ZREM', KEYS[1], id)
    elseif tonumber(f[3]) <= now then
      redis.call('ZREM', KEYS[1], id)
      redis.call('HSET', key, 'status', 'expired')
    else
      live = true
    end
  end
  if live then
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
    out[#out + 1] = f[3]
  else
    out[#out + 1] = false
    if f[1] then
      out[#out + 1] = false
    else
      out[#out + 1] = 't'
    end
    out[#out + 1] = false
  end
end
return out
