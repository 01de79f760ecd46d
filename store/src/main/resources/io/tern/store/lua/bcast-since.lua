-- The app's logged broadcasts a device missed, oldest first: sequence after ARGV[1] and
-- broadcast strictly after ARGV[2] ms, skipping tasks that are gone, expired or recalled.
-- A device holding a sequence beyond the current one (the sequence was reset) gets the whole log.
-- Read only.
-- KEYS: 1 log zset, 2 sequence counter. ARGV: 1 afterSeq, 2 afterMillis, 3 now ms, 4 limit.
-- Returns a flat list: seq, taskId, kind, payload, expiresAt, ...
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local from = '(' .. ARGV[1]
if tonumber(ARGV[1]) > last then
  from = '-inf'
end
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES')
local afterMillis = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local out = {}
local n = 0
for i = 1, #entries, 2 do
  if n >= limit then
    break
  end
  local id = entries[i]
  local t = redis.call('HMGET', 'tern:task:' .. id, 'kind', 'payload', 'expires', 'state', 'bcastAt')
  if t[1] and t[4] ~= 'recalled' and tonumber(t[3]) > now and (tonumber(t[5]) or 0) > afterMillis then
    out[#out + 1] = entries[i + 1]
    out[#out + 1] = id
    out[#out + 1] = t[1]
    out[#out + 1] = t[2]
    out[#out + 1] = t[3]
    n = n + 1
  end
end
return out
