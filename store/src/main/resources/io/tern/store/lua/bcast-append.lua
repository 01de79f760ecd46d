-- Appends a task to the app's broadcast log under the next broadcast sequence number.
-- Drops entries whose task is gone, expired or recalled, then trims the log to its length
-- bound (oldest first). The log lives as long as its longest-lived task; the sequence never
-- expires (a restarted sequence would hide new broadcasts from devices holding a higher one).
-- KEYS: 1 sequence counter, 2 log zset, 3 task hash.
-- ARGV: 1 taskId, 2 task expiresAt ms, 3 now ms, 4 max length.
-- Returns the new sequence number, or -1 when the task does not exist.
if redis.call('EXISTS', KEYS[3]) == 0 then
  return -1
end
local seq = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
-- When it was broadcast (not created): catch-up by time compares with this.
redis.call('HSET', KEYS[3], 'bcastAt', ARGV[3], 'bcastSeq', seq)
local now = tonumber(ARGV[3])
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, id in ipairs(ids) do
  if id ~= ARGV[1] then
    local t = redis.call('HMGET', 'tern:task:' .. id, 'expires', 'state')
    if not t[1] or tonumber(t[1]) <= now or t[2] == 'recalled' then
      redis.call('ZREM', KEYS[2], id)
    end
  end
end
local n = redis.call('ZCARD', KEYS[2])
local max = tonumber(ARGV[4])
if n > max then
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - max - 1)
end
local want = tonumber(ARGV[2]) - now
local ttl = redis.call('PTTL', KEYS[2])
if want > 0 and ttl < want then
  redis.call('PEXPIRE', KEYS[2], want)
end
return seq
