-- Records a new single-push message and queues it for its device, atomically, so nothing
-- accepted depends on a later step succeeding. Honours the app's requestId (idempotency, per device) and
-- returns the device's route in the same round trip. Every key is the device's (one slot).
-- In the same flush, outside this script: the msgId pointer (GET by msgId) and the delivery check
-- (redelivery-add.lua), taken back by the caller when this accept is a repeat or its device has no route.
-- KEYS: 1 idempotency key, 2 message hash, 3 device queue, 4 route, 5 device (known) key
-- ARGV: 1 msgId, 2 appId, 3 regId, 4 kind, 5 payload, 6 createdAt, 7 expiresAt,
--       8 retentionMs, 9 queueMax, 10 queueTtlMs, 11 idempotencyTtlMs, 12 requestId ('' = none),
--       13 callback URL ('' = none), 14 callback param
-- Returns {created 0|1, msgId, route or false, the oldest queue entries beyond queueMax...}, or {-1} when the
-- device never connected. The entries beyond the bound stay queued until the caller evicts them
-- (queue-evict.lua with their message keys): a crash in between leaves the queue a few over its bound, and
-- the device's next accept evicts them again.
-- A device without a route is offline: its message is recorded as such, with no second call.
-- A message recorded 'queued' (message-queue.lua) under this msgId is promoted: recorded as here and queued
-- for its device (created 1, once); any other existing message under it is a repeat (created 0), which is
-- what makes draining one buffer record twice deliver it once.
if ARGV[12] ~= '' then
  local existing = redis.call('GET', KEYS[1])
  if existing and existing ~= ARGV[1] then
    return {0, existing, redis.call('GET', KEYS[4])}
  end
end
local prior = redis.call('HGET', KEYS[2], 'status')
if prior and prior ~= 'queued' then
  return {0, ARGV[1], redis.call('GET', KEYS[4])}
end
if redis.call('EXISTS', KEYS[5]) == 0 then
  return {-1}
end
local route = redis.call('GET', KEYS[4])
redis.call('HSET', KEYS[2], 'app', ARGV[2], 'reg', ARGV[3], 'kind', ARGV[4], 'payload', ARGV[5],
  'created', ARGV[6], 'expires', ARGV[7], 'status', route and 'accepted' or 'offline', 'req', ARGV[12])
if ARGV[13] ~= '' then
  redis.call('HSET', KEYS[2], 'cbUrl', ARGV[13], 'cbParam', ARGV[14])
end
redis.call('PEXPIREAT', KEYS[2], tonumber(ARGV[7]) + tonumber(ARGV[8]))
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[10])
if ARGV[12] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[11])
end
local out = {1, ARGV[1], route}
local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[9])
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, over - 1)) do
    out[#out + 1] = id
  end
end
return out
