-- The app's logged broadcasts after sequence ARGV[1], oldest first: a device holding a sequence beyond the
-- current one (the sequence was reset) gets the whole log. Read only; the caller reads the tasks (their own
-- slots) and skips those gone, expired, recalled or broadcast too early.
-- KEYS: 1 log zset, 2 sequence counter. ARGV: 1 afterSeq.
-- Returns a flat list: seq, taskId, ...
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local from = '(' .. ARGV[1]
if tonumber(ARGV[1]) > last then
  from = '-inf'
end
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES')
local out = {}
for i = 1, #entries, 2 do
  out[#out + 1] = entries[i + 1]
  out[#out + 1] = entries[i]
end
return out
