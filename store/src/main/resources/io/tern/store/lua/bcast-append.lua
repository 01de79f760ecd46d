-- Appends a task to the app's broadcast log under the next broadcast sequence number (step 2 of
-- BroadcastLog.append: the task's own slot was marked first, bcast-mark.lua). The log lives as long as its
-- longest-lived task; the sequence never expires (a restarted sequence would hide new broadcasts from devices
-- holding a higher one).
-- The log is cut to its length bound here (oldest first), so it holds at most that many entries once the sequence
-- number is handed out; dead entries among the rest are dropped later, off the broadcast's path (bcast-trim.lua).
-- KEYS: 1 sequence counter, 2 log zset. ARGV: 1 taskId, 2 task expiresAt ms, 3 now ms, 4 max length.
-- Returns {seq, the other logged taskIds...}: the caller reads their tasks to drop dead entries.
local seq = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
local want = tonumber(ARGV[2]) - tonumber(ARGV[3])
local ttl = redis.call('PTTL', KEYS[2])
if want > 0 and ttl < want then
  redis.call('PEXPIRE', KEYS[2], want)
end
local n = redis.call('ZCARD', KEYS[2])
local max = tonumber(ARGV[4])
if n > max then
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - max - 1)
end
local out = {seq}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if id ~= ARGV[1] then
    out[#out + 1] = id
  end
end
return out
